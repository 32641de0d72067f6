"""The campaign's report (báo cáo kết quả kiểm tra nhà nước về đo lường): the plan, the sites
visited, every finding and how each violation was handled, with counts; issued by the leader
through the documents machinery like every procedure's result."""

from __future__ import annotations

from typing import Any

from workflows.context import CommandContext
from workflows.documents.model import Block, DocumentBody, DocumentContext, Grid, Para, Span, document_kind
from workflows.documents.text import agency_in_text, as_text, date_vn, ended
from workflows.dossier_documents import issue_document
from workflows.personal_signing import hold_for_signer
from workflows.procedures.metrology_campaign.findings import (
    ACTION_LABELS,
    RESULT_LABELS,
    counts_of,
    findings_of,
)

REPORT = "metrology_campaign_report"


def report_values(ctx: CommandContext) -> dict[str, Any]:
    """What the report prints besides the plan: the findings and their counts, as plain values
    (the document's content is fixed in the command's transaction)."""
    assert ctx.dossier.id is not None
    rows = findings_of(ctx.session, ctx.dossier.id)
    counts = counts_of(rows)
    return {
        "counts": {
            "sites": counts.sites,
            "findings": counts.findings,
            "compliant": counts.compliant,
            "violations": counts.violations,
            "handled": counts.handled,
            "warnings": counts.warnings,
        },
        "findings": [
            {
                "site_no": r.site_no,
                "site": f"{r.site_owner}, {r.site_address}",
                "visited_on": r.visited_on.isoformat(),
                "instrument": " ".join(x for x in (r.kind, r.model, r.serial_number) if x)
                + ("" if r.instrument_id else " (chưa có trong CSDL)"),
                "stamp": r.stamp_number,
                "result": RESULT_LABELS.get(r.result, (r.result, r.result))[0],
                "note": r.note,
                "action": ACTION_LABELS[r.action][0] if r.action else "",
                "action_due": r.action_due.isoformat() if r.action_due else "",
                "action_note": r.action_note,
            }
            for r in rows
        ],
    }


def issue_report(ctx: CommandContext, params: dict[str, Any]) -> None:
    """Operator ``campaign_issue_report``: the report, numbered and verifiable, signed by the
    leader who approved it (held for their personal signature when they sign in person)."""
    document = issue_document(ctx, REPORT, report_values(ctx))
    hold_for_signer(ctx.session, document, ctx.actor, ctx.at)


def _findings_grid(findings: list[dict[str, Any]]) -> Grid:
    return Grid(
        header=("Cơ sở", "Phương tiện đo", "Số tem", "Kết quả", "Biện pháp xử lý"),
        rows=tuple(
            (
                f"{f['site_no']}. {f['site']} ({date_vn(f['visited_on'])})",
                as_text(f["instrument"]),
                as_text(f["stamp"]),
                " — ".join(x for x in (as_text(f["result"]), as_text(f["note"])) if x),
                " — ".join(
                    x
                    for x in (
                        as_text(f["action"]),
                        f"hạn {date_vn(f['action_due'])}" if f.get("action_due") else "",
                        as_text(f["action_note"]),
                    )
                    if x
                ),
            )
            for f in findings
        ),
        widths_mm=(45, 40, 22, 38, 40),
    )


@document_kind(
    REPORT,
    title_vi="Báo cáo kết quả kiểm tra về đo lường",
    title_en="Report of a metrology inspection campaign",
    symbol="BC",
)
def campaign_report(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    plan = data.get("plan") or {}
    extra = ctx.extra
    counts = dict(extra.get("counts") or {})
    findings = list(extra.get("findings") or [])
    agency = agency_in_text(ctx.agency_name)
    blocks: list[Block] = [
        Para(
            (
                f"Thực hiện kế hoạch kiểm tra «{as_text(plan.get('title'))}» (mã ",
                Span(as_text(ctx.dossier_code), bold=True),
                f"), từ ngày {date_vn(plan.get('period_from'))} đến ngày {date_vn(plan.get('period_to'))}, "
                f"{agency} báo cáo kết quả kiểm tra phương tiện đo như sau.",
            )
        ),
        Para(("Căn cứ: ", as_text(plan.get("legal_basis")), ".")),
        Para(("Địa bàn: ", ", ".join(as_text(a) for a in plan.get("areas") or []), ".")),
        Para(("Đoàn kiểm tra: ", ", ".join(as_text(m) for m in plan.get("team") or []), ".")),
        Para(
            (
                Span("Tổng hợp: ", bold=True),
                f"{counts.get('sites', 0)} cơ sở được kiểm tra; {counts.get('findings', 0)} phương tiện đo; "
                f"{counts.get('compliant', 0)} đạt yêu cầu; {counts.get('violations', 0)} vi phạm, "
                f"đã quyết định biện pháp xử lý {counts.get('handled', 0)}; "
                f"{counts.get('warnings', 0)} cảnh báo vi phạm trong cơ sở dữ liệu đo lường.",
            )
        ),
    ]
    if findings:
        blocks.append(_findings_grid(findings))
    conclusions = as_text(data.get("conclusions"))
    if conclusions:
        blocks.append(Para((Span("Kết luận, kiến nghị: ", bold=True), conclusions)))
    return DocumentBody(
        heading="BÁO CÁO",
        subject="Kết quả kiểm tra nhà nước về đo lường",
        blocks=ended(blocks),
        recipients=("Thanh tra Sở (để phối hợp xử lý)", "Lưu: VT, TĐC"),
    )
