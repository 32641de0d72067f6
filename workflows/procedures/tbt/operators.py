"""The TBT inquiry model's own acts (``tdcflow/tbt_publish``, ``tdcflow/tbt_remind``), applied in
the command's transaction like the core's operators (workflows.effects)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from workflows import audit
from workflows.context import CommandContext
from workflows.outbox import dossier_event
from workflows.procedures.tbt.knowledge import save_entry
from workflows.procedures.tbt.models import KnowledgeEntry


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


def remind(ctx: CommandContext, params: dict[str, Any]) -> None:
    """The forwarded inquiry still has no reply: remind the TBT officers to chase it."""
    forwarded_to = _text(params.get("forwarded_to"))
    dossier_event(ctx.session, "tbt_reply_overdue", ctx.dossier, ctx.at, forwarded_to=forwarded_to)
    audit.record(
        ctx.session,
        ctx.stream,
        "tbt_reply_reminder",
        ctx.actor,
        {"forwarded_to": forwarded_to},
        dossier_id=ctx.dossier.id,
        at=ctx.at,
    )
