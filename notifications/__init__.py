"""Notifications: turn the outbox's events into deliveries (e-mail, in-app, webhooks, SMS) and
send them after commit, with retries, backoff and a dead-letter list. Imports ``workflows``;
nothing in ``workflows`` imports this room.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from notifications.digest import send_digest
from notifications.dispatcher import DispatchReport, SendReport, dispatch, fan_out, retry_dead, send_due
from workflows.runtime import Runtime
from workflows.scheduler import Job

__all__ = [
    "DispatchReport",
    "SendReport",
    "dispatch",
    "fan_out",
    "jobs",
    "retry_dead",
    "send_digest",
    "send_due",
]

log = logging.getLogger("tdcflow.notifications")


def _dispatch_job(rt: Runtime) -> None:
    report = dispatch(rt)
    if report.busy:
        log.info(
            "dispatch: %s events, %s sent, %s to retry, %s dead",
            report.events,
            report.sent,
            report.retried,
            report.dead,
        )


def _digest_job(rt: Runtime) -> None:
    # The trigger fires every day; the working-time calendar decides (holidays, make-up Saturdays).
    written = send_digest(rt)
    if written:
        log.info("daily digest: %s officers", written)


def jobs(rt: Runtime) -> list[Job]:
    """The scheduler's jobs of this room: the dispatcher every tick, the digest at digest_time."""
    hour, _, minute = rt.settings.digest_time.partition(":")
    return [
        (_dispatch_job, IntervalTrigger(seconds=rt.settings.tick_seconds), "notifications-dispatch"),
        (
            _digest_job,
            CronTrigger(hour=int(hour), minute=int(minute or 0), timezone=ZoneInfo(rt.settings.timezone)),
            "notifications-digest",
        ),
    ]
