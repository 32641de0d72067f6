"""The TBT inquiry point's own figures, as settings an installation may change (environment
``TDCFLOW_TBT_…``), offered to the model's expressions as script functions.

No legal text sets them (Decision 46/2017/QĐ-TTg and Circular 16/2018/TT-BKHCN give the inquiry
point no deadline to answer, nor a limit on the wait for the national TBT office or a ministry):
they are the department's internal rules, and the defaults are marked "(check)".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.clock import now

if TYPE_CHECKING:
    from workflows.calendar import WorkingCalendar


class TbtRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TDCFLOW_TBT_", extra="ignore")

    reply_reminder_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="(check) While a forwarded inquiry waits for the reply, the officer is reminded "
        "every this many working days (an internal rule: no legal figure exists)",
    )
    pause_ceiling_days: int = Field(
        default=20,
        ge=1,
        le=250,
        description="(check) The longest the clock stays paused for a forwarded inquiry, in working "
        "days; then it counts again and the leader is told (an internal rule: no legal figure exists)",
    )


def rules() -> TbtRules:
    """Read afresh: a changed setting applies to the next timer a dossier sets."""
    return TbtRules()


def script_functions(
    calendar: WorkingCalendar | None = None, procedure: object | None = None
) -> Mapping[str, Callable[..., Any]]:
    """For the model: ``tbt_reminder_days()`` and ``tbt_pause_ceiling_days()`` (its timers, e.g.
    ``working_days(tbt_reminder_days())``); ``tbt_chase_until()``, at the first reminder, the
    instant the paused clock reaches its ceiling; ``tbt_remind_again(chase_until)``, whether the
    next reminder falls before it (from the ceiling on, the leader has the matter). ``procedure``
    (the dossier's version, as the plug-in interface passes it) is not needed: the settings are
    the installation's."""

    def chase_until() -> str:
        settings = rules()
        if calendar is None:
            raise RuntimeError("tbt_chase_until() needs the working calendar")
        days = max(0, settings.pause_ceiling_days - settings.reply_reminder_days)
        return calendar.add_working_days(now(), days).isoformat()

    def remind_again(until: str) -> bool:
        if calendar is None:
            raise RuntimeError("tbt_remind_again() needs the working calendar")
        following = calendar.add_working_days(now(), rules().reply_reminder_days)
        return following < datetime.fromisoformat(until)

    return {
        "tbt_reminder_days": lambda: rules().reply_reminder_days,
        "tbt_pause_ceiling_days": lambda: rules().pause_ceiling_days,
        "tbt_chase_until": chase_until,
        "tbt_remind_again": remind_again,
    }
