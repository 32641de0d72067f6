"""The officers' violation list: what models flagged on dossiers (``tdcflow/flag``: a certificate
not filed in time…), each on the list until a specialist or a leader records how it was handled
(an inspection planned, the owner contacted, the case closed); every handling is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from workflows import audit, permissions
from workflows.clock import as_utc, now
from workflows.command_log import command, note_dossier
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.locking import lock_dossier_by_code
from workflows.models import Dossier, User, Violation
from workflows.paging import Page, paginate
from workflows.runtime import Runtime

MIN_HANDLING = 10  # characters: a handling says what was done, not "ok"


@dataclass(frozen=True)
class ListedViolation:
    id: int
    code: str
    procedure_code: str
    applicant_name: str
    applicant_tax_code: str
    status: str
    reason: str
    flagged_at: datetime
    handled_at: datetime | None
    handled_by: str
    handling: str


def violation_list(
    rt: Runtime, actor: User, handled: bool = False, page: int = 1, page_size: int = 50
) -> Page:
    """Open violations, oldest first (``handled``: the handled ones, newest first), one page of
    ``ListedViolation`` and how many there are."""
    permissions.require(actor, permissions.DOSSIER_SEE_ALL)
    query = (
        select(Violation, Dossier, User)
        .join(Dossier, col(Dossier.id) == Violation.dossier_id)
        .outerjoin(User, col(User.id) == Violation.handled_by_id)
    )
    if handled:
        query = query.where(col(Violation.handled_at).is_not(None)).order_by(
            col(Violation.handled_at).desc(), col(Violation.id).desc()
        )
    else:
        query = query.where(col(Violation.handled_at).is_(None)).order_by(
            col(Violation.flagged_at), col(Violation.id)
        )
    with reading(rt.engine) as session:
        found = paginate(session, query, page, page_size)
    items = [
        ListedViolation(
            id=violation.id or 0,
            code=dossier.code,
            procedure_code=dossier.procedure_code,
            applicant_name=dossier.applicant_name,
            applicant_tax_code=dossier.applicant_tax_code,
            status=dossier.status,
            reason=violation.reason,
            flagged_at=as_utc(violation.flagged_at),
            handled_at=as_utc(violation.handled_at) if violation.handled_at else None,
            handled_by=user.full_name if user else "",
            handling=violation.handling,
        )
        for violation, dossier, user in found.items
    ]
    return Page(items, found.total, found.page, found.page_size)


@command("handle_violation")
def handle_violation(rt: Runtime, actor: User, violation_id: int, handling: str) -> Violation:
    """Record how a violation was handled: it leaves the open list; audited on its dossier."""
    permissions.require(actor, permissions.VIOLATION_HANDLE)
    text = handling.strip()
    if len(text) < MIN_HANDLING:
        raise InvalidInput(
            "Hãy ghi rõ việc xử lý vi phạm.",
            "Say how the violation was handled.",
            "validation_error",
            [
                FieldProblem(
                    "handling",
                    f"Nội dung xử lý cần ít nhất {MIN_HANDLING} ký tự.",
                    f"The handling needs at least {MIN_HANDLING} characters.",
                    "minLength",
                )
            ],
        )
    with transaction(rt.engine) as session:
        found = session.get(Violation, violation_id)
        dossier = session.get(Dossier, found.dossier_id) if found else None
        if found is None or dossier is None:
            raise not_found("vi phạm", "Violation")
        lock_dossier_by_code(session, dossier.code)  # one writer of the dossier's audit chain at a time
        session.refresh(found)
        note_dossier(dossier.code)
        if found.handled_at is not None:
            raise Conflict(
                "Vi phạm này đã được ghi nhận xử lý.",
                "This violation was already handled.",
                "already_handled",
            )
        at = now()
        found.handled_at, found.handled_by_id, found.handling = at, actor.id, text[:2000]
        session.add(found)
        audit.record(
            session,
            f"dossier:{dossier.id}",
            "violation_handled",
            actor,
            {"reason": found.reason, "handling": found.handling},
            dossier_id=dossier.id,
            at=at,
        )
        session.flush()
        session.expunge(found)
        return found
