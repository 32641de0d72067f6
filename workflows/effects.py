"""What each service-task operator of a model means, applied inside the command's transaction.

The model decides when (``<spiffworkflow:serviceTaskOperator id="tdcflow/receive">``); this module
only knows what: record the receipt and the deadlines, pause or resume the clock, issue a
document, close the dossier.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from workflows import audit, sla
from workflows.clock import as_utc
from workflows.codes import new_document_number
from workflows.context import CommandContext
from workflows.documents import DOCUMENT_KINDS, DocumentContext, new_verification_code, render_document
from workflows.engine import Effect
from workflows.models import ClockPause, Document


def apply_effects(ctx: CommandContext, effects: list[Effect]) -> None:
    for effect in effects:
        handler = _HANDLERS.get(effect.operation)
        if handler is None:  # the catalogue check makes this unreachable for loaded models
            raise ValueError(f"Unknown operator tdcflow/{effect.operation} in {effect.task_spec}")
        handler(ctx, effect.params)


def _receive(ctx: CommandContext, params: dict[str, Any]) -> None:
    dossier = ctx.dossier
    dossier.received_at = ctx.rt.calendar.receipt_instant(as_utc(dossier.submitted_at))
    refresh_deadlines(ctx)
    audit.record(
        ctx.session,
        ctx.stream,
        "received",
        ctx.actor,
        {
            "received_at": dossier.received_at.isoformat(),
            "appointment_at": dossier.appointment_at.isoformat() if dossier.appointment_at else None,
            "legal_due_at": dossier.legal_due_at.isoformat() if dossier.legal_due_at else None,
        },
        dossier_id=dossier.id,
        at=ctx.at,
    )


def refresh_deadlines(ctx: CommandContext) -> None:
    """Recompute the appointment and legal deadline from the receipt instant and the pauses."""
    dossier = ctx.dossier
    if dossier.received_at is None:
        return
    pauses = ctx.session.exec(select(ClockPause).where(ClockPause.dossier_id == dossier.id)).all()
    deadlines = sla.dossier_deadlines(
        ctx.rt.calendar,
        as_utc(dossier.received_at),
        ctx.procedure.committed_days,
        ctx.procedure.legal_days,
        [sla.Pause(as_utc(p.started_at), as_utc(p.ended_at) if p.ended_at else None) for p in pauses],
        ctx.at,
    )
    dossier.appointment_at = deadlines.appointment_at
    dossier.legal_due_at = deadlines.legal_due_at


def _open_pause(ctx: CommandContext) -> ClockPause | None:
    return ctx.session.exec(
        select(ClockPause).where(ClockPause.dossier_id == ctx.dossier.id, ClockPause.ended_at.is_(None))
    ).first()


def _pause_clock(ctx: CommandContext, params: dict[str, Any]) -> None:
    if _open_pause(ctx) is not None:
        return
    details = {k: v for k, v in params.items() if k != "reason"}
    reason = str(params.get("reason") or "waiting_on_business")
    ctx.session.add(ClockPause(dossier_id=ctx.dossier.id, reason=reason, details=details, started_at=ctx.at))
    audit.record(
        ctx.session,
        ctx.stream,
        "clock_paused",
        ctx.actor,
        {"reason": reason, **details},
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


def _resume_clock(ctx: CommandContext, params: dict[str, Any]) -> None:
    pause = close_open_pause(ctx)
    if pause is None:
        return
    refresh_deadlines(ctx)
    audit.record(
        ctx.session,
        ctx.stream,
        "clock_resumed",
        ctx.actor,
        {"reason": pause.reason},
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


def close_open_pause(ctx: CommandContext) -> ClockPause | None:
    pause = _open_pause(ctx)
    if pause is not None:
        pause.ended_at = ctx.at
        ctx.session.add(pause)
        ctx.session.flush()
    return pause


def _issue_document(ctx: CommandContext, params: dict[str, Any]) -> None:
    kind_name = str(params.get("kind", ""))
    kind = DOCUMENT_KINDS[kind_name]
    settings = ctx.rt.settings
    dossier = ctx.dossier
    data = dossier.data
    applicant = data.get("applicant", {}) if isinstance(data.get("applicant"), dict) else {}
    number = new_document_number(ctx.session, kind.symbol, settings.document_symbol, ctx.at)
    code = new_verification_code()
    context = DocumentContext(
        kind=kind_name,
        number=number,
        issued_at=ctx.at,
        agency_parent=settings.agency_parent,
        agency_name=settings.agency_name,
        place=settings.agency_place,
        dossier_code=dossier.code,
        applicant_name=dossier.applicant_name,
        applicant_tax_code=dossier.applicant_tax_code,
        applicant_address=str(applicant.get("address", "")),
        data=data,
        signer_name=ctx.actor.full_name if ctx.actor else "",
        signer_title=(ctx.actor.job_title or "") if ctx.actor else "",
        verification_code=code,
        verify_url=f"{settings.base_url.rstrip('/')}/verify/{code}",
        received_at=as_utc(dossier.received_at) if dossier.received_at else None,
    )
    content = render_document(context)
    digest = ctx.rt.store.put(content)
    document = Document(
        id=secrets.token_hex(16),
        dossier_id=dossier.id,
        kind=kind_name,
        title=kind.title_vi,
        number=number,
        filename=f"{kind_name}-{dossier.code}.docx",
        sha256=digest,
        size=len(content),
        verification_code=code,
        issued_by_id=ctx.actor.id if ctx.actor else None,
        issued_at=ctx.at,
    )
    ctx.session.add(document)
    ctx.issued_documents.append(document.id)
    audit.record(
        ctx.session,
        ctx.stream,
        "document_issued",
        ctx.actor,
        {
            "kind": kind_name,
            "number": number,
            "sha256": digest,
            "verification_code": code,
        },
        dossier_id=dossier.id,
        at=ctx.at,
    )


def _close(ctx: CommandContext, params: dict[str, Any]) -> None:
    outcome = str(params.get("outcome") or "completed")
    close_open_pause(ctx)
    dossier = ctx.dossier
    dossier.outcome = outcome
    dossier.completed_at = ctx.at
    details = {k: v for k, v in params.items() if k != "outcome"}
    audit.record(
        ctx.session,
        ctx.stream,
        "closed",
        ctx.actor,
        {"outcome": outcome, **details},
        dossier_id=dossier.id,
        at=ctx.at,
    )


_HANDLERS: dict[str, Callable[[CommandContext, dict[str, Any]], None]] = {
    "receive": _receive,
    "pause_clock": _pause_clock,
    "resume_clock": _resume_clock,
    "issue_document": _issue_document,
    "close": _close,
}

# The operator names a model may use (checked when the catalogue loads).
OPERATORS = frozenset(_HANDLERS)
