"""The commands that change a dossier. Each is one database transaction (DESIGN rules 2 and 3).

A command first locks the dossier (``workflows.locking``: its process-instance row), then loads
the instance, runs the engine, applies the effects the model asked for, and commits together: the
serialized instance (guarded by its version), the projected tasks, the dossier's fields, the audit
events and the issued documents. Any exception rolls all of it back.

Starting a dossier is ``workflows.submission``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from workflows import audit, permissions
from workflows.alarms import schedule_dossier_alarms
from workflows.attachments import store_upload
from workflows.clock import now
from workflows.command_log import command
from workflows.context import CommandContext
from workflows.db import reading, transaction
from workflows.effects import issue_stop_notice
from workflows.engine import EngineError, RunningProcess, TaskNotReady
from workflows.engine_runs import after_engine, engine_failure, script_functions
from workflows.errors import Conflict, not_found
from workflows.filed_forms import bind_attachments, validate_form
from workflows.locking import lock_dossier_by_code, lock_task
from workflows.models import Attachment, Dossier, ProcessInstance, User, WorkTask
from workflows.outbox import dossier_event
from workflows.pauses import close_open_pause
from workflows.projection import cancel_open_tasks, mark_completed
from workflows.runtime import Runtime
from workflows.visibility import may_attach

# --- helpers ------------------------------------------------------------------------------------


def _restore(rt: Runtime, instance: ProcessInstance, dossier: Dossier) -> RunningProcess:
    return RunningProcess.restore(
        rt.models.get(instance.model_version_id),
        instance.state,
        script_functions(rt, rt.procedure_of(dossier)),
    )


def _save_instance(session: Session, instance: ProcessInstance, process: RunningProcess) -> None:
    """Write the new state only if nobody else wrote since we read it (optimistic lock)."""
    result = session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == instance.id, ProcessInstance.version == instance.version)
        .values(
            state=process.serialize(),
            version=instance.version + 1,
            completed=process.completed,
            next_timer_at=process.next_timer_at(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise stale()


def stale() -> Conflict:
    return Conflict(
        "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại và thử lại.",
        "The dossier was just changed by someone else. Reload and try again.",
        "conflict",
    )


# A model that sets this process variable to False (e.g. in a task's post-script) closes the way
# to withdraw the dossier from then on.
WITHDRAWAL_ALLOWED = "withdrawal_allowed"


# --- tasks --------------------------------------------------------------------------------------


def _check_may_act(actor: User, task: WorkTask, dossier: Dossier) -> None:
    permissions.require_may_work_task(actor, task, dossier)
    if task.status != "open":
        raise Conflict(
            "Công việc này đã được xử lý xong.", "This task has already been completed.", "task_closed"
        )


@command("claim_task")
def claim_task(rt: Runtime, actor: User, task_id: str) -> WorkTask:
    with transaction(rt.engine) as session:
        task, dossier, _ = lock_task(session, task_id)
        _check_may_act(actor, task, dossier)
        if task.assignee_id == actor.id:
            return task
        result = session.execute(
            update(WorkTask)
            .where(WorkTask.id == task_id, WorkTask.status == "open", WorkTask.assignee_id.is_(None))
            .values(assignee_id=actor.id, claimed_at=now())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise _taken(session, task)
        audit.record(
            session,
            f"dossier:{dossier.id}",
            "task_claimed",
            actor,
            {"task": task.spec_name, "task_id": task.id},
            dossier_id=dossier.id,
        )
        session.refresh(task)
        return task


def _taken(session: Session, task: WorkTask) -> Conflict:
    session.refresh(task)
    holder = session.get(User, task.assignee_id) if task.assignee_id else None
    name = holder.full_name if holder else "?"
    return Conflict(
        f"Công việc đang do {name} xử lý.", f"The task is already claimed by {name}.", "task_taken"
    )


def _assigned_by_model(rt: Runtime, task: WorkTask, dossier: Dossier) -> bool:
    """The model names this task's person (``assigneeVariable``): e.g. a council member's sheet."""
    view = rt.procedure_of(dossier).model.user_tasks.get(task.spec_name)
    return view is not None and bool(view.properties.get("assigneeVariable"))


@command("release_task")
def release_task(rt: Runtime, actor: User, task_id: str) -> WorkTask:
    with transaction(rt.engine) as session:
        task, dossier, _ = lock_task(session, task_id)
        _check_may_act(actor, task, dossier)
        if task.candidate_role == "business":
            raise Conflict(
                "Công việc của doanh nghiệp không thể trả lại.",
                "A business's task cannot be released.",
                "not_releasable",
            )
        if _assigned_by_model(rt, task, dossier):
            raise Conflict(
                "Công việc này được giao đích danh, không thể trả lại.",
                "This task is assigned to one person by the procedure and cannot be released.",
                "not_releasable",
            )
        if task.assignee_id != actor.id and not permissions.may(actor, permissions.TASK_RELEASE_ANY):
            raise Conflict("Bạn không giữ công việc này.", "You do not hold this task.", "not_assignee")
        task.assignee_id = None
        task.claimed_at = None
        session.add(task)
        audit.record(
            session,
            f"dossier:{dossier.id}",
            "task_released",
            actor,
            {"task": task.spec_name, "task_id": task.id},
            dossier_id=dossier.id,
        )
        return task


@command("complete_task")
def complete_task(rt: Runtime, actor: User, task_id: str, data: dict[str, Any]) -> Dossier:
    """Complete a user task with its form data; the engine then runs to the next wait."""
    with transaction(rt.engine) as session:
        # Decided on the task as the dossier's previous writer left it: a claim or another
        # completion that got the lock first makes this one a 409, never a second winner.
        task, dossier, instance = lock_task(session, task_id)
        _check_may_act(actor, task, dossier)
        if task.assignee_id not in (None, actor.id):
            raise _taken(session, task)
        if task.form:
            validate_form(rt, task.form, data, dossier, rt.procedure_of(dossier))
            bind_attachments(rt, session, task.form, data, actor, dossier)
        process = _restore(rt, instance, dossier)
        try:
            process.complete(task_id, data)
        except TaskNotReady as exc:
            raise stale() from exc
        except EngineError as exc:
            raise engine_failure(exc) from exc
        _save_instance(session, instance, process)
        ctx = CommandContext.of(rt, session, actor, dossier)
        audit.record(
            session,
            ctx.stream,
            "task_completed",
            actor,
            {"task": task.spec_name, "task_id": task.id, "data": data},
            dossier_id=dossier.id,
            at=ctx.at,
        )
        mark_completed(ctx, task)
        after_engine(ctx, process, completed_task_id=task_id)
        return dossier


# --- withdraw -----------------------------------------------------------------------------------


def withdrawal_open(rt: Runtime, dossier: Dossier) -> bool:
    """Whether the applicant may still withdraw ``dossier``: not closed, and its model has not
    closed the way (``withdrawal_allowed = False``); for the dossier page's button."""
    if dossier.completed_at is not None:
        return False
    with reading(rt.engine) as session:
        instance = session.exec(
            select(ProcessInstance).where(ProcessInstance.dossier_id == dossier.id)
        ).first()
    if instance is None:
        return False
    return _restore(rt, instance, dossier).data.get(WITHDRAWAL_ALLOWED, True) is not False


@command("withdraw_dossier")
def withdraw_dossier(rt: Runtime, actor: User, code: str, reason: str = "") -> Dossier:
    with transaction(rt.engine) as session:
        locked = lock_dossier_by_code(session, code)
        if locked is None or locked[0].applicant_id != actor.id:
            raise not_found("hồ sơ", "Dossier")
        dossier, instance = locked
        if dossier.completed_at is not None:
            raise Conflict(
                "Hồ sơ đã kết thúc, không thể rút.",
                "The dossier is closed and cannot be withdrawn.",
                "closed",
            )
        process = _restore(rt, instance, dossier)
        if process.data.get(WITHDRAWAL_ALLOWED, True) is False:
            # The model decides: e.g. imported goods once cleared, whose certificate must be filed.
            raise Conflict(
                "Không thể rút hồ sơ ở bước này: theo quy định của thủ tục, nghĩa vụ của tổ chức, cá "
                "nhân ở bước này vẫn phải được thực hiện.",
                "The dossier cannot be withdrawn at this step: the procedure's obligations at this "
                "step still have to be met.",
                "withdrawal_not_allowed",
            )
        process.cancel()
        _save_instance(session, instance, process)
        ctx = CommandContext.of(rt, session, actor, dossier)
        close_open_pause(ctx)
        cancel_open_tasks(ctx)
        dossier.status = dossier.outcome = "withdrawn"
        dossier.current_step = None
        dossier.completed_at = dossier.updated_at = ctx.at
        schedule_dossier_alarms(ctx)
        if dossier.received_at is not None:
            said = f": {reason.strip()}" if reason.strip() else ""
            issue_stop_notice(ctx, f"Tổ chức, cá nhân đề nghị rút hồ sơ{said}")
        session.add(dossier)
        dossier_event(
            session,
            "dossier_withdrawn",
            dossier,
            ctx.at,
            reason=reason.strip(),
            documents=list(ctx.issued_documents),
        )
        audit.record(
            session,
            ctx.stream,
            "withdrawn",
            actor,
            {"reason": reason.strip()},
            dossier_id=dossier.id,
            at=ctx.at,
        )
        return dossier


# --- attachments --------------------------------------------------------------------------------


@command("upload_attachment")
def upload_attachment(
    rt: Runtime, actor: User, filename: str, content: bytes, dossier_code: str | None = None
) -> Attachment:
    with transaction(rt.engine) as session:
        dossier_id = None
        if dossier_code is not None:
            # The dossier's lock orders this upload with the officers' commands on the dossier
            # (both succeed, one after the other) and sees a dossier closed meanwhile.
            locked = lock_dossier_by_code(session, dossier_code)
            dossier = locked[0] if locked else None
            if dossier is None or not may_attach(session, actor, dossier):
                raise not_found("hồ sơ", "Dossier")
            if dossier.completed_at is not None:
                raise Conflict("Hồ sơ đã kết thúc.", "The dossier is closed.", "closed")
            dossier_id = dossier.id
        attachment = store_upload(
            session, rt.store, actor, filename, content, rt.settings.max_upload_bytes, dossier_id=dossier_id
        )
        if dossier_id is not None:
            audit.record(
                session,
                f"dossier:{dossier_id}",
                "attachment_added",
                actor,
                {
                    "attachment_id": attachment.id,
                    "filename": attachment.filename,
                    "sha256": attachment.sha256,
                },
                dossier_id=dossier_id,
            )
        return attachment


# --- timers and deadlines -----------------------------------------------------------------------


def run_due_timers(rt: Runtime, session: Session, instance: ProcessInstance) -> None:
    """Let the process catch the timers that fell due (called by the scheduler, which claimed the
    instance row in this same transaction)."""
    dossier = session.get(Dossier, instance.dossier_id)
    process = _restore(rt, instance, dossier)
    before = {t.id for t in process.ready_user_tasks()}
    try:
        process.run()
    except EngineError as exc:
        raise engine_failure(exc) from exc
    _save_instance(session, instance, process)
    ctx = CommandContext.of(rt, session, None, dossier)
    after = {t.id for t in process.ready_user_tasks()}
    audit.record(
        session,
        ctx.stream,
        "timer_fired",
        None,
        {"tasks_closed": sorted(before - after), "tasks_opened": sorted(after - before)},
        dossier_id=dossier.id,
        at=ctx.at,
    )
    after_engine(ctx, process)
