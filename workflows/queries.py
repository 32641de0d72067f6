"""Read-side queries: dossier lists and details, inboxes, documents, public lookup and verification.

Access rules live here too: a business sees only its own dossiers (another's is "not found"),
officers see all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from workflows import dossier_search, permissions
from workflows.catalogue import office_day
from workflows.clock import as_utc, now
from workflows.db import reading
from workflows.document_rendering import render_pending, rendered
from workflows.errors import Conflict, not_found
from workflows.models import (
    Attachment,
    AuditEvent,
    ClockPause,
    Document,
    DocumentSigning,
    Dossier,
    ProcessInstance,
    User,
    WorkTask,
)
from workflows.paging import COUNT_CAP, Page, count, page_of, paginate
from workflows.plugins import NO_PLUGIN, DossierPrivacy
from workflows.runtime import Runtime
from workflows.verification import VerifiedDocument, find_document
from workflows.visibility import can_see, visible_condition


@dataclass(frozen=True)
class DossierFilter:
    q: str | None = None  # words of the code, tax code, applicant name or subject (dossier_search)
    procedure: str | None = None
    status: str | None = None
    tax_code: str | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class DossierDetail:
    dossier: Dossier
    model_version_id: int
    open_tasks: list[WorkTask]
    all_tasks: list[WorkTask]
    history: list[AuditEvent]
    documents: list[Document]
    attachments: list[Attachment]
    pauses: list[ClockPause]


def privacy_of(rt: Runtime, dossier: Dossier) -> DossierPrivacy:
    """What of the dossier its procedure keeps from whom (workflows.plugins.DossierPrivacy)."""
    procedure = rt.catalogue.for_dossier(dossier)
    return procedure.plugin.privacy if procedure is not None else NO_PLUGIN.privacy


def visible_dossier(session: Session, actor: User, code: str) -> Dossier:
    dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
    if dossier is None or not can_see(session, actor, dossier):
        raise not_found("hồ sơ", "Dossier")
    return dossier


# The policy's data rule, under the name the pages know.
may_act_on = permissions.may_work_task


def list_dossiers(rt: Runtime, actor: User, flt: DossierFilter) -> Page:
    """One page of the dossiers ``actor`` sees that meet ``flt``, newest first, counted up to
    ``paging.COUNT_CAP`` (more: "more than 1,000")."""
    with reading(rt.engine) as session:
        query = select(Dossier)
        visible = visible_condition(actor)
        if visible is not None:
            query = query.where(visible)
        found = dossier_search.find(session, flt.q) if flt.q else None
        if found is not None:
            query = query.where(found.condition)
        filters = [
            Dossier.procedure_code == flt.procedure if flt.procedure else None,
            Dossier.status == flt.status if flt.status else None,
            Dossier.applicant_tax_code == flt.tax_code if flt.tax_code else None,
            Dossier.submitted_at >= as_utc(flt.submitted_from) if flt.submitted_from else None,
            Dossier.submitted_at < as_utc(flt.submitted_to) if flt.submitted_to else None,
        ]
        for condition in filters:
            if condition is not None:
                query = query.where(condition)
        ordered = query.order_by(Dossier.submitted_at.desc(), Dossier.id.desc())
        if found is not None and found.many and visible is None and not any(c is not None for c in filters):
            # The index already counted more than the cap for these words alone.
            skip = (flt.page - 1) * flt.page_size
            if found.recent and flt.page * flt.page_size <= found.recent:
                listed = dossier_search.newest_matching(flt.q or "", skip, flt.page_size)
            else:
                listed = ordered.offset(skip).limit(flt.page_size)
            items = list(session.exec(listed).all())
            return page_of(items, COUNT_CAP, True, flt.page, flt.page_size)
        return paginate(session, ordered, flt.page, flt.page_size, cap=COUNT_CAP)


def statuses_in_use(rt: Runtime, actor: User) -> set[str]:
    """The statuses the dossiers the actor sees are in (a business's filter offers only those)."""
    with reading(rt.engine) as session:
        query = select(Dossier.status).distinct()
        visible = visible_condition(actor)
        if visible is not None:
            query = query.where(visible)
        return set(session.exec(query).all())


# Who holds which step is the department's own business: the applicant (and a visitor following
# a question) reads what happened to the dossier, not who claimed or handed back a task.
INTERNAL_ACTIONS = frozenset({"task_claimed", "task_released", "task_assigned"})
# Records of the machinery, not steps of the dossier: kept in the audit trail, not in its history.
TECHNICAL_ACTIONS = frozenset({"document_rendered"})


def dossier_detail(rt: Runtime, actor: User, code: str) -> DossierDetail:
    detail, pending = _read_detail(rt, actor, code)
    if not pending:
        return detail
    for document_id in pending:  # issued by the last command: their files are made now
        render_pending(rt, document_id)
    return _read_detail(rt, actor, code)[0]


def _read_detail(rt: Runtime, actor: User, code: str) -> tuple[DossierDetail, list[str]]:
    """The dossier as ``actor`` sees it, and the ids of its documents not rendered yet."""
    with reading(rt.engine) as session:
        dossier = visible_dossier(session, actor, code)
        instance = session.exec(
            select(ProcessInstance.model_version_id).where(ProcessInstance.dossier_id == dossier.id)
        ).one()
        all_tasks = session.exec(
            select(WorkTask)
            .where(WorkTask.dossier_id == dossier.id)
            .order_by(WorkTask.created_at, WorkTask.id)
        ).all()
        tasks = [t for t in all_tasks if t.status == "open"]
        history = session.exec(
            select(AuditEvent).where(AuditEvent.stream == f"dossier:{dossier.id}").order_by(AuditEvent.seq)
        ).all()
        history = [event for event in history if event.action not in TECHNICAL_ACTIONS]
        if not actor.is_officer:
            history = [event for event in history if event.action not in INTERNAL_ACTIONS]
        every_document = session.exec(
            select(Document).where(Document.dossier_id == dossier.id).order_by(Document.issued_at)
        ).all()
        pending = [d.id for d in every_document if not d.sha256]
        documents = [
            d
            for d in every_document
            if permissions.may_read_document(actor, privacy_of(rt, dossier).applicant_may_read(d.kind))
        ]
        attachments = session.exec(
            select(Attachment).where(Attachment.dossier_id == dossier.id).order_by(Attachment.created_at)
        ).all()
        pauses = session.exec(
            select(ClockPause).where(ClockPause.dossier_id == dossier.id).order_by(ClockPause.started_at)
        ).all()
        detail = DossierDetail(
            dossier,
            int(instance),
            list(tasks),
            list(all_tasks),
            privacy_of(rt, dossier).visible_history(dossier, list(history)),
            list(documents),
            list(attachments),
            list(pauses),
        )
    return detail, pending


def inbox(rt: Runtime, actor: User, mine_only: bool = False, page: int = 1, page_size: int = 50) -> Page:
    """Open tasks the actor may work on, earliest due first (tasks without a due time last),
    counted up to ``paging.COUNT_CAP``.

    An officer's page is chosen on the tasks alone, from the covering index ``ix_work_task_open``
    (no table row read to sort thousands of open tasks), and only its rows are joined with their
    dossiers; a business's tasks are found through its dossiers."""
    with reading(rt.engine) as session:
        scope = permissions.inbox_scope(actor)
        conditions = []
        if scope.roles:
            conditions.append(WorkTask.candidate_role.in_(scope.roles))
        if scope.assigned_roles:
            conditions.append(
                WorkTask.candidate_role.in_(scope.assigned_roles) & (WorkTask.assignee_id == actor.id)
            )
        if scope.applicant_tasks:
            conditions.append((WorkTask.candidate_role == "business") & (Dossier.applicant_id == actor.id))
        if not conditions:
            return Page([], 0, page, page_size)
        order = (WorkTask.due_at.is_(None), WorkTask.due_at, WorkTask.created_at, WorkTask.id)
        chosen = select(WorkTask.id).where(WorkTask.status == "open", or_(*conditions))
        if scope.applicant_tasks:
            chosen = chosen.join(Dossier, Dossier.id == WorkTask.dossier_id)
        if mine_only:
            chosen = chosen.where(WorkTask.assignee_id == actor.id)
        total, more = count(session, chosen, COUNT_CAP)
        ids = chosen.order_by(*order).offset((page - 1) * page_size).limit(page_size).scalar_subquery()
        rows = session.exec(
            select(WorkTask, Dossier)
            .join(Dossier, Dossier.id == WorkTask.dossier_id)
            .where(WorkTask.id.in_(ids))
            .order_by(*order)
        ).all()
        return page_of([(task, dossier) for task, dossier in rows], total, more, page, page_size)


def holder_name(rt: Runtime, task: WorkTask) -> str:
    """Who holds a task (claimed it, or was assigned it by the model)."""
    if task.assignee_id is None:
        return ""
    with reading(rt.engine) as session:
        holder = session.get(User, task.assignee_id)
        return holder.display_name if holder else ""


def task_with_dossier(rt: Runtime, actor: User, task_id: str) -> tuple[WorkTask, Dossier, dict[str, Any]]:
    """A task the actor may see, its dossier, and the data its form starts from."""
    with reading(rt.engine) as session:
        task = session.get(WorkTask, task_id)
        dossier = session.get(Dossier, task.dossier_id) if task else None
        if task is None or dossier is None or not can_see(session, actor, dossier):
            raise not_found("công việc", "Task")
        if not permissions.may(actor, permissions.DOSSIER_SEE_ALL) and not may_act_on(actor, task, dossier):
            raise not_found("công việc", "Task")
        return task, dossier, privacy_of(rt, dossier).visible_data(dossier, dict(dossier.data))


def _readable_document(rt: Runtime, actor: User, document_id: str) -> Document:
    with reading(rt.engine) as session:
        document = session.get(Document, document_id)
        dossier = session.get(Dossier, document.dossier_id) if document else None
        if document is None or dossier is None or not can_see(session, actor, dossier):
            raise not_found("văn bản", "Document")
        if not permissions.may_read_document(
            actor, privacy_of(rt, dossier).applicant_may_read(document.kind)
        ):
            raise not_found("văn bản", "Document")
        return document


def document_for(rt: Runtime, actor: User, document_id: str) -> tuple[Document, bytes]:
    """The official copy of a dossier's document: its PDF signed by the agency. ``Conflict``
    (``document_being_signed``) while the worker is still making it (seconds after issue)."""
    document = _readable_document(rt, actor, document_id)
    if document.pdf_sha256 is None:
        with reading(rt.engine) as session:
            job = session.get(DocumentSigning, document_id)
        if job is not None and job.awaiting_user_id is not None:
            raise Conflict(
                "Văn bản đang chờ lãnh đạo ký số.",
                "The document awaits its leader's signature.",
                "document_awaiting_leader",
            )
        raise being_signed()
    return document, rt.store.read(document.pdf_sha256)


def editable_copy_for(rt: Runtime, actor: User, document_id: str) -> tuple[Document, bytes]:
    """The .docx a document was rendered as: the officers' editable copy (not the official one)."""
    if not permissions.may_read_editable_copy(actor):
        raise not_found("văn bản", "Document")
    document = rendered(rt, _readable_document(rt, actor, document_id))
    return document, rt.store.read(document.sha256)


def being_signed() -> Conflict:
    return Conflict(
        "Văn bản đang được ký số, vui lòng thử lại sau ít giây.",
        "The document is being signed; try again in a few seconds.",
        "document_being_signed",
    )


def attachment_for(rt: Runtime, actor: User, attachment_id: str) -> tuple[Attachment, bytes]:
    with reading(rt.engine) as session:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            raise not_found("tệp đính kèm", "Attachment")
        dossier = session.get(Dossier, attachment.dossier_id) if attachment.dossier_id else None
        allowed = attachment.owner_id == actor.id or (
            dossier is not None and can_see(session, actor, dossier)
        )
        if not allowed:
            raise not_found("tệp đính kèm", "Attachment")
        return attachment, rt.store.read(attachment.sha256)


def public_lookup(rt: Runtime, code: str) -> Dossier:
    """The dossier of a code as printed on its receipt, or typed in lower case (codes are ASCII)."""
    typed = code.strip()
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code.in_({typed, typed.upper()}))).first()
    procedure = rt.catalogue.for_dossier(dossier) if dossier is not None else None
    # An internal procedure's dossier (an inspection campaign, planned before the visits) is none
    # of the public's business.
    if dossier is None or (procedure is not None and procedure.internal):
        raise not_found("hồ sơ", "Dossier")
    return dossier


def verify_document(rt: Runtime, verification_code: str) -> VerifiedDocument:
    with reading(rt.engine) as session:
        found = find_document(session, verification_code)
        pending = found.document_id if found is not None and not found.sha256 else None
    if pending is not None:  # issued moments ago: its .docx (and SHA-256) is made now
        render_pending(rt, pending)
        with reading(rt.engine) as session:
            found = find_document(session, verification_code)
    if found is None:
        raise not_found("văn bản với mã xác thực này", "Document with this verification code")
    return found


def is_overdue(due: datetime | None) -> bool:
    return due is not None and as_utc(due) < now()


def model_sources(rt: Runtime, version_id: int) -> dict[str, str]:
    """The BPMN sources of a model version (what the dossier's diagram shows)."""
    return dict(rt.models.get(version_id).sources)


def data_for(rt: Runtime, actor: User, dossier: Dossier) -> dict[str, Any]:
    """Officers read the whole process data; a business reads back what it filed (its start form's
    fields), not the department's working notes."""
    if permissions.may_read_whole_data(actor):
        return privacy_of(rt, dossier).visible_data(dossier, dict(dossier.data))
    procedure = rt.catalogue.for_dossier(dossier)
    if procedure is None:
        return {}
    keys = set(rt.forms.get(procedure.start_form).field_names())
    return {k: v for k, v in dossier.data.items() if k in keys}


def at_risk(rt: Runtime, horizon_days: int = 1) -> list[Dossier]:
    """Open, received dossiers whose appointment falls within ``horizon_days`` working days, or has
    passed: the ones that need attention to keep the province's promise."""
    with reading(rt.engine) as session:
        return list(session.exec(_at_risk_query(rt, horizon_days)).all())


def at_risk_page(rt: Runtime, horizon_days: int = 1, page: int = 1, page_size: int = 50) -> Page:
    """``at_risk``, one page of it and how many there are."""
    with reading(rt.engine) as session:
        return paginate(session, _at_risk_query(rt, horizon_days), page, page_size)


def _at_risk_query(rt: Runtime, horizon_days: int) -> Any:
    horizon = rt.calendar.add_working_days(now(), horizon_days)
    return (
        select(Dossier)
        .where(
            Dossier.completed_at.is_(None),
            Dossier.appointment_at.is_not(None),
            Dossier.appointment_at <= horizon,
        )
        .order_by(Dossier.appointment_at, Dossier.id)
    )


def attachments_by_id(rt: Runtime, ids: list[str]) -> dict[str, Attachment]:
    """The attachments with these ids (to show files already uploaded in a form)."""
    if not ids:
        return {}
    with reading(rt.engine) as session:
        return {a.id: a for a in session.exec(select(Attachment).where(Attachment.id.in_(ids))).all()}


def dossier_warnings(rt: Runtime, user: User, dossier: Dossier) -> list[tuple[str, str]]:
    """What the dossier's procedure warns officers of while it is open ((vi, en) each): e.g. a
    certificate that has expired or expires before the appointment. Officers only."""
    procedure = rt.catalogue.for_dossier(dossier)
    if (
        procedure is None
        or procedure.plugin.dossier_warnings is None
        or dossier.completed_at is not None
        or not permissions.may_read_whole_data(user)
    ):
        return []
    appointment = office_day(as_utc(dossier.appointment_at)) if dossier.appointment_at else None
    return procedure.plugin.dossier_warnings(dossier.data, office_day(now()), appointment)
