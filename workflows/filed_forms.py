"""The form data a command receives with a dossier's start or a task: checked against the form's
rules (as the procedure's version asks them), and the attachments it names bound to the dossier.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from forms.validation import FormValidationError, validate, validation_days
from workflows.catalogue import Procedure, office_day
from workflows.clock import as_utc, now
from workflows.errors import FieldProblem, InvalidInput
from workflows.models import Attachment, Dossier, User
from workflows.runtime import Runtime


def validate_form(
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


def bind_attachments(
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
