"""Submitting a dossier: the procedure's version in force checked, the start form validated, the
dossier created with its code and its process started, in one transaction (DESIGN rules 2 and 3).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from workflows import audit, calendar_entries, permissions
from workflows.applicants import official_applicant_name
from workflows.catalogue import Procedure
from workflows.clock import now
from workflows.codes import new_dossier_code
from workflows.command_log import command, note_dossier
from workflows.context import CommandContext
from workflows.db import reading, transaction
from workflows.engine import EngineError, RunningProcess
from workflows.engine_runs import after_engine, engine_failure, script_functions
from workflows.errors import Conflict, FieldProblem, InvalidInput
from workflows.filed_forms import bind_attachments, validate_form
from workflows.models import Dossier, ProcessInstance, User
from workflows.outbox import dossier_event, retract
from workflows.runtime import Runtime
from workflows.tax_codes import refuse_new_dossier_if_rejected


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
    validate_form(rt, procedure.start_form, data, procedure=procedure)
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
    validate_form(rt, procedure.start_form, data, procedure=procedure)
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
    bind_attachments(rt, session, procedure.start_form, data, actor, dossier)
    version_id = rt.model_version_of(procedure)
    calendar_entries.refresh(rt, session)  # a model may receive it, or set a timer, right away
    try:
        process = RunningProcess.start(
            rt.models.get(version_id),
            _start_data(session, procedure, dossier, data),
            script_functions(rt, procedure),
        )
    except EngineError as exc:
        raise engine_failure(exc) from exc
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
    after_engine(ctx, process)
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
