"""The commands that change a dossier. Each is one database transaction (DESIGN rules 2 and 3).

A command first locks the dossier (``workflows.locking``: its process-instance row), then loads
the instance, runs the engine, applies the effects the model asked for, and commits together: the
serialized instance (guarded by its version), the projected tasks, the dossier's fields, the audit
events and the issued documents. Any exception rolls all of it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from forms.validation import FormValidationError, validate, validation_days
from workflows import audit, calendar_entries, permissions, sla
from workflows.alarms import schedule_dossier_alarms
from workflows.applicants import official_applicant_name
from workflows.attachments import store_upload
from workflows.calendar import WorkingCalendar
from workflows.catalogue import Procedure, office_day
from workflows.clock import as_utc, now
from workflows.codes import new_dossier_code
from workflows.command_log import command, note_dossier
from workflows.context import CommandContext
from workflows.db import reading, transaction
from workflows.effects import apply_effects, issue_stop_notice
from workflows.engine import EngineError, RunningProcess, TaskNotReady
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.locking import lock_dossier_by_code, lock_task
from workflows.models import Attachment, Dossier, ProcessInstance, User, WorkTask
from workflows.outbox import dossier_event, retract
from workflows.pauses import close_open_pause
from workflows.projection import cancel_open_tasks, mark_completed, sync_after_run
from workflows.runtime import Runtime
from workflows.tax_codes import refuse_new_dossier_if_rejected
from workflows.visibility import may_attach

log = logging.getLogger("tdcflow.engine")


# --- helpers ------------------------------------------------------------------------------------


def _validate_form(
    rt: Runtime,
    form_name: str,
    payload: Any,
    dossier: Dossier | None = None,
    procedure: Procedure | None = None,
) -> None:
    """The form's rules (as the procedure's version asks them), its date rules against the
    office's today (and, on a dossier's task, the day the dossier was filed)."""
    form = procedure.form(rt.forms, form_name) if procedure is not None else rt.forms.get(form_name)
    days = {"today": office_day(now())}
    if dossier is not None:
        days["registered_on"] = office_day(as_utc(dossier.submitted_at))
    try:
        with validation_days(**days):
            validate(form, payload)
    except FormValidationError as exc:
        raise InvalidInput(
            "Dữ liệu biểu mẫu chưa hợp lệ, xin kiểm tra các trường được đánh dấu.",
            "The form data is not valid; check the fields marked.",
            "validation_error",
            [FieldProblem(e.field, e.message, e.message_en, e.code) for e in exc.errors],
        ) from exc


def _bind_attachments(
    rt: Runtime, session: Session, form_name: str, payload: Any, actor: User, dossier: Dossier
) -> None:
    """Every attachment the form names must be the actor's own (or already this dossier's)."""
    references = rt.forms.get(form_name).attachment_paths(payload)
    ids = {attachment_id for _, attachment_id in references}
    found = {a.id: a for a in session.exec(select(Attachment).where(Attachment.id.in_(ids)))} if ids else {}
    problems = []
    for path, attachment_id in references:
        attachment = found.get(attachment_id)
        usable = attachment is not None and (
            attachment.dossier_id == dossier.id
            or (attachment.dossier_id is None and attachment.owner_id == actor.id)
        )
        if not usable:
            problems.append(
                FieldProblem(
                    path,
                    "Tệp đính kèm không tồn tại hoặc không thuộc về bạn.",
                    "The attachment does not exist or is not yours.",
                    "attachment",
                )
            )
            continue
        if attachment.dossier_id is None:
            attachment.dossier_id = dossier.id
            session.add(attachment)
    if problems:
        raise InvalidInput(
            "Tệp đính kèm không hợp lệ.", "An attachment is not valid.", "validation_error", problems
        )


def script_functions(
    rt: Runtime,
    procedure: Procedure,
    calendar: WorkingCalendar | None = None,
    clock: Callable[[], datetime] = now,
) -> dict[str, Any]:
    """What the model's expressions may call: the working-time functions, and the procedure's own
    (on ``calendar`` and ``clock``: the runtime's and the one clock unless a calendar change
    re-evaluates a timer with another calendar as of when it started waiting)."""
    calendar = calendar or rt.calendar
    own = procedure.plugin.script_functions
    return {**sla.script_functions(calendar, clock), **(own(calendar, procedure) if own else {})}


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


# --- submit -------------------------------------------------------------------------------------


def not_in_force(rt: Runtime, procedure_code: str) -> Conflict:
    """No version of the procedure is in force today: not yet, or no longer."""
    upcoming = rt.catalogue.upcoming(procedure_code)
    if upcoming is not None and upcoming.effective_from is not None:
        return Conflict(
            f"Thủ tục được áp dụng từ ngày {upcoming.effective_from:%d/%m/%Y}.",
            f"The procedure applies from {upcoming.effective_from:%d/%m/%Y}.",
            "procedure_not_in_force",
        )
    return Conflict(
        "Thủ tục không còn được áp dụng.", "The procedure no longer applies.", "procedure_not_in_force"
    )


@command("submit_dossier")
def submit_dossier(
    rt: Runtime, actor: User, procedure_code: str, data: dict[str, Any], idempotency_key: str | None = None
) -> tuple[Dossier, bool]:
    """Start a dossier. Returns (dossier, created); a repeated idempotency key returns the first one."""
    procedure = rt.procedure_for_new_dossier(procedure_code, now())
    # An internal procedure (an inspection campaign) is started by the staff its plug-in names.
    starter = procedure.plugin.started_by if procedure is not None else None
    permissions.require(actor, starter or permissions.DOSSIER_SUBMIT)
    if procedure is None and procedure_code in rt.catalogue.versions:
        raise not_in_force(rt, procedure_code)
    if procedure is None:
        raise InvalidInput(
            "Thủ tục không có trong danh mục.",
            "No such procedure in the catalogue.",
            "validation_error",
            [
                FieldProblem(
                    "procedure",
                    f"Không có thủ tục '{procedure_code}'.",
                    f"Unknown procedure '{procedure_code}'.",
                    "enum",
                )
            ],
        )
    if idempotency_key:
        existing = _by_idempotency_key(rt, actor, idempotency_key)
        if existing is not None:
            return existing, False
    if procedure.start_window is not None:
        with reading(rt.engine) as session:
            procedure.start_window.check(session, procedure.code, actor, now())
    _validate_form(rt, procedure.start_form, data, procedure=procedure)
    _check_applicant(procedure, actor, data)
    if procedure.plugin.check_start is not None:
        with reading(rt.engine) as session:
            procedure.plugin.check_start(session, procedure, actor, data, now())
    try:
        with transaction(rt.engine) as session:
            dossier = _start(rt, session, actor, procedure, data, idempotency_key)
        return dossier, True
    except IntegrityError:
        # Two submissions with one idempotency key raced: the first one won.
        if idempotency_key:
            existing = _by_idempotency_key(rt, actor, idempotency_key)
            if existing is not None:
                return existing, False
        raise


def start_in_transaction(
    rt: Runtime, session: Session, actor: User, procedure: Procedure, data: dict[str, Any]
) -> Dossier:
    """Start a dossier inside a caller's transaction, for a command that writes other rows with it
    (the TBT inquiry of a visitor: the visitor identity and the rate-limit record). The caller
    decides who may start it; the form is validated here."""
    _validate_form(rt, procedure.start_form, data, procedure=procedure)
    return _start(rt, session, actor, procedure, data, None)


def _by_idempotency_key(rt: Runtime, actor: User, key: str) -> Dossier | None:
    with transaction(rt.engine) as session:
        return session.exec(
            select(Dossier).where(Dossier.applicant_id == actor.id, Dossier.idempotency_key == key)
        ).first()


def _check_applicant(procedure: Procedure, actor: User, data: dict[str, Any]) -> None:
    field = procedure.applicant_tax_code_field
    if field and actor.tax_code and procedure.tax_code_of(data) != actor.tax_code:
        raise InvalidInput(
            "Mã số thuế trong hồ sơ phải là mã số thuế của tài khoản nộp hồ sơ.",
            "The tax code in the dossier must be the submitting account's tax code.",
            "validation_error",
            [FieldProblem(field, f"Phải là {actor.tax_code}.", f"Must be {actor.tax_code}.", "const")],
        )


def _start(
    rt: Runtime, session: Session, actor: User, procedure: Procedure, data: dict[str, Any], key: str | None
) -> Dossier:
    # A rejected tax code keeps its dossiers but starts no new one (workflows.tax_codes).
    refuse_new_dossier_if_rejected(session, actor)
    at = now()
    dossier = Dossier(
        code=new_dossier_code(session, rt.settings.agency_code, at),
        procedure_code=procedure.code,
        rules_version=procedure.version_key,
        applicant_id=actor.id,
        applicant_name=official_applicant_name(actor, procedure.applicant_name_of(data)),
        applicant_tax_code=actor.tax_code or "",
        subject=procedure.subject_of(data),
        status="submitted",
        idempotency_key=key,
        data=data,
        submitted_at=at,
        updated_at=at,
    )
    session.add(dossier)
    session.flush()
    note_dossier(dossier.code)
    _bind_attachments(rt, session, procedure.start_form, data, actor, dossier)
    version_id = rt.model_version_of(procedure)
    calendar_entries.refresh(rt, session)  # a model may receive it, or set a timer, right away
    try:
        process = RunningProcess.start(
            rt.models.get(version_id),
            _start_data(session, procedure, dossier, data),
            script_functions(rt, procedure),
        )
    except EngineError as exc:
        raise _engine_failure(exc) from exc
    ctx = CommandContext(rt=rt, session=session, actor=actor, dossier=dossier, procedure=procedure, at=at)
    audit.record(
        session,
        ctx.stream,
        "submitted",
        actor,
        {"procedure": procedure.code, "code": dossier.code},
        dossier_id=dossier.id,
        at=at,
    )
    submitted = dossier_event(session, "dossier_submitted", dossier, at)
    session.add(
        ProcessInstance(
            dossier_id=dossier.id,
            model_version_id=version_id,
            state=process.serialize(),
            completed=process.completed,
            next_timer_at=process.next_timer_at(),
        )
    )
    _after_engine(ctx, process)
    if dossier.received_at is not None:
        # The model received it on submission (a TBT question): "received, due …" says it all.
        retract(session, submitted)
    return dossier


def _start_data(
    session: Session, procedure: Procedure, dossier: Dossier, data: dict[str, Any]
) -> dict[str, Any]:
    """The filed form plus the procedure's start facts (e.g. the importer's history): what the
    process starts with. The filed form itself is left as it was filed and validated."""
    provider = procedure.plugin.start_facts
    if provider is None:
        return data
    facts = provider(session, procedure.code, dossier.applicant_tax_code, dossier.submitted_at)
    return {**data, **facts}


def _after_engine(ctx: CommandContext, process: RunningProcess, completed_task_id: str | None = None) -> None:
    """Apply what the model asked for (on the data it just produced), then project tasks and fields."""
    with ctx.session.no_autoflush:  # one write per row at the end, not one per query in between
        ctx.dossier.data = process.data
        apply_effects(ctx, process.drain_effects())
        sync_after_run(ctx, process, completed_task_id=completed_task_id)


def project_run(ctx: CommandContext, process: RunningProcess) -> None:
    """What a command does after the engine ran, for a caller outside this module that moved the
    instance itself (a migration onto another model version): effects, tasks, fields."""
    _after_engine(ctx, process)


def _engine_failure(exc: EngineError) -> Conflict:
    """What the person is told when the model cannot run its next step (a script or an expression
    failed): nothing was saved, and the fault is in the log for the administrator."""
    log.error("The process model could not run its next step: %s", exc, exc_info=exc)
    return Conflict(
        "Quy trình không thể thực hiện bước tiếp theo nên chưa có gì được lưu; lỗi đã được ghi lại "
        "để quản trị viên xem xét.",
        "The process could not run its next step, so nothing was saved; the fault has been logged "
        "for the administrator.",
        "engine_error",
    )


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
            _validate_form(rt, task.form, data, dossier, rt.procedure_of(dossier))
            _bind_attachments(rt, session, task.form, data, actor, dossier)
        process = _restore(rt, instance, dossier)
        try:
            process.complete(task_id, data)
        except TaskNotReady as exc:
            raise stale() from exc
        except EngineError as exc:
            raise _engine_failure(exc) from exc
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
        _after_engine(ctx, process, completed_task_id=task_id)
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
        raise _engine_failure(exc) from exc
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
    _after_engine(ctx, process)
