"""A leader's one extension of a dossier's deadline, with the apology slip (Mẫu 04)."""

from __future__ import annotations

from workflows import audit, permissions
from workflows.clock import as_utc
from workflows.command_log import command
from workflows.context import CommandContext
from workflows.db import transaction
from workflows.dossier_documents import issue_document
from workflows.effects import refresh_deadlines
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.locking import lock_dossier_by_code
from workflows.models import Dossier, User
from workflows.outbox import dossier_event
from workflows.runtime import Runtime

MAX_EXTENSION_DAYS = 30


@command("extend_deadline")
def extend_deadline(rt: Runtime, actor: User, code: str, days: int, reason: str) -> Dossier:
    """A leader moves the appointment once, by whole working days, with a reason; the apology slip
    (Mẫu 04) with the new date is issued in the same transaction."""
    permissions.require(actor, permissions.DOSSIER_EXTEND)
    problems = []
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        problems.append(
            FieldProblem(
                "days",
                f"Từ 1 đến {MAX_EXTENSION_DAYS} ngày làm việc.",
                f"Between 1 and {MAX_EXTENSION_DAYS} working days.",
                "range",
            )
        )
    if len(reason.strip()) < 10:
        problems.append(
            FieldProblem(
                "reason",
                "Nêu rõ lý do chậm trả kết quả (ít nhất 10 ký tự).",
                "State why the result is late (at least 10 characters).",
                "minLength",
            )
        )
    if problems:
        raise InvalidInput(
            "Thông tin gia hạn chưa hợp lệ.", "The extension is not valid.", "validation_error", problems
        )
    with transaction(rt.engine) as session:
        locked = lock_dossier_by_code(session, code)
        if locked is None:
            raise not_found("hồ sơ", "Dossier")
        dossier, _ = locked
        if dossier.received_at is None or dossier.completed_at is not None:
            raise Conflict(
                "Chỉ gia hạn hồ sơ đã tiếp nhận và đang xử lý.",
                "Only a received dossier still in progress can be extended.",
                "not_extendable",
            )
        if dossier.extension_days:  # read under the dossier's lock: a second leader waits, then sees it
            raise Conflict(
                "Hồ sơ đã được gia hạn một lần.",
                "The dossier has already been extended once.",
                "already_extended",
            )
        dossier.extension_days, dossier.extension_reason = days, reason.strip()
        ctx = CommandContext.of(rt, session, actor, dossier)
        old_appointment = dossier.appointment_at
        refresh_deadlines(ctx)
        apology = issue_document(
            ctx,
            "apology_slip",
            {
                "reason": reason.strip(),
                "old_appointment_at": as_utc(old_appointment) if old_appointment else None,
                "new_appointment_at": dossier.appointment_at,
            },
        )
        dossier_event(
            session,
            "apology_issued",
            dossier,
            ctx.at,
            appointment_at=dossier.appointment_at,
            reason=reason.strip(),
            document_id=apology.id,
        )
        audit.record(
            session,
            ctx.stream,
            "deadline_extended",
            actor,
            {
                "days": days,
                "reason": reason.strip(),
                "old_appointment_at": as_utc(old_appointment).isoformat() if old_appointment else None,
                "appointment_at": as_utc(dossier.appointment_at).isoformat(),
            },
            dossier_id=dossier.id,
            at=ctx.at,
        )
        session.add(dossier)
        return dossier
