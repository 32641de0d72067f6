"""Dossiers whose process can no longer move, found and resumed.

A process instance is *stuck* when it has not finished and nothing can move it: no step waits for
a person, no timer or other event waits. The one known cause is a loop or multi-instance step
whose finished instances were never counted (an award application scored across a restart by a
tdcflow older than the engine adapter's completion wiring): ``RunningProcess.lost_joins`` names
those, and ``resume`` counts them, in the order they finished, and lets the process run on.
Anything else stuck is listed for a person to look at; it is never changed blindly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlmodel import select

from workflows import audit, permissions
from workflows.command_log import command
from workflows.commands import _restore, _save_instance
from workflows.context import CommandContext
from workflows.db import reading, transaction
from workflows.engine import EngineError, LostJoin
from workflows.engine_runs import after_engine
from workflows.errors import Conflict, Forbidden, not_found
from workflows.locking import lock_dossier_by_code
from workflows.models import Dossier, ProcessInstance, User
from workflows.runtime import Runtime

LOST_JOIN = "lost_join"
NOTHING_WAITS = "nothing_waits"


@dataclass(frozen=True)
class StuckInstance:
    code: str
    procedure_code: str
    status: str
    reason: str  # LOST_JOIN (resumable) or NOTHING_WAITS (for a person to look at)
    lost_joins: tuple[LostJoin, ...] = ()

    @property
    def resumable(self) -> bool:
        return self.reason == LOST_JOIN

    def describe(self) -> str:
        if self.resumable:
            steps = ", ".join(f"{j.name} ({j.instances} phiếu/instances)" for j in self.lost_joins)
            return (
                f"bước chờ các phiếu đã xong nhưng chưa được tính / finished instances never counted: {steps}"
            )
        return "không còn bước, hẹn giờ hay sự kiện nào chờ / nothing waits: no task, timer or event"


def find_stuck(rt: Runtime, batch: int = 200) -> list[StuckInstance]:
    """Every unfinished instance that nothing can move, oldest dossier first."""
    return [stuck for stuck in _scan(rt, batch) if stuck is not None]


def _scan(rt: Runtime, batch: int) -> Iterator[StuckInstance | None]:
    last_id = 0
    while True:
        with reading(rt.engine) as session:
            rows = session.exec(
                select(ProcessInstance, Dossier)
                .join(Dossier, Dossier.id == ProcessInstance.dossier_id)
                .where(ProcessInstance.completed.is_(False), ProcessInstance.id > last_id)
                .order_by(ProcessInstance.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        for instance, dossier in rows:
            last_id = instance.id
            yield _diagnose(rt, instance, dossier)


def _diagnose(rt: Runtime, instance: ProcessInstance, dossier: Dossier) -> StuckInstance | None:
    if dossier.completed_at is not None:
        return None  # withdrawn: the dossier is closed, its cancelled process is not stuck
    process = _restore(rt, instance, dossier)
    lost = process.lost_joins()
    if lost:
        return StuckInstance(dossier.code, dossier.procedure_code, dossier.status, LOST_JOIN, tuple(lost))
    if not process.waits_for_something():
        return StuckInstance(dossier.code, dossier.procedure_code, dossier.status, NOTHING_WAITS)
    return None


@command("resume_stuck_dossier")
def resume(rt: Runtime, actor: User, code: str) -> list[LostJoin]:
    """Count the lost instances of a stuck dossier and run its process on (one transaction, audited).

    Returns what was counted. An instance with nothing lost is refused (409), so running this
    twice, or on a healthy dossier, changes nothing.
    """
    permissions.require(actor, permissions.INSTANCE_RESUME)
    with transaction(rt.engine) as session:
        locked = lock_dossier_by_code(session, code)
        if locked is None:
            raise not_found("hồ sơ", "Dossier")
        dossier, instance = locked
        process = _restore(rt, instance, dossier)
        try:
            counted = process.resume_lost_joins()
        except EngineError as exc:
            raise Conflict(
                f"Không thể khôi phục hồ sơ: {exc}", f"The dossier cannot be resumed: {exc}", "engine_error"
            ) from exc
        if not counted:
            raise Conflict(
                "Hồ sơ không bị kẹt ở bước nhiều phiếu; không có gì để khôi phục.",
                "The dossier is not stuck at a multi-instance step; there is nothing to resume.",
                "not_stuck",
            )
        _save_instance(session, instance, process)
        ctx = CommandContext.of(rt, session, actor, dossier)
        audit.record(
            session,
            ctx.stream,
            "instance_resumed",
            actor,
            {"counted": [{"step": j.element, "name": j.name, "instances": j.instances} for j in counted]},
            dossier_id=dossier.id,
            at=ctx.at,
        )
        after_engine(ctx, process)
        return counted


def admin_by_email(rt: Runtime, email: str) -> User:
    """The active administrator account the command-line acts as (named in the audit trail)."""
    with reading(rt.engine) as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active or not permissions.may(user, permissions.INSTANCE_RESUME):
        raise Forbidden(
            f"'{email}' không phải tài khoản quản trị đang hoạt động.",
            f"'{email}' is not an active administrator account.",
            "forbidden",
        )
    return user
