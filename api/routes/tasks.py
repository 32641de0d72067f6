"""The inbox: open tasks for my roles by due time; claim, release, complete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.bounds import PageNumber, PageSize
from api.deps import CurrentUser, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import DossierSummaryOut, InboxItemOut, InboxPageOut, TaskDetailOut, TaskOut
from workflows import commands, queries

router = APIRouter(prefix="/api/tasks", tags=["tasks"], responses=ERROR_RESPONSES)


class CompleteTask(BaseModel):
    data: dict[str, Any]


@router.get("", response_model=InboxPageOut)
def inbox(
    user: CurrentUser,
    rt: RuntimeDep,
    mine: Annotated[bool, Query(description="Chỉ việc tôi đang giữ / Only tasks I hold")] = False,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> InboxPageOut:
    """Việc cần làm theo vai trò, hạn sớm nhất trước / Open tasks for my roles, earliest due first."""
    result = queries.inbox(rt, user, mine_only=mine, page=page, page_size=page_size)
    items = []
    for task, dossier in result.items:
        base = TaskOut.of(task, dossier.code).model_dump()
        items.append(
            InboxItemOut(
                **base,
                procedure_code=dossier.procedure_code,
                applicant_name=dossier.applicant_name,
                subject=dossier.subject,
                dossier_status=dossier.status,
            )
        )
    return InboxPageOut(
        items=items, total=result.total, page=result.page, page_size=result.page_size, more=result.more
    )


@router.get("/{task_id}", response_model=TaskDetailOut)
def get_task(task_id: str, user: CurrentUser, rt: RuntimeDep) -> TaskDetailOut:
    """Một việc với biểu mẫu và dữ liệu hồ sơ / A task with its form schema and the dossier's data."""
    task, dossier, data = queries.task_with_dossier(rt, user, task_id)
    form = rt.procedure_of(dossier).form(rt.forms, task.form) if task.form else None
    return TaskDetailOut(
        task=TaskOut.of(task, dossier.code),
        form_schema=form.schema if form else None,
        form_ui_schema=form.ui_schema if form else None,
        data=data,
    )


@router.post("/{task_id}/claim", response_model=TaskOut)
def claim(task_id: str, user: CurrentUser, rt: RuntimeDep) -> TaskOut:
    task = commands.claim_task(rt, user, task_id)
    return TaskOut.of(task, _code(rt, user, task_id))


@router.post("/{task_id}/release", response_model=TaskOut)
def release(task_id: str, user: CurrentUser, rt: RuntimeDep) -> TaskOut:
    task = commands.release_task(rt, user, task_id)
    return TaskOut.of(task, _code(rt, user, task_id))


@router.post("/{task_id}/complete", response_model=DossierSummaryOut)
def complete(task_id: str, body: CompleteTask, user: CurrentUser, rt: RuntimeDep) -> DossierSummaryOut:
    """Hoàn thành việc với dữ liệu biểu mẫu / Complete the task with its form data."""
    dossier = commands.complete_task(rt, user, task_id, body.data)
    return DossierSummaryOut.of(dossier)


def _code(rt: Any, user: Any, task_id: str) -> str:
    _, dossier, _ = queries.task_with_dossier(rt, user, task_id)
    return dossier.code
