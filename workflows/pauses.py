"""The dossier's clock pauses (a supplement requested, a question forwarded): the open one, and
closing it. Every deadline is computed from the receipt and the pauses (DESIGN rule 5)."""

from __future__ import annotations

from sqlmodel import select

from workflows.context import CommandContext
from workflows.models import ClockPause


def open_pause(ctx: CommandContext) -> ClockPause | None:
    return ctx.session.exec(
        select(ClockPause).where(ClockPause.dossier_id == ctx.dossier.id, ClockPause.ended_at.is_(None))
    ).first()


def close_open_pause(ctx: CommandContext) -> ClockPause | None:
    pause = open_pause(ctx)
    if pause is not None:
        pause.ended_at = ctx.at
        ctx.session.add(pause)
        ctx.session.flush()
    return pause
