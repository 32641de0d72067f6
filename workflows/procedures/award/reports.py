"""A round's applicants as the council and the national council read them: one row per dossier
(scores once aggregated, the recommendation once decided), the recommendation list as .docx
(official layout, a draft for the leader to sign: no number yet) and as .xlsx (openpyxl).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlmodel import Session

from workflows.clock import now, to_local
from workflows.config import Settings
from workflows.db import reading
from workflows.documents import DocumentContext, render_document
from workflows.documents.issuing import authority_of
from workflows.documents.template_versions import render_in_force
from workflows.models import User
from workflows.procedures.award.criteria import Criterion, criteria_of_aggregation, rules_of
from workflows.procedures.award.documents import points
from workflows.procedures.award.privacy import is_sealed
from workflows.procedures.award.rounds import AWARD_PROCEDURE, AwardRound, get_round, round_dossiers
from workflows.procedures.award.scoring import RECOMMENDATIONS_EN, RECOMMENDATIONS_VI

if TYPE_CHECKING:
    from workflows.runtime import Runtime

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA_TYPES = {"docx": DOCX, "xlsx": XLSX, "pdf": "application/pdf"}
HEADER_ROW = 4  # title vi, title en, number (or "draft"), then the column headings


@dataclass(frozen=True)
class RoundEntry:
    """One dossier of the round, with what may be shown of its scores."""

    code: str
    applicant_name: str
    sector: str
    status: str
    scored_count: int | None
    member_count: int
    total_mean: float | None
    total_spread: float | None
    criteria_means: dict[str, float]
    recommendation: str | None  # final once the leader approved, else the table's proposal
    # The criteria it was scored on (its version's), with the maximum of the total.
    criteria: tuple[Criterion, ...] = ()
    total_maximum: int | None = None

    def as_row(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "applicant_name": self.applicant_name,
            "sector": self.sector,
            "total_mean": self.total_mean,
            "total_spread": self.total_spread,
            "recommendation": self.recommendation or "not_recommended",
        }


def round_entries(session: Session, award_round: AwardRound) -> list[RoundEntry]:
    entries = []
    for dossier in round_dossiers(session, award_round.id):
        data = dossier.data or {}
        sealed = is_sealed(dossier)
        aggregation = {} if sealed else (data.get("aggregation") or {})
        total = aggregation.get("total") or {}
        entries.append(
            RoundEntry(
                code=dossier.code,
                applicant_name=dossier.applicant_name,
                sector=str((data.get("organisation") or {}).get("sector") or ""),
                status=dossier.status,
                scored_count=aggregation.get("scored_count") if aggregation else None,
                member_count=len(data.get("council_member_ids") or []),
                total_mean=total.get("mean") if aggregation else None,
                total_spread=total.get("spread") if aggregation else None,
                criteria_means={
                    c.key: (aggregation.get("criteria") or {}).get(c.key, {}).get("mean")
                    for c in criteria_of_aggregation(aggregation)
                }
                if aggregation
                else {},
                recommendation=data.get("final_recommendation") or data.get("recommendation"),
                criteria=criteria_of_aggregation(aggregation) if aggregation else (),
                total_maximum=total.get("maximum") if aggregation else None,
            )
        )
    return entries


def entries_criteria(entries: list[RoundEntry]) -> list[Criterion]:
    """The criteria the entries were scored on (their versions'; in one round, one set)."""
    criteria: list[Criterion] = []
    for entry in entries:
        criteria += [c for c in entry.criteria if c.key not in {k.key for k in criteria}]
    return criteria


def round_criteria(rt: Runtime, entries: list[RoundEntry]) -> list[Criterion]:
    """The criteria a round's page shows: those its entries were scored on, else those of the
    version of the rules in force today."""
    return entries_criteria(entries) or list(rules_of(rt.procedure(AWARD_PROCEDURE)).criteria)


def assessed(entries: list[RoundEntry]) -> list[RoundEntry]:
    """The applicants with a final recommendation (the leader approved), best first."""
    done = [e for e in entries if e.status in ("recommended", "not_recommended") and e.total_mean is not None]
    return sorted(done, key=lambda e: (-(e.total_mean or 0), e.code))


def recommendation_docx(
    settings: Settings,
    award_round: AwardRound,
    entries: list[RoundEntry],
    signer: Any,
    *,
    number: str | None = None,
    verification_code: str | None = None,
    issued_at: datetime | None = None,
) -> bytes:
    """The list as .docx: a draft (blank number, "DỰ THẢO" where the signature goes, marked not
    verifiable) unless issued with its number and verification code."""
    return render_document(
        recommendation_context(
            settings,
            award_round,
            entries,
            signer,
            number=number,
            verification_code=verification_code,
            issued_at=issued_at,
        )
    )


def recommendation_context(
    settings: Settings,
    award_round: AwardRound,
    entries: list[RoundEntry],
    signer: Any,
    *,
    number: str | None = None,
    verification_code: str | None = None,
    issued_at: datetime | None = None,
) -> DocumentContext:
    """What the list says (a draft without a number and a verification code)."""
    rows = [e.as_row() for e in assessed(entries)]
    reference = f"GTCLQG-{award_round.year}"
    base_url = settings.base_url.rstrip("/")
    issued = bool(number and verification_code)
    # A draft is prepared for a leader to sign: it names the signer only when a leader downloads it.
    signs = issued or bool(getattr(signer, "has_role", lambda _: False)("leader"))
    return DocumentContext(
        kind="award_recommendation_list",
        number=number or "     /TTr-" + settings.document_symbol,
        issued_at=issued_at or now(),
        agency_parent=settings.agency_parent,
        agency_name=settings.agency_name,
        place=settings.agency_place,
        dossier_code=reference,
        reference_label="Đợt xét",
        applicant_name="",
        applicant_tax_code="",
        applicant_address="",
        data={},
        signer_name=(getattr(signer, "full_name", "") or "") if signs else "",
        # The signer's authority (a leader's job title), else the director's title the draft awaits.
        signer_title=(authority_of(signer, settings) if signs and isinstance(signer, User) else "")
        or settings.director_title,
        verification_code=verification_code or "",
        verify_url=f"{base_url}/verify/{verification_code}"
        if verification_code
        else f"{base_url}/award/rounds/{award_round.year}",
        extra={"year": award_round.year, "rows": rows},
        draft=not issued,
    )


def recommendation_xlsx(
    award_round: AwardRound,
    entries: list[RoundEntry],
    *,
    number: str | None = None,
    verification_code: str | None = None,
    issued_at: datetime | None = None,
) -> bytes:
    """The list as .xlsx; an issued list carries the number and verification code of its .docx."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"De xuat {award_round.year}"
    sheet.append([f"Danh sách đề xuất Giải thưởng Chất lượng Quốc gia năm {award_round.year}"])
    sheet.append([f"Recommendation list for the National Quality Award {award_round.year}"])
    if number and verification_code:
        sheet.append(
            [
                f"Số / No. {number} — ngày / date {to_local(issued_at or now()):%d/%m/%Y}"
                f" — mã xác thực / verification code {verification_code}"
            ]
        )
    else:
        sheet.append(["Bản dự thảo, chưa ban hành / Draft, not issued"])
    # The criteria the listed applicants were scored on (their version's; in one round, one set).
    rows = assessed(entries)
    criteria = entries_criteria(rows)
    total_maximum = next((e.total_maximum for e in rows if e.total_maximum), None)
    header = (
        ["TT / No.", "Mã hồ sơ / Dossier", "Tổ chức / Organisation", "Lĩnh vực / Sector"]
        + [f"{c.number}. {c.name_vi} ({c.maximum})" for c in criteria]
        + [
            f"Tổng điểm TB / Total mean ({total_maximum})" if total_maximum else "Tổng điểm TB / Total mean",
            "Độ lệch / Spread",
            "Đề xuất / Recommendation",
            "Recommendation (en)",
        ]
    )
    sheet.append(header)
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = Font(bold=True, size=13)
    for index, entry in enumerate(rows, start=1):
        recommendation = entry.recommendation or "not_recommended"
        sheet.append(
            [index, entry.code, entry.applicant_name, entry.sector]
            + [entry.criteria_means.get(c.key) for c in criteria]
            + [
                entry.total_mean,
                entry.total_spread,
                RECOMMENDATIONS_VI.get(recommendation, recommendation),
                RECOMMENDATIONS_EN.get(recommendation, recommendation),
            ]
        )
    for column, width in zip("ABCD", (6, 28, 40, 28), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def draft_list_file(rt: Runtime, year: int, signer: Any, fmt: str) -> tuple[bytes, str]:
    """The round's draft recommendation list as ``fmt`` (docx | xlsx), with its file name."""
    award_round = get_round(rt, year, signer)
    with reading(rt.engine) as session:
        entries = round_entries(session, award_round)
        if fmt == "docx":
            # From the template in force, as the issued list will be (recommendation_docx: the builder's).
            context = recommendation_context(rt.settings, award_round, entries, signer)
            content, _ = render_in_force(session, rt.store, context, AWARD_PROCEDURE)
        else:
            content = recommendation_xlsx(award_round, entries)
    return content, f"de-xuat-giai-thuong-chat-luong-{year}.{fmt}"


__all__ = [
    "DOCX",
    "MEDIA_TYPES",
    "XLSX",
    "RoundEntry",
    "assessed",
    "draft_list_file",
    "entries_criteria",
    "points",
    "recommendation_docx",
    "recommendation_xlsx",
    "round_criteria",
    "round_entries",
]
