"""Issuing a round's recommendation list to the national council.

Until every application of the round is decided, the list is only a draft (downloaded on demand,
unnumbered). A leader then issues it: one command numbers it, stamps a verification code and a QR
code on the .docx, renders the .xlsx with the same number and code, stores both with their
SHA-256 and writes an audit event. The issued list verifies on the public verify page like any
dossier's document. Issuing again later (say, after a leader reopened an application) makes a new
numbered list; the earlier ones stay on record.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Field, Session, SQLModel, select

from workflows import audit
from workflows.clock import now
from workflows.codes import new_document_number
from workflows.db import reading, transaction
from workflows.documents import DOCUMENT_KINDS, new_verification_code
from workflows.errors import Conflict, Forbidden, not_found
from workflows.models import User, _created
from workflows.procedures.award.reports import (
    RoundEntry,
    assessed,
    recommendation_docx,
    recommendation_xlsx,
    round_entries,
)
from workflows.procedures.award.rounds import AwardRound
from workflows.verification import VerifiedDocument, verification_finder

if TYPE_CHECKING:
    from workflows.runtime import Runtime

KIND = "award_recommendation_list"
DECIDED = frozenset({"recommended", "not_recommended"})
# An application that ended without a council decision does not hold the list back.
ENDED_WITHOUT_DECISION = frozenset({"withdrawn", "refused", "rejected", "expired"})


class AwardRecommendationList(SQLModel, table=True):
    """An issued (numbered, verifiable) recommendation list of an award round."""

    __tablename__ = "award_recommendation_list"

    id: str = Field(primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="award_round.id", index=True)
    number: str = Field(max_length=60)
    verification_code: str = Field(max_length=20, unique=True, index=True)
    docx_sha256: str = Field(max_length=64)
    docx_size: int
    xlsx_sha256: str = Field(max_length=64)
    xlsx_size: int
    listed_count: int = 0  # applications assessed and listed
    recommended_count: int = 0  # of which recommended to the national council
    issued_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    issued_at: datetime = _created()


def _round(session: Session, year: int) -> AwardRound:
    row = session.exec(select(AwardRound).where(AwardRound.year == year)).first()
    if row is None:
        raise not_found(f"đợt xét giải năm {year}", f"Award round {year}")
    return row


def _undecided(entries: list[RoundEntry]) -> list[RoundEntry]:
    return [e for e in entries if e.status not in DECIDED | ENDED_WITHOUT_DECISION]


def issue_recommendation_list(rt: Runtime, actor: User, year: int) -> AwardRecommendationList:
    """A leader issues the list of the round ``year``. 409 while an application is undecided."""
    if not actor.has_role("leader"):
        raise Forbidden(
            "Chỉ lãnh đạo Sở ban hành danh sách đề xuất.",
            "Only a leader of the department issues the recommendation list.",
            "forbidden",
        )
    settings = rt.settings
    with transaction(rt.engine) as session:
        award_round = _round(session, year)
        entries = round_entries(session, award_round)
        pending = _undecided(entries)
        if pending:
            codes = ", ".join(e.code for e in pending)
            raise Conflict(
                f"Còn {len(pending)} hồ sơ chưa có kết quả xét của Hội đồng: {codes}. "
                "Danh sách đề xuất được ban hành khi mọi hồ sơ của đợt đã được quyết định.",
                f"{len(pending)} application(s) still without the council's decision: {codes}. "
                "The list is issued once every application of the round is decided.",
                "applications_pending",
            )
        listed = assessed(entries)
        if not listed:
            raise Conflict(
                "Đợt xét chưa có hồ sơ nào được Hội đồng chấm điểm và quyết định.",
                "No application of the round has been scored and decided yet.",
                "nothing_to_list",
            )
        at = now()
        number = new_document_number(session, DOCUMENT_KINDS[KIND].symbol, settings.document_symbol, at)
        code = new_verification_code()
        docx = recommendation_docx(
            settings, award_round, entries, actor, number=number, verification_code=code, issued_at=at
        )
        xlsx = recommendation_xlsx(award_round, entries, number=number, verification_code=code, issued_at=at)
        row = AwardRecommendationList(
            id=secrets.token_hex(16),
            round_id=award_round.id,
            number=number,
            verification_code=code,
            docx_sha256=rt.store.put(docx),
            docx_size=len(docx),
            xlsx_sha256=rt.store.put(xlsx),
            xlsx_size=len(xlsx),
            listed_count=len(listed),
            recommended_count=sum(
                1 for e in listed if (e.recommendation or "not_recommended") != "not_recommended"
            ),
            issued_by_id=actor.id,
            issued_at=at,
        )
        session.add(row)
        audit.record(
            session,
            f"award_round:{award_round.id}",
            "recommendation_list_issued",
            actor,
            {
                "number": number,
                "verification_code": code,
                "docx_sha256": row.docx_sha256,
                "xlsx_sha256": row.xlsx_sha256,
                "listed": [e.code for e in listed],
            },
        )
        session.flush()
        session.expunge(row)
    return row


def issued_lists(rt: Runtime, year: int) -> list[tuple[AwardRecommendationList, str]]:
    """The round's issued lists, newest first, each with the name of the leader who issued it."""
    with reading(rt.engine) as session:
        award_round = _round(session, year)
        rows = session.exec(
            select(AwardRecommendationList, User)
            .join(User, User.id == AwardRecommendationList.issued_by_id, isouter=True)
            .where(AwardRecommendationList.round_id == award_round.id)
            .order_by(AwardRecommendationList.issued_at.desc(), AwardRecommendationList.id)
        ).all()
        return [(row, user.full_name if user else "") for row, user in rows]


def issued_file(rt: Runtime, actor: User, year: int, list_id: str, fmt: str) -> tuple[bytes, str]:
    """The stored bytes of an issued list (``fmt`` docx or xlsx) and a file name; officers only."""
    if not actor.is_officer:
        raise not_found("danh sách đề xuất", "Recommendation list")
    with reading(rt.engine) as session:
        award_round = _round(session, year)
        row = session.get(AwardRecommendationList, list_id)
        if row is None or row.round_id != award_round.id or fmt not in ("docx", "xlsx"):
            raise not_found("danh sách đề xuất", "Recommendation list")
        digest = row.docx_sha256 if fmt == "docx" else row.xlsx_sha256
        serial = row.number.split("/")[0].strip()
    return rt.store.read(digest), f"danh-sach-de-xuat-{year}-so-{serial}.{fmt}"


@verification_finder
def issued_recommendation_list(session: Session, code: str) -> VerifiedDocument | None:
    found = session.exec(
        select(AwardRecommendationList, AwardRound)
        .join(AwardRound, AwardRound.id == AwardRecommendationList.round_id)
        .where(AwardRecommendationList.verification_code == code)
    ).first()
    if found is None:
        return None
    row, award_round = found
    kind = DOCUMENT_KINDS[KIND]
    return VerifiedDocument(
        verification_code=row.verification_code,
        kind=KIND,
        title=f"{kind.title_vi} năm {award_round.year}",
        number=row.number,
        issued_at=row.issued_at,
        sha256=row.docx_sha256,
        reference=f"Giải thưởng Chất lượng Quốc gia năm {award_round.year}",
        reference_label_vi="Đợt xét giải",
        reference_label_en="Award round",
    )


def list_json(row: AwardRecommendationList, issued_by: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "verification_code": row.verification_code,
        "listed_count": row.listed_count,
        "recommended_count": row.recommended_count,
        "docx_sha256": row.docx_sha256,
        "xlsx_sha256": row.xlsx_sha256,
        "issued_by": issued_by,
        "issued_at": row.issued_at,
    }
