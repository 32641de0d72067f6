"""The TBT inquiry model's own acts (``tdcflow/tbt_publish``, ``tdcflow/tbt_remind``,
``tdcflow/tbt_pause_ceiling``), applied in the command's transaction like the core's operators
(workflows.effects)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from workflows import audit
from workflows.context import CommandContext
from workflows.effects import refresh_deadlines
from workflows.models import AuditEvent, ClockPause
from workflows.outbox import dossier_event
from workflows.procedures.tbt.knowledge import save_entry
from workflows.procedures.tbt.models import KnowledgeEntry
from workflows.procedures.tbt.rules import rules


def _text(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


def publish(ctx: CommandContext, params: dict[str, Any]) -> None:
    """Publish the inquiry's question and answer (the officer's edited text where given) in the
    knowledge base. The asker's name, e-mail and organisation are never published."""
    data = ctx.dossier.data
    question = _text(data.get("published_question")) or _text(data.get("question"))
    answer = _text(data.get("published_answer")) or _text(data.get("answer"))
    entry = ctx.session.exec(
        select(KnowledgeEntry).where(KnowledgeEntry.dossier_id == ctx.dossier.id)
    ).first() or KnowledgeEntry(dossier_id=ctx.dossier.id, question="", answer="")
    entry.subject = _text(data.get("subject"))[:300]
    entry.product = _text(data.get("product"))[:300]
    entry.hs_code = _text(data.get("hs_code"))[:13]
    entry.market = _text(data.get("market"))[:120]
    entry.topic = _text(data.get("topic"))[:40]
    entry.question = question
    entry.answer = answer
    entry.references = [str(r) for r in data.get("references") or []]
    entry.published_at = ctx.at
    entry.published_by_id = ctx.actor.id if ctx.actor else None
    save_entry(ctx.session, entry)
    audit.record(
        ctx.session,
        ctx.stream,
        "tbt_published",
        ctx.actor,
        {
            "entry_id": entry.id,
            "edited": bool(data.get("published_question") or data.get("published_answer")),
        },
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


def _days(value: Any, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


def remind(ctx: CommandContext, params: dict[str, Any]) -> None:
    """The forwarded inquiry still has no reply: remind the TBT officers to chase it (again every
    ``every_days`` working days until the reply is recorded; the n-th reminder says so)."""
    forwarded_to = _text(params.get("forwarded_to"))
    every_days = _days(params.get("every_days"), rules().reply_reminder_days)
    earlier = ctx.session.exec(
        select(AuditEvent.id).where(
            AuditEvent.dossier_id == ctx.dossier.id, AuditEvent.action == "tbt_reply_reminder"
        )
    ).all()
    nth = len(earlier) + 1
    details = {"forwarded_to": forwarded_to, "reminder": nth, "every_days": every_days}
    dossier_event(ctx.session, "tbt_reply_overdue", ctx.dossier, ctx.at, **details)
    audit.record(
        ctx.session,
        ctx.stream,
        "tbt_reply_reminder",
        ctx.actor,
        details,
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )


def pause_ceiling(ctx: CommandContext, params: dict[str, Any]) -> None:
    """The forwarded inquiry waited the longest the clock may stay paused: the clock counts again
    (the deadlines move on from now) and the leaders are told; the reply is still awaited."""
    forwarded_to = _text(params.get("forwarded_to"))
    ceiling_days = _days(params.get("ceiling_days"), rules().pause_ceiling_days)
    pause = ctx.session.exec(
        select(ClockPause).where(
            ClockPause.dossier_id == ctx.dossier.id,
            ClockPause.reason == "forwarded",
            ClockPause.ended_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if pause is not None:
        pause.ended_at = ctx.at
        pause.details = {**(pause.details or {}), "ended_by": "ceiling"}
        ctx.session.add(pause)
        ctx.session.flush()
        refresh_deadlines(ctx)
    details = {
        "forwarded_to": forwarded_to,
        "ceiling_days": ceiling_days,
        "appointment_at": ctx.dossier.appointment_at,
    }
    dossier_event(ctx.session, "tbt_pause_ceiling_reached", ctx.dossier, ctx.at, **details)
    audit.record(
        ctx.session,
        ctx.stream,
        "tbt_pause_ceiling",
        ctx.actor,
        {
            "forwarded_to": forwarded_to,
            "ceiling_days": ceiling_days,
            "clock_resumed": pause is not None,
            "appointment_at": ctx.dossier.appointment_at.isoformat() if ctx.dossier.appointment_at else None,
        },
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )
