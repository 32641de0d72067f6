"""National Quality Award documents: the council's scoring sheet of one applicant, the letter to
the applicant (recommended or not, with the council's feedback per criterion), and the
recommendation list of a round for the national council (.docx here; .xlsx in award_reports).

The builders read the aggregation the model computed (``aggregation`` in the process data) and
the members' names (``extra["member_names"]``, given by :func:`extra_values` when issued).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session

from workflows.documents import (
    Block,
    DocumentBody,
    DocumentContext,
    Grid,
    Para,
    Span,
    agency_in_text,
    document_kind,
)
from workflows.documents.templating import Variable, template_kind
from workflows.documents.text import legal_basis_line
from workflows.procedures.award.criteria import criteria_of_aggregation
from workflows.procedures.award.scoring import RECOMMENDATIONS_VI

# What a document issued for no dossier (the round's recommendation list) cites; a dossier's
# documents cite the legal basis of the version of the rules the dossier follows.
AWARD_BASIS = (
    "Căn cứ Luật Chất lượng sản phẩm, hàng hóa năm 2007; Thông tư số 27/2019/TT-BKHCN quy định về "
    "Giải thưởng Chất lượng Quốc gia"
)


AWARD_KINDS = frozenset({"award_scoring_sheet", "award_letter"})


def points(value: Any) -> str:
    """A score as people write it: 65 → "65", 65.5 → "65,5" (Vietnamese decimal comma)."""
    if value is None or value == "":
        return "—"
    number = float(value)
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _aggregation(data: dict) -> dict:
    aggregation = (data or {}).get("aggregation")
    if not isinstance(aggregation, dict) or not aggregation.get("scored_count"):
        raise ValueError("award documents need data['aggregation'] with at least one scored sheet")
    return aggregation


def _recommendation(data: dict) -> str:
    return str(data.get("final_recommendation") or data.get("recommendation") or "not_recommended")


def member_label(names: dict, member_id: str, index: int) -> str:
    name = str(names.get(str(member_id)) or "").strip()
    return f"{index}. {name}" if name else f"{index}. Thành viên #{member_id}"


def extra_values(session: Session, data: dict) -> dict[str, Any]:
    """The members' names for the scoring sheet (the process data knows their ids only)."""
    from workflows.procedures.award.rounds import names_of  # the rounds module imports this one's registry

    ids = list((data or {}).get("council_member_ids") or [])
    return {"member_names": names_of(session, ids)}


TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"
# What the check's sample context holds (workflows.documents.samples): a council's aggregation.
SAMPLE_DATA: dict[str, Any] = {
    "award_year": 2026,
    "final_recommendation": "recommended",
    "leader_note": "Đề nghị tiếp tục duy trì hệ thống quản lý.",
    "aggregation": {
        "scored_count": 2,
        "scored_members": ["1", "2"],
        "criteria_list": [
            {
                "key": "leadership",
                "number": 1,
                "name_vi": "Vai trò của lãnh đạo",
                "name_en": "Leadership",
                "maximum": 120,
            },
            {
                "key": "results",
                "number": 2,
                "name_vi": "Kết quả hoạt động",
                "name_en": "Results",
                "maximum": 400,
            },
        ],
        "criteria": {
            "leadership": {
                "maximum": 120,
                "mean": 95.5,
                "spread": 7,
                "stdev": 3.5,
                "by_member": {"1": 92, "2": 99},
                "comments": ["Lãnh đạo cam kết rõ ràng", "Cần đo lường mục tiêu"],
            },
            "results": {
                "maximum": 400,
                "mean": 300,
                "spread": 20,
                "stdev": 10,
                "by_member": {"1": 290, "2": 310},
            },
        },
        "total": {"maximum": 520, "mean": 395.5, "spread": 27, "stdev": 13.5},
    },
}


@template_kind(
    "award_scoring_sheet",
    Variable("basis_line", "Dòng căn cứ pháp lý: «Căn cứ Luật …»", "The legal basis line"),
    Variable("award_year", "Năm giải thưởng (có thể trống)", "The award's year (may be empty)"),
    Variable(
        "summary",
        "Tổng hợp theo tiêu chí: mỗi dòng có number, name, maximum, mean, spread, stdev",
        "The summary by criterion: number, name, maximum, mean, spread, stdev",
    ),
    Variable("total", "Dòng tổng cộng: maximum, mean, spread, stdev", "The total row"),
    Variable(
        "criteria",
        "Từng tiêu chí: number, name, maximum, mean, spread, members (label, score)",
        "Each criterion: number, name, maximum, mean, spread, members (label, score)",
    ),
    Variable("member_totals", "Tổng điểm của từng thành viên: label, total", "Each member's total"),
    Variable(
        "missing_names",
        "Thành viên không chấm điểm đúng hạn (có thể trống)",
        "Members who did not score in time",
    ),
    Variable(
        "site_visit_date", "Ngày đánh giá tại cơ sở (có thể trống)", "The site visit's day (may be empty)"
    ),
    Variable(
        "site_visit_confirmed",
        "Đánh giá tại cơ sở xác nhận kết quả (đúng/sai)",
        "Whether the visit confirmed",
    ),
    Variable("conclusion", "Kết luận của Hội đồng", "The council's conclusion"),
    directory=TEMPLATES,
    sample_data={**SAMPLE_DATA, "site_visit_date": "2026-11-10", "site_visit_confirmed": True},
    sample_extra={"member_names": {"1": "Nguyễn Văn Một"}},
)
def award_scoring_sheet_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    aggregation = _aggregation(data)
    names = dict(ctx.extra.get("member_names") or {})
    scored = [str(m) for m in aggregation.get("scored_members") or []]
    labels = {m: member_label(names, m, i) for i, m in enumerate(scored, start=1)}
    summary, criteria = [], []
    for criterion in criteria_of_aggregation(aggregation):
        stats = aggregation["criteria"][criterion.key]
        by_member = stats.get("by_member") or {}
        row = {
            "number": str(criterion.number),
            "name": criterion.name_vi,
            "maximum": str(criterion.maximum),
            "mean": points(stats.get("mean")),
            "spread": points(stats.get("spread")),
            "stdev": points(stats.get("stdev")),
        }
        summary.append(row)
        criteria.append(
            {**row, "members": [{"label": labels[m], "score": points(by_member.get(m))} for m in scored]}
        )
    total = aggregation["total"]
    by_member_total = total.get("by_member") or {}
    missing = [str(m) for m in aggregation.get("missing_members") or []]
    year = data.get("award_year")
    recommendation = _recommendation(data)
    return {
        "basis_line": legal_basis_line(ctx, AWARD_BASIS),
        "award_year": str(year) if year else "",
        "summary": summary,
        "total": {
            "maximum": str(total.get("maximum") or ""),
            "mean": points(total.get("mean")),
            "spread": points(total.get("spread")),
            "stdev": points(total.get("stdev")),
        },
        "criteria": criteria,
        "member_totals": [{"label": labels[m], "total": points(by_member_total.get(m))} for m in scored],
        "missing_names": "; ".join(str(names.get(m) or f"Thành viên #{m}") for m in missing),
        "site_visit_date": _vn(data.get("site_visit_date")) if data.get("site_visit_date") else "",
        "site_visit_confirmed": bool(data.get("site_visit_confirmed")),
        "conclusion": RECOMMENDATIONS_VI.get(recommendation, recommendation),
    }


@document_kind(
    "award_scoring_sheet",
    title_vi="Phiếu tổng hợp điểm Giải thưởng Chất lượng Quốc gia",
    title_en="National Quality Award scoring sheet",
    symbol="PĐ",
)
def award_scoring_sheet(ctx: DocumentContext) -> DocumentBody:
    values = award_scoring_sheet_values(ctx)
    year = values["award_year"]
    blocks: list[Block] = [
        Para((f"{values['basis_line']};",)),
        Para(
            (
                f"Hội đồng sơ tuyển Giải thưởng Chất lượng Quốc gia{f' năm {year}' if year else ''} tổng hợp "
                "điểm chấm của các thành viên đối với ",
                Span(str(ctx.applicant_name), bold=True),
                f" (mã hồ sơ {ctx.dossier_code}) như sau:",
            )
        ),
    ]
    summary_rows = [
        (row["number"], row["name"], row["maximum"], row["mean"], row["spread"], row["stdev"])
        for row in values["summary"]
    ]
    total = values["total"]
    summary_rows.append(("", "Tổng cộng", total["maximum"], total["mean"], total["spread"], total["stdev"]))
    blocks.append(Para((Span("I. Tổng hợp theo tiêu chí", bold=True),), align="left", indent=False))
    blocks.append(
        Grid(
            header=(
                "TT",
                "Tiêu chí",
                "Điểm tối đa",
                "Điểm trung bình",
                "Độ lệch (cao − thấp)",
                "Độ lệch chuẩn",
            ),
            rows=tuple(summary_rows),
            widths_mm=(10, 60, 22, 25, 26, 22),
        )
    )
    blocks.append(
        Para((Span("II. Điểm của từng thành viên theo tiêu chí", bold=True),), align="left", indent=False)
    )
    for criterion in values["criteria"]:
        rows = [(m["label"], m["score"]) for m in criterion["members"]]
        rows += [
            ("Điểm trung bình", criterion["mean"]),
            ("Độ lệch (cao nhất − thấp nhất)", criterion["spread"]),
            ("Điểm tối đa", criterion["maximum"]),
        ]
        blocks.append(
            Para(
                (
                    Span(
                        f"Tiêu chí {criterion['number']}. {criterion['name']} (tối đa {criterion['maximum']} điểm)",
                        bold=True,
                    ),
                ),
                align="left",
                indent=False,
            )
        )
        blocks.append(Grid(header=("Thành viên Hội đồng", "Điểm"), rows=tuple(rows), widths_mm=(120, 45)))
    blocks.append(Para((Span("III. Tổng điểm của từng thành viên", bold=True),), align="left", indent=False))
    blocks.append(
        Grid(
            header=("Thành viên Hội đồng", "Tổng điểm"),
            rows=tuple((m["label"], m["total"]) for m in values["member_totals"]),
            widths_mm=(120, 45),
        )
    )
    if values["missing_names"]:
        blocks.append(Para((f"Thành viên không chấm điểm đúng hạn: {values['missing_names']}.",)))
    if values["site_visit_date"]:
        confirmed = "xác nhận" if values["site_visit_confirmed"] else "không xác nhận"
        blocks.append(
            Para(
                (
                    f"Đánh giá tại cơ sở ngày {values['site_visit_date']}: {confirmed} kết quả tự đánh giá "
                    "của tổ chức.",
                )
            )
        )
    blocks.append(Para(("Kết luận của Hội đồng: ", Span(values["conclusion"], bold=True), "./.")))
    return DocumentBody(
        heading="PHIẾU TỔNG HỢP ĐIỂM",
        subject="Giải thưởng Chất lượng Quốc gia",
        blocks=tuple(blocks),
        recipients=("Hội đồng sơ tuyển", "Lưu: VT, TĐC"),
    )


def _vn(value: Any) -> str:
    text = str(value or "")
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return text


@template_kind(
    "award_letter",
    Variable("basis_line", "Dòng căn cứ pháp lý: «Căn cứ Luật …»", "The legal basis line"),
    Variable("award_year", "Năm giải thưởng (có thể trống)", "The award's year (may be empty)"),
    Variable("total_mean", "Tổng điểm trung bình: «395,5»", "The mean total score"),
    Variable("total_maximum", "Tổng điểm tối đa", "The maximum total score"),
    Variable(
        "recommendation",
        "Đề xuất: «not_recommended», «recommended» hoặc «gold_candidate»",
        "The recommendation: not_recommended, recommended or gold_candidate",
    ),
    Variable(
        "criteria",
        "Các tiêu chí: mỗi tiêu chí có number, name, score («95,5/120»), comments",
        "The criteria: each with number, name, score, comments",
    ),
    Variable("note", "Ý kiến của Sở (có thể trống)", "The department's remark (may be empty)"),
    directory=TEMPLATES,
    sample_data=SAMPLE_DATA,
)
def award_letter_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    aggregation = _aggregation(data)
    total = aggregation["total"]
    criteria = []
    for criterion in criteria_of_aggregation(aggregation):
        stats = aggregation["criteria"][criterion.key]
        criteria.append(
            {
                "number": str(criterion.number),
                "name": criterion.name_vi,
                "score": f"{points(stats.get('mean'))}/{criterion.maximum}",
                "comments": "\n".join(f"- {c}" for c in stats.get("comments") or []) or "—",
            }
        )
    year = data.get("award_year")
    return {
        "basis_line": legal_basis_line(ctx, AWARD_BASIS),
        "award_year": str(year) if year else "",
        "total_mean": points(total.get("mean")),
        "total_maximum": f"{total.get('maximum')}",
        "recommendation": _recommendation(data),
        "criteria": criteria,
        "note": str(data.get("leader_note") or "").strip(),
    }


@document_kind(
    "award_letter",
    title_vi="Thông báo kết quả sơ tuyển Giải thưởng Chất lượng Quốc gia",
    title_en="Letter on the National Quality Award preliminary assessment",
    symbol="TB",
)
def award_letter(ctx: DocumentContext) -> DocumentBody:
    values = award_letter_values(ctx)
    agency = agency_in_text(ctx.agency_name)
    year = values["award_year"]
    recommendation = values["recommendation"]
    blocks: list[Block] = [
        Para((f"{values['basis_line']};",)),
        Para(
            (
                f"{agency} thông báo kết quả sơ tuyển Giải thưởng Chất lượng Quốc gia"
                f"{f' năm {year}' if year else ''} của ",
                Span(str(ctx.applicant_name), bold=True),
                f" (mã hồ sơ {ctx.dossier_code}) như sau:",
            )
        ),
        Para(
            (
                "Tổng điểm trung bình của Hội đồng sơ tuyển: ",
                Span(f"{values['total_mean']}/{values['total_maximum']} điểm", bold=True),
                ".",
            )
        ),
    ]
    if recommendation == "not_recommended":
        blocks.append(
            Para(
                (
                    "Kết quả: ",
                    Span(
                        "Hồ sơ chưa đủ điều kiện để đề xuất lên Hội đồng Giải thưởng Chất lượng Quốc gia",
                        bold=True,
                    ),
                    ". Tổ chức có thể tham khảo các nhận xét dưới đây để cải tiến và đăng ký tham dự các năm sau.",
                )
            )
        )
    else:
        blocks.append(
            Para(
                (
                    "Kết quả: ",
                    Span(
                        "Hồ sơ được đề xuất lên Hội đồng Giải thưởng Chất lượng Quốc gia"
                        + (
                            " xét Giải Vàng Chất lượng Quốc gia" if recommendation == "gold_candidate" else ""
                        ),
                        bold=True,
                    ),
                    ".",
                )
            )
        )
    blocks.append(Para(("Nhận xét của Hội đồng theo từng tiêu chí:",)))
    blocks.append(
        Grid(
            header=("TT", "Tiêu chí", "Điểm trung bình", "Nhận xét"),
            rows=tuple((c["number"], c["name"], c["score"], c["comments"]) for c in values["criteria"]),
            widths_mm=(10, 45, 25, 85),
        )
    )
    note = values["note"]
    if note:
        blocks.append(Para((f"Ý kiến của Sở: {note}",)))
    blocks.append(Para((f"Mọi thắc mắc xin liên hệ {agency} để được giải đáp./.",)))
    return DocumentBody(
        heading="THÔNG BÁO",
        subject="Kết quả sơ tuyển Giải thưởng Chất lượng Quốc gia",
        blocks=tuple(blocks),
        recipients=(str(ctx.applicant_name), "Lưu: VT, TĐC"),
    )


@template_kind(
    "award_recommendation_list",
    Variable("year", "Năm của đợt xét", "The round's year"),
    Variable(
        "recommended",
        "Các tổ chức được đề xuất: name (tên và lĩnh vực), code, total_mean, total_spread, recommendation",
        "The applicants recommended: name, code, total_mean, total_spread, recommendation",
    ),
    Variable(
        "others_count", "Số tổ chức đã chấm điểm nhưng không đề xuất", "How many were scored, not recommended"
    ),
    directory=TEMPLATES,
    sample_extra={
        "year": 2026,
        "rows": [
            {
                "code": "000.00.15.H50-261001-0003",
                "applicant_name": "Công ty TNHH Vật liệu Miền Trung",
                "sector": "Sản xuất vật liệu xây dựng",
                "total_mean": 712.5,
                "total_spread": 40,
                "recommendation": "gold_candidate",
            },
            {
                "code": "000.00.15.H50-261001-0004",
                "applicant_name": "Hợp tác xã Nông sản Cam Lộ",
                "sector": "",
                "total_mean": 410,
                "total_spread": 25,
                "recommendation": "not_recommended",
            },
        ],
    },
)
def award_recommendation_list_values(ctx: DocumentContext) -> dict[str, Any]:
    rows = list(ctx.extra.get("rows") or [])
    return {
        "year": f"{ctx.extra.get('year')}",
        "recommended": [
            {
                "name": f"{r['applicant_name']}\n{r['sector']}".strip(),
                "code": r["code"],
                "total_mean": points(r["total_mean"]),
                "total_spread": points(r["total_spread"]),
                "recommendation": RECOMMENDATIONS_VI.get(r["recommendation"], r["recommendation"]),
            }
            for r in rows
            if r["recommendation"] != "not_recommended"
        ],
        "others_count": sum(1 for r in rows if r["recommendation"] == "not_recommended"),
    }


@document_kind(
    "award_recommendation_list",
    title_vi="Danh sách đề xuất Giải thưởng Chất lượng Quốc gia",
    title_en="Recommendation list for the national council",
    symbol="TTr",
)
def award_recommendation_list(ctx: DocumentContext) -> DocumentBody:
    """``extra["rows"]``: the round's assessed applicants (see award_reports.recommendation_rows)."""
    values = award_recommendation_list_values(ctx)
    year = values["year"]
    agency = agency_in_text(ctx.agency_name)
    recommended = values["recommended"]
    blocks: list[Block] = [
        Para((f"{AWARD_BASIS};",)),
        Para(
            (
                f"Căn cứ kết quả chấm điểm và đánh giá tại cơ sở của Hội đồng sơ tuyển năm {year}, {agency} "
                f"đề xuất Hội đồng Giải thưởng Chất lượng Quốc gia xem xét {len(recommended)} tổ chức, doanh nghiệp "
                "sau:",
            )
        ),
    ]
    if recommended:
        blocks.append(
            Grid(
                header=("TT", "Tổ chức, doanh nghiệp", "Mã hồ sơ", "Tổng điểm TB", "Độ lệch", "Đề xuất"),
                rows=tuple(
                    (str(i), r["name"], r["code"], r["total_mean"], r["total_spread"], r["recommendation"])
                    for i, r in enumerate(recommended, start=1)
                ),
                widths_mm=(10, 52, 33, 20, 17, 33),
            )
        )
    else:
        blocks.append(Para(("Không có tổ chức, doanh nghiệp nào đạt ngưỡng điểm đề xuất.",)))
    if values["others_count"]:
        blocks.append(
            Para((f"Các tổ chức đã được chấm điểm nhưng không đề xuất: {values['others_count']}.",))
        )
    blocks.append(
        Para(("Kèm theo: phiếu tổng hợp điểm và báo cáo tự đánh giá của từng tổ chức được đề xuất./.",))
    )
    return DocumentBody(
        heading="DANH SÁCH",
        subject=f"Tổ chức, doanh nghiệp đề xuất xét Giải thưởng Chất lượng Quốc gia năm {year}",
        blocks=tuple(blocks),
        recipients=("Hội đồng Giải thưởng Chất lượng Quốc gia", "Lưu: VT, TĐC"),
    )
