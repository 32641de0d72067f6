"""A dossier's output documents: issued from the dossier's data and what the one-stop slips print
besides it (the appointment, the files received, the items to supplement, the steps taken)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sqlmodel import select

from workflows import sla
from workflows.clock import as_utc
from workflows.context import CommandContext
from workflows.documents import DocumentContext
from workflows.documents.issuing import IssuedFor, Numbering, authority_of
from workflows.documents.issuing import issue_document as issue
from workflows.documents.template_versions import render_in_force
from workflows.models import Attachment, Document, User, WorkTask
from workflows.pauses import open_pause


def issue_document(ctx: CommandContext, kind_name: str, extra: dict[str, Any] | None = None) -> Document:
    """Issue one output document of the dossier (numbered, stored, verifiable), in the command's
    transaction (workflows.documents.issuing)."""
    dossier = ctx.dossier
    values = _values(ctx, kind_name, extra)
    # A result valid until a day (a declaration's notice: while its certificate is, or three years
    # from the self-assessment) says so where it is verified.
    validity = {"valid_until": str(values["valid_until"])[:10]} if values.get("valid_until") else None
    document, _ = issue(
        ctx.session,
        ctx.rt,
        kind=kind_name,
        issued_for=IssuedFor(
            "dossier", dossier.id, dossier.code, "Hồ sơ", "Dossier", dossier.applicant_name, dossier.id
        ),
        actor=ctx.actor,
        at=ctx.at,
        context=lambda numbering: document_context(ctx, kind_name, values, numbering),
        filename=f"{kind_name}-{dossier.code}.docx",
        stream=ctx.stream,
        details=validity,
        audit_details=validity,
        procedure=dossier.procedure_code,
        defer=True,  # the .docx after the command (workflows.document_rendering)
    )
    ctx.issued_documents.append(document.id)
    return document


def draft_document(ctx: CommandContext, kind_name: str, extra: dict[str, Any] | None = None) -> bytes:
    """The .docx the dossier's ``kind_name`` document would be if issued now, as an unissued draft
    (no number, no verification code, "DỰ THẢO"): what a leader reads before approving."""
    values = _values(ctx, kind_name, extra)
    draft = Numbering(number="", verification_code="", verify_url="", issued_at=ctx.at)
    content, _ = render_in_force(
        ctx.session,
        ctx.rt.store,
        replace(document_context(ctx, kind_name, values, draft), draft=True),
        ctx.dossier.procedure_code,
    )
    return content


def _values(ctx: CommandContext, kind_name: str, extra: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "procedure_name": ctx.procedure.name_vi,
        # The texts of the version of the rules the dossier follows, for a document that cites them.
        "legal_basis": list(ctx.procedure.legal_basis),
        **slip_values(ctx, kind_name),
        **(extra or {}),
    }


def document_context(
    ctx: CommandContext, kind_name: str, values: dict[str, Any], numbering: Numbering
) -> DocumentContext:
    """What a document of the dossier says, once its number and verification code are known."""
    dossier = ctx.dossier
    settings = ctx.rt.settings
    # The applicant's section of the start form ("applicant", "importer", "organisation", "asker").
    applicant = ctx.procedure.applicant_section_of(dossier.data)
    return DocumentContext(
        kind=kind_name,
        number=numbering.number,
        issued_at=numbering.issued_at,
        agency_parent=settings.agency_parent,
        agency_name=settings.agency_name,
        place=settings.agency_place,
        dossier_code=dossier.code,
        applicant_name=dossier.applicant_name,
        applicant_tax_code=dossier.applicant_tax_code,
        applicant_address=str(applicant.get("address", "")),
        applicant_contact={
            k: applicant.get(k) for k in ("representative", "phone", "email") if applicant.get(k)
        },
        data=dossier.data,
        signer_name=ctx.actor.full_name if ctx.actor else "",
        signer_title=authority_of(ctx.actor, settings),
        verification_code=numbering.verification_code,
        verify_url=numbering.verify_url,
        received_at=as_utc(dossier.received_at) if dossier.received_at else None,
        extra=values,
    )


_PATH_PART = re.compile(r"[^.\[\]]+|\[(\d+)\]")


def _path_of(dotted: str) -> list[str | int]:
    """``"attachments.other[1]"`` → ``["attachments", "other", 1]``."""
    return [int(m.group(1)) if m.group(1) else m.group(0) for m in _PATH_PART.finditer(dotted)]


def _received_documents(ctx: CommandContext) -> list[str]:
    """The dossier's components as the receipt slip lists them: the start form's name for each
    attached file (its file name after it), then any other file of the dossier by its name."""
    dossier = ctx.dossier
    files = ctx.session.exec(
        select(Attachment.id, Attachment.filename)
        .where(Attachment.dossier_id == dossier.id)
        .order_by(Attachment.created_at, Attachment.id)
    ).all()
    names = dict(files)
    listed: list[str] = []
    seen: set[str] = set()
    form = ctx.rt.forms.get(ctx.procedure.start_form) if ctx.procedure.start_form else None
    if form is not None:
        for path, attachment_id in form.attachment_paths(dossier.data or {}):
            if attachment_id in names and attachment_id not in seen:
                seen.add(attachment_id)
                listed.append(f"{form.field_title(_path_of(path))} ({names[attachment_id]})")
    listed.extend(name for attachment_id, name in files if attachment_id not in seen)
    return listed


def slip_values(ctx: CommandContext, kind_name: str) -> dict[str, Any]:
    """What the one-stop slips print besides the form data: appointment, files, items, steps."""
    dossier = ctx.dossier
    if kind_name == "receipt_slip":
        return {
            "appointment_at": as_utc(dossier.appointment_at) if dossier.appointment_at else None,
            "documents": _received_documents(ctx),
            # Mẫu 01 states the time the law sets for the procedure (the version the dossier follows).
            "processing_days": ctx.procedure.legal_days,
        }
    if kind_name == "supplement_request":
        pause = open_pause(ctx)
        details = pause.details if pause else {}
        items = details.get("items")
        # The step the business answers in (the model's pause_clock names it): its budget is the
        # time the slip gives to answer.
        budget = ctx.procedure.step_budgets.get(str(details.get("answer_step") or ""))
        return {"items": list(items or []), "answer_days": int(budget) if budget else None}
    values = ctx.procedure.plugin.document_values.get(kind_name)
    if values is not None:
        return values(ctx.session, dossier.data)
    if kind_name == "process_control_slip":
        tasks = ctx.session.exec(
            select(WorkTask)
            .where(WorkTask.dossier_id == dossier.id)
            .order_by(WorkTask.created_at, WorkTask.id)
        ).all()
        names = (
            {
                u.id: u.full_name
                for u in ctx.session.exec(
                    select(User).where(User.id.in_({t.completed_by_id for t in tasks if t.completed_by_id}))
                ).all()
            }
            if tasks
            else {}
        )
        return {
            "steps": [_step(t, names, ctx.rt.calendar.zone) for t in tasks if t.status != "open"],
            "appointment_at": as_utc(dossier.appointment_at) if dossier.appointment_at else None,
        }
    return {}


def _step(task: WorkTask, names: dict[int, str], zone: Any) -> dict[str, Any]:
    done = as_utc(task.completed_at) if task.completed_at else None
    due = as_utc(task.due_at) if task.due_at else None
    return {
        "step": task.name,
        "received_at": as_utc(task.created_at),
        "due_at": due,
        "done_at": done,
        "by": names.get(task.completed_by_id or 0, ""),
        "outcome": sla.classify(done, due, zone) if done and due and task.status == "completed" else None,
    }
