"""The draft of the document an approval issues, for the leader to read before approving.

The model says which document a user task leads to (its ``previewStep`` property: an expression
naming the ``tdcflow/issue_document`` step its completion runs, e.g. the notice if the specialist
concluded to accept, the refusal otherwise). The draft is that step's document rendered from the
dossier as it stands, unissued: no number, no verification code, marked "DỰ THẢO". Nothing is
written: a draft is read, never issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from workflows import permissions
from workflows.context import CommandContext
from workflows.db import reading
from workflows.dossier_documents import draft_document
from workflows.engine import EngineError, RunningProcess, TaskNotReady
from workflows.engine_runs import script_functions
from workflows.errors import not_found
from workflows.models import Dossier, ProcessInstance, User, WorkTask
from workflows.runtime import Runtime
from workflows.visibility import can_see

ISSUE_DOCUMENT = "issue_document"


@dataclass(frozen=True)
class Draft:
    kind: str
    filename: str
    docx: bytes


def task_has_draft(rt: Runtime, task: WorkTask, dossier: Dossier) -> bool:
    """Whether the model names a document for this task to preview (no engine work: the spec's
    property), so that the page offers the draft only where there is one."""
    view = rt.procedure_of(dossier).model.user_tasks.get(task.spec_name)
    return view is not None and view.previews_document


def draft_for_task(rt: Runtime, actor: User, task_id: str) -> Draft:
    """The draft of the document the open task ``task_id`` leads to, for whoever may work it.
    ``NotFound`` when the task is not open, not the actor's to work, or names no document."""
    with reading(rt.engine) as session:
        task = session.get(WorkTask, task_id)
        dossier = session.get(Dossier, task.dossier_id) if task else None
        if (
            task is None
            or dossier is None
            or task.status != "open"
            or not can_see(session, actor, dossier)
            or not permissions.may_work_task(actor, task, dossier)
        ):
            raise not_found("dự thảo", "Draft")
        instance = session.exec(
            select(ProcessInstance).where(ProcessInstance.dossier_id == dossier.id)
        ).first()
        if instance is None:
            raise not_found("dự thảo", "Draft")
        procedure = rt.procedure_of(dossier)
        process = RunningProcess.restore(
            rt.models.get(instance.model_version_id), instance.state, script_functions(rt, procedure)
        )
        try:
            effect = process.previewed_effect(task_id)
        except (TaskNotReady, EngineError):
            effect = None
        if effect is None or effect.operation != ISSUE_DOCUMENT:
            raise not_found("dự thảo", "Draft")
        kind = str(effect.params.get("kind", ""))
        extra = {k: v for k, v in effect.params.items() if k not in ("kind", "event")}
        ctx = CommandContext.of(rt, session, actor, dossier)
        docx = draft_document(ctx, kind, extra)
    return Draft(kind=kind, filename=f"du-thao-{kind}-{dossier.code}.docx", docx=docx)
