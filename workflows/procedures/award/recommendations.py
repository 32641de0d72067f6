"""Issuing a round's recommendation list to the national council.

Until every application of the round is decided, the list is only a draft (downloaded on demand,
unnumbered). A leader then issues it: one command numbers it, stamps a verification code and a QR
code on the .docx, renders the .xlsx with the same number and code, stores both with their
SHA-256 and writes an audit event. The issued list verifies on the public verify page like any
dossier's document. Issuing again later (say, after a leader reopened an application) makes a new
numbered list; the earlier ones stay on record. Issuing the very list that was last issued (the
same applications, scores and decisions: a second click, or two leaders at once) is refused: an
official list is numbered once. The round's row is locked while a list is issued, so two leaders
issuing together are taken one after the other and the second hears that it is issued already.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from workflows import permissions
from workflows.clock import format_datetime, now
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.documents.issuing import IssuedFor, issue_document, rendition_of
from workflows.documents.model import kind_named
from workflows.errors import Conflict, not_found
from workflows.models import Document, User
from workflows.procedures.award import actions
from workflows.procedures.award.reports import (
    RoundEntry,
    assessed,
    recommendation_context,
    recommendation_xlsx,
    round_entries,
)
from workflows.procedures.award.rounds import AwardRound, may_read_round

if TYPE_CHECKING:
    from workflows.runtime import Runtime

KIND = "award_recommendation_list"
DECIDED = frozenset({"recommended", "not_recommended"})
# An application that ended without a council decision does not hold the list back.
ENDED_WITHOUT_DECISION = frozenset({"withdrawn", "refused", "rejected", "expired"})


REFERENCE_LABELS = ("Đợt xét giải", "Award round")


def _round(session: Session, year: int, for_update: bool = False) -> AwardRound:
    query = select(AwardRound).where(AwardRound.year == year)
    row = session.exec(query.with_for_update() if for_update else query).first()
    if row is None:
        raise not_found(f"đợt xét giải năm {year}", f"Award round {year}")
    return row


def content_key(listed: list[RoundEntry]) -> str:
    """What a list says (its applications, their scores and decisions, in order), as a digest: two
    lists with the same key are the same list."""
    rows = [{**entry.as_row(), "criteria_means": entry.criteria_means} for entry in listed]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _refuse_if_issued_already(session: Session, award_round: AwardRound, key: str) -> None:
    """409 when the round's latest issued list says exactly this (lists issued before the digest
    was kept carry none: the next one is issued)."""
    latest = session.exec(
        select(Document)
        .where(Document.issued_for == "award_round", Document.issued_for_id == award_round.id)
        .order_by(col(Document.issued_at).desc(), col(Document.id).desc())
    ).first()
    if latest is not None and latest.details.get("content_key") == key:
        when = format_datetime(latest.issued_at)
        raise Conflict(
            f"Danh sách đề xuất số {latest.number} đã được ban hành lúc {when} và từ đó chưa có gì thay đổi.",
            f"Recommendation list {latest.number} was issued at {when} and nothing has changed since.",
            "list_already_issued",
        )


def _undecided(entries: list[RoundEntry]) -> list[RoundEntry]:
    return [e for e in entries if e.status not in DECIDED | ENDED_WITHOUT_DECISION]


@command("issue_award_recommendation_list")
def issue_recommendation_list(rt: Runtime, actor: User, year: int) -> Document:
    """A leader issues the list of the round ``year``. 409 while an application is undecided."""
    permissions.require(actor, actions.RECOMMENDATIONS_ISSUE)
    settings = rt.settings
    with transaction(rt.engine) as session:
        award_round = _round(session, year, for_update=True)
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
        key = content_key(listed)
        _refuse_if_issued_already(session, award_round, key)
        at = now()
        recommended = sum(1 for e in listed if (e.recommendation or "not_recommended") != "not_recommended")
        serial_name = f"danh-sach-de-xuat-{year}"
        document, _ = issue_document(
            session,
            rt,
            kind=KIND,
            issued_for=IssuedFor(
                "award_round",
                award_round.id,
                f"Giải thưởng Chất lượng Quốc gia năm {award_round.year}",
                *REFERENCE_LABELS,
            ),
            actor=actor,
            at=at,
            context=lambda n: recommendation_context(
                settings,
                award_round,
                entries,
                actor,
                number=n.number,
                verification_code=n.verification_code,
                issued_at=n.issued_at,
            ),
            filename=f"{serial_name}.docx",
            renditions=lambda n: {
                "xlsx": (
                    f"{serial_name}.xlsx",
                    recommendation_xlsx(
                        award_round,
                        entries,
                        number=n.number,
                        verification_code=n.verification_code,
                        issued_at=n.issued_at,
                    ),
                )
            },
            title=f"{kind_named(KIND).title_vi} năm {award_round.year}",
            stream=f"award_round:{award_round.id}",
            audit_action="recommendation_list_issued",
            audit_details={"listed": [e.code for e in listed]},
            details={"listed_count": len(listed), "recommended_count": recommended, "content_key": key},
        )
        session.flush()
        session.expunge(document)
    return document


def issued_lists(rt: Runtime, year: int, reader: User | None = None) -> list[tuple[Document, str]]:
    """The round's issued lists, newest first, each with the name of the leader who issued it
    (with ``reader``: "not found" unless that person may read the round)."""
    with reading(rt.engine) as session:
        award_round = _round(session, year)
        if reader is not None and not may_read_round(reader, award_round):
            raise not_found(f"đợt xét giải năm {year}", f"Award round {year}")
        rows = session.exec(
            select(Document, User)
            .join(User, User.id == Document.issued_by_id, isouter=True)
            .where(Document.issued_for == "award_round", Document.issued_for_id == award_round.id)
            .order_by(Document.issued_at.desc(), Document.id)
        ).all()
        return [(row, user.full_name if user else "") for row, user in rows]


def issued_file(rt: Runtime, actor: User, year: int, list_id: str, fmt: str) -> tuple[bytes, str]:
    """The stored bytes of an issued list (``fmt`` pdf: the signed copy, docx or xlsx) and a file
    name; officers only."""
    with reading(rt.engine) as session:
        award_round = _round(session, year)
        if not may_read_round(actor, award_round):
            raise not_found("danh sách đề xuất", "Recommendation list")
        row = session.get(Document, list_id)
        if row is None or row.issued_for != "award_round" or row.issued_for_id != award_round.id:
            raise not_found("danh sách đề xuất", "Recommendation list")
        stored = rendition_of(row, fmt)
        if stored is None:
            raise not_found("danh sách đề xuất", "Recommendation list")
        serial = row.number.split("/")[0].strip()
    return rt.store.read(stored[1]), f"danh-sach-de-xuat-{year}-so-{serial}.{fmt}"


def list_json(row: Document, issued_by: str) -> dict[str, Any]:
    xlsx = rendition_of(row, "xlsx")
    return {
        "id": row.id,
        "number": row.number,
        "verification_code": row.verification_code,
        "listed_count": row.details.get("listed_count", 0),
        "recommended_count": row.details.get("recommended_count", 0),
        "docx_sha256": row.sha256,
        "xlsx_sha256": xlsx[1] if xlsx else None,
        "issued_by": issued_by,
        "issued_at": row.issued_at,
    }
