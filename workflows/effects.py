"""What each service-task operator of a model means, applied inside the command's transaction.

The model decides when (``<spiffworkflow:serviceTaskOperator id="tdcflow/receive">``); this module
only knows what: record the receipt and the deadlines, pause or resume the clock, issue a
document, close the dossier.

The one-stop slips of Circular 03/2025/TT-VPCP belong to these acts for every procedure, so the
operators issue them: ``receive`` the receipt and appointment (Mẫu 01), ``pause_clock`` for
a supplement request the supplement request slip (Mẫu 02), ``close`` of a received dossier the
process control slip (Mẫu 06), and for a dossier that expired the notice of stopping (Mẫu 05). The refusal (Mẫu 03) and the results are issued by the model's
own ``issue_document`` steps; the apology slip (Mẫu 04) by a leader's extension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlmodel import select

from workflows import audit, sla
from workflows.alarms import schedule_dossier_alarms
from workflows.clock import as_utc
from workflows.context import CommandContext
from workflows.dossier_documents import issue_document
from workflows.engine import Effect
from workflows.errors import Conflict
from workflows.models import OUTCOMES, ClockPause, OutcomeRecord, Violation
from workflows.operator_params import CORE_OPERATORS
from workflows.outbox import dossier_event
from workflows.pauses import close_open_pause, open_pause
from workflows.personal_signing import hold_for_signer


def apply_effects(ctx: CommandContext, effects: list[Effect]) -> None:
    """Apply each effect with the core's operator, or with the procedure's own (its plug-in's)."""
    own = ctx.procedure.plugin.operators
    for effect in effects:
        handler = _HANDLERS.get(effect.operation) or own.get(effect.operation)
        if handler is None:  # the catalogue check makes this unreachable for loaded models
            raise ValueError(f"Unknown operator tdcflow/{effect.operation} in {effect.task_spec}")
        handler(ctx, effect.params)


def _receive(ctx: CommandContext, params: dict[str, Any]) -> None:
    """The dossier is received: by the officer who checked it, or — when the model receives it on
    submission (a TBT question) — by the unit (the procedure's ``receiving_unit``), never by the
    applicant who set the step off: the receipt is signed, and the receipt is recorded, so."""
    dossier = ctx.dossier
    dossier.received_at = ctx.rt.calendar.receipt_instant(as_utc(dossier.submitted_at))
    refresh_deadlines(ctx)
    actor = ctx.actor
    officer = actor if actor is not None and actor.is_officer and actor.id != dossier.applicant_id else None
    receiving = replace(ctx, actor=officer)
    unit = ctx.procedure.plugin.receiving_unit.format(place=ctx.rt.settings.agency_place)
    slip = issue_document(receiving, "receipt_slip", None if officer else {"receiving_unit": unit})
    dossier_event(
        ctx.session,
        "dossier_received",
        dossier,
        ctx.at,
        appointment_at=dossier.appointment_at,
        received_at=dossier.received_at,
        document_id=slip.id,
    )
    audit.record(
        ctx.session,
        ctx.stream,
        "received",
        officer,
        {
            **({"receiving_unit": unit} if officer is None else {}),
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
    pauses = list(ctx.session.exec(select(ClockPause).where(ClockPause.dossier_id == dossier.id)).all())
    deadlines = _deadlines(ctx, pauses, extension=dossier.extension_days)
    dossier.appointment_at = deadlines.appointment_at
    dossier.legal_due_at = deadlines.legal_due_at
    schedule_dossier_alarms(ctx)


def _deadlines(ctx: CommandContext, pauses: list[ClockPause], extension: int) -> sla.Deadlines:
    return sla.dossier_deadlines(
        ctx.rt.calendar,
        as_utc(ctx.dossier.received_at),
        ctx.procedure.committed_days + extension,
        ctx.procedure.legal_days,
        [sla.Pause(as_utc(p.started_at), as_utc(p.ended_at) if p.ended_at else None) for p in pauses],
        ctx.at,
    )


def _pause_clock(ctx: CommandContext, params: dict[str, Any]) -> None:
    if open_pause(ctx) is not None:
        return
    details = {k: v for k, v in params.items() if k != "reason"}
    reason = str(params.get("reason") or "waiting_on_business")
    ctx.session.add(ClockPause(dossier_id=ctx.dossier.id, reason=reason, details=details, started_at=ctx.at))
    ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.stream,
        "clock_paused",
        ctx.actor,
        {"reason": reason, **details},
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )
    if reason == "supplement_requested":
        slip = issue_document(ctx, "supplement_request")
        dossier_event(
            ctx.session,
            "supplement_requested",
            ctx.dossier,
            ctx.at,
            items=details.get("items") or [],
            document_id=slip.id,
        )


def _resume_clock(ctx: CommandContext, params: dict[str, Any]) -> None:
    pause = close_open_pause(ctx)
    if pause is None:
        return
    refresh_deadlines(ctx)
    if pause.reason == "supplement_requested":
        dossier_event(ctx.session, "supplement_received", ctx.dossier, ctx.at)
    audit.record(
        ctx.session,
        ctx.stream,
        "clock_resumed",
        ctx.actor,
        {"reason": pause.reason},
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


def _issue_document(ctx: CommandContext, params: dict[str, Any]) -> None:
    """Issue the document; with ``event`` (one of outbox.model_event_types()) also tell who hears of
    that event, with the document's id (e.g. the confirmed registration to the customs partner)."""
    extra = {k: v for k, v in params.items() if k not in ("kind", "event")}
    document = issue_document(ctx, str(params.get("kind", "")), extra)
    # A result the approving leader signs personally waits for them instead of the agency's worker.
    hold_for_signer(ctx.session, document, ctx.actor, ctx.at)
    event = params.get("event")
    if event:
        # The step's other parameters travel with the event too (e.g. the TBT answer's text, which
        # the e-mail to the asker quotes).
        dossier_event(
            ctx.session, str(event), ctx.dossier, ctx.at, **extra, document_id=document.id, kind=document.kind
        )


def issue_stop_notice(ctx: CommandContext, reason: str) -> None:
    """The notice of stopping the processing (Mẫu 05), issued by the one-stop unit, not by whoever
    set it off (the applicant who withdrew, the timer that expired)."""
    issue_document(replace(ctx, actor=None), "stop_notice", {"reason": reason})


def _close(ctx: CommandContext, params: dict[str, Any]) -> None:
    outcome = str(params.get("outcome") or "completed")
    close_open_pause(ctx)
    dossier = ctx.dossier
    if (
        dossier.appointment_at is not None
        and ctx.at > as_utc(dossier.appointment_at)
        and dossier.extension_days == 0
    ):
        raise Conflict(
            "Hồ sơ đã quá ngày hẹn trả kết quả: lãnh đạo cần lập phiếu xin lỗi và hẹn lại ngày trả trước khi trả kết quả.",
            "The dossier missed its appointment: a leader must issue the apology slip with a new date before the result is returned.",
            "apology_required",
        )
    dossier.outcome = outcome
    dossier.completed_at = ctx.at
    _classify(ctx)
    schedule_dossier_alarms(ctx)  # a closed dossier has no pending deadline alarms
    if outcome == "expired":
        # Mẫu 05 (Circular 03/2025/TT-VPCP): the processing stops, and the applicant is told why.
        issue_stop_notice(
            ctx,
            "Quá thời hạn bổ sung, hoàn thiện hồ sơ theo Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ mà hồ sơ "
            "chưa được bổ sung, hoàn thiện",
        )
    if dossier.received_at is not None:
        issue_document(ctx, "process_control_slip")
    details = {k: v for k, v in params.items() if k not in ("outcome", "notify")}
    event = {"refused": "dossier_refused", "expired": "dossier_expired"}.get(outcome, "result_issued")
    # ``notify=False``: the model already told the applicant (e.g. the TBT answer was sent when
    # it was issued), so closing is not announced a second time.
    if params.get("notify", True) is not False:
        dossier_event(
            ctx.session,
            event,
            dossier,
            ctx.at,
            outcome=outcome,
            documents=list(ctx.issued_documents),
            **{k: v for k, v in details.items() if k in ("reason", "reasons")},
        )
    audit.record(
        ctx.session,
        ctx.stream,
        "closed",
        ctx.actor,
        {"outcome": outcome, **details},
        dossier_id=dossier.id,
        at=ctx.at,
    )


def _classify(ctx: CommandContext) -> None:
    """Early / on time / late against the committed and the legal deadline (apology extensions do
    not make a late dossier on time)."""
    dossier = ctx.dossier
    if dossier.received_at is None:
        return
    pauses = list(ctx.session.exec(select(ClockPause).where(ClockPause.dossier_id == dossier.id)).all())
    original = _deadlines(ctx, pauses, extension=0)
    zone = ctx.rt.calendar.zone
    dossier.timeliness_committed = sla.classify(ctx.at, original.appointment_at, zone)
    dossier.timeliness_legal = sla.classify(ctx.at, original.legal_due_at, zone)


def _flag(ctx: CommandContext, params: dict[str, Any]) -> None:
    """Record a violation on the dossier (audit, the violation list) and alert the inspection team,
    the leader, the applicant and the partners (``inspection_violation``); the process goes on,
    so the dossier can still be completed."""
    reason = str(params.get("reason") or "violation")[:60]
    details = {k: v for k, v in params.items() if k != "reason"}
    # On the violation list until an officer records how it was handled (workflows.violations).
    ctx.session.add(Violation(dossier_id=ctx.dossier.id, reason=reason, flagged_at=ctx.at))
    dossier_event(ctx.session, "inspection_violation", ctx.dossier, ctx.at, reason=reason, **details)
    audit.record(
        ctx.session,
        ctx.stream,
        "flagged",
        ctx.actor,
        {"reason": reason, **details},
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


def _record_outcome(ctx: CommandContext, params: dict[str, Any]) -> None:
    """Record the inspection's outcome against its subject (``subject_key``: e.g. the importer's
    tax code), the history a procedure's start facts read (workflows.facts)."""
    outcome = str(params.get("outcome") or "")
    subject_key = str(params.get("subject_key") or "").strip()
    if outcome not in OUTCOMES or not subject_key:
        raise ValueError(f"record_outcome needs a subject_key and an outcome in {OUTCOMES}: {params!r}")
    ctx.session.add(
        OutcomeRecord(
            procedure_code=ctx.dossier.procedure_code,
            subject_key=subject_key[:120],
            dossier_id=ctx.dossier.id,
            outcome=outcome,
            recorded_at=ctx.at,
        )
    )
    audit.record(
        ctx.session,
        ctx.stream,
        "outcome_recorded",
        ctx.actor,
        {"subject_key": subject_key, "outcome": outcome},
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


_HANDLERS: dict[str, Callable[[CommandContext, dict[str, Any]], None]] = {
    "receive": _receive,
    "pause_clock": _pause_clock,
    "resume_clock": _resume_clock,
    "issue_document": _issue_document,
    "close": _close,
    "flag": _flag,
    "record_outcome": _record_outcome,
}

assert set(_HANDLERS) == CORE_OPERATORS, "workflows.operator_params names the core's operators"
