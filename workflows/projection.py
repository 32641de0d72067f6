"""Keeps the tables people query in step with the process instance after the engine ran.

The open user tasks become ``work_task`` rows (the inboxes), and the dossier's searchable fields
(status, current step, data) follow the process. Called by every command, inside its transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam
from sqlmodel import select

from workflows import audit, permissions
from workflows.alarms import drop_task_alarms, schedule_task_alarms
from workflows.applicants import official_applicant_name, registered_organisation
from workflows.clock import as_utc
from workflows.context import CommandContext
from workflows.engine import RunningProcess, UserTaskView
from workflows.models import User, WorkTask
from workflows.outbox import dossier_event
from workflows.sla import add_budget

STATUS_WHEN_NO_TASK_SAYS = "processing"
# Built once: every command reads them (building a statement costs more than running it here).
_OPEN_TASKS = select(WorkTask).where(
    WorkTask.dossier_id == bindparam("dossier_id"), WorkTask.status == "open"
)


def sync_after_run(
    ctx: CommandContext, process: RunningProcess, completed_task_id: str | None = None
) -> None:
    session = ctx.session
    dossier = ctx.dossier
    ready = {task.id: task for task in process.ready_user_tasks()}
    open_rows = session.exec(_OPEN_TASKS, params={"dossier_id": dossier.id}).all()
    known = set()
    for row in open_rows:
        known.add(row.id)
        if row.id in ready or (row.id == completed_task_id and row.status == "completed"):
            continue  # still open, or marked completed (and its alarms dropped) before the run
        drop_task_alarms(session, row.id)
        if row.id == completed_task_id:
            row.status = "completed"
            row.completed_by_id = ctx.actor.id if ctx.actor else None
            row.completed_at = ctx.at
        else:
            row.status = "cancelled"
            row.completed_at = ctx.at
        session.add(row)
    for task in ready.values():
        if task.id not in known:
            row = _new_row(ctx, task)
            if row.assignee_id is None and row.candidate_role not in ("", "business"):
                done_now = [r for r in open_rows if r.status == "completed"]
                _offer_to_predecessor(ctx, row, done_now)
            session.add(row)
            schedule_task_alarms(ctx, row)
            dossier_event(
                session,
                "task_available",
                dossier,
                ctx.at,
                task_id=row.id,
                step=row.spec_name,
                task_name=row.name,
                task_name_en=row.name_en,
                role=row.candidate_role,
                assignee_id=row.assignee_id,
                due_at=row.due_at,
            )

    dossier.data = process.data
    refresh_searchable_fields(ctx)
    if process.completed:
        dossier.status = dossier.outcome or "completed"
        dossier.current_step = None
    else:
        tasks = list(ready.values())
        dossier.status = next((t.dossier_status for t in tasks if t.dossier_status), STATUS_WHEN_NO_TASK_SAYS)
        # Parallel instances of one step (the council's score sheets) name it once.
        dossier.current_step = "; ".join(dict.fromkeys(t.name for t in tasks)) or None
    dossier.updated_at = ctx.at
    session.add(dossier)


def mark_completed(ctx: CommandContext, row: WorkTask) -> None:
    """The completed task is done before the engine's consequences are applied, so that what they
    issue (the process control slip of a closing step) lists it with who did it and when."""
    drop_task_alarms(ctx.session, row.id)
    row.status = "completed"
    row.completed_by_id = ctx.actor.id if ctx.actor else None
    row.completed_at = ctx.at
    ctx.session.add(row)


def _new_row(ctx: CommandContext, task: UserTaskView) -> WorkTask:
    budget = ctx.procedure.step_budgets.get(task.spec_name)
    is_business = task.candidate_role == "business"
    # An instance the model assigns to one person (``assigneeVariable``, e.g. a council member's
    # score sheet) is theirs from the start; a business's task belongs to the applicant alone.
    assignee = int(task.assignee) if task.assignee and task.assignee.isdigit() else None
    if is_business:
        assignee = ctx.dossier.applicant_id
    due_at = add_budget(ctx.rt.calendar, ctx.at, budget) if budget else _instant(task.due)
    return WorkTask(
        id=task.id,
        dossier_id=ctx.dossier.id,
        spec_name=task.spec_name,
        name=task.name,
        name_en=task.name_en,
        candidate_role=task.candidate_role or "",
        form=task.form,
        ui_form=task.ui_form,
        status="open",
        assignee_id=assignee,
        claimed_at=ctx.at if assignee is not None else None,
        created_at=ctx.at,
        due_at=due_at,
    )


def _offer_to_predecessor(ctx: CommandContext, row: WorkTask, done_now: list[WorkTask]) -> None:
    """A step that follows in the same role is offered to the officer who completed the dossier's
    last step in that role (the TBT officer answering the question they registered): it opens
    claimed by them, so it waits in their own inbox rather than the whole role's. They may release
    it to the role like any claim. Nobody is chosen when that officer no longer holds the role or
    no longer works here (a deactivated account). ``done_now``: the tasks this command completed,
    not yet written (the command projects without autoflush)."""
    previous = (
        next(
            (r for r in done_now if r.candidate_role == row.candidate_role and r.completed_by_id is not None),
            None,
        )
        or ctx.session.exec(
            select(WorkTask)
            .where(
                WorkTask.dossier_id == ctx.dossier.id,
                WorkTask.candidate_role == row.candidate_role,
                WorkTask.status == "completed",
                WorkTask.completed_by_id.is_not(None),
            )
            .order_by(WorkTask.completed_at.desc(), WorkTask.created_at.desc())
            .limit(1)
        ).first()
    )
    officer = ctx.session.get(User, previous.completed_by_id) if previous is not None else None
    if officer is None or not officer.is_active or not permissions.may_work_task(officer, row, ctx.dossier):
        return
    row.assignee_id = officer.id
    row.claimed_at = ctx.at
    audit.record(
        ctx.session,
        ctx.stream,
        "task_assigned",
        None,
        {
            "task": row.spec_name,
            "task_id": row.id,
            "assignee_id": officer.id,
            "assignee": officer.full_name,
            "follows": previous.id,
        },
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


def _instant(value: str | None) -> datetime | None:
    """A task's own due instant (``dueVariable``), aware UTC; None when absent or unreadable."""
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return as_utc(instant if instant.tzinfo else instant.replace(tzinfo=UTC))


def cancel_open_tasks(ctx: CommandContext) -> None:
    for row in ctx.session.exec(
        select(WorkTask).where(WorkTask.dossier_id == ctx.dossier.id, WorkTask.status == "open")
    ).all():
        drop_task_alarms(ctx.session, row.id)
        row.status = "cancelled"
        row.completed_at = ctx.at
        ctx.session.add(row)


def refresh_searchable_fields(ctx: CommandContext) -> None:
    """Subject and applicant name follow the dossier's data (a supplement may correct them)."""
    subject = ctx.procedure.subject_of(ctx.dossier.data)
    if subject:
        ctx.dossier.subject = subject
    declared = ctx.procedure.applicant_name_of(ctx.dossier.data)
    # A business account's registered organisation names it, whatever the form says.
    applicant = ctx.session.get(User, ctx.dossier.applicant_id) if ctx.dossier.applicant_id else None
    name = official_applicant_name(applicant, declared) if declared else registered_organisation(applicant)
    if name:
        ctx.dossier.applicant_name = name
