"""The scheduler's jobs, assembled in one place for every scheduler that runs them.

The web app's in-process scheduler (``tdcflow serve`` with ``TDCFLOW_SCHEDULER=1``) and each
``tdcflow worker`` run the same list, so a deployment that splits them does the same work. The
``workflows`` room cannot name the rooms above it (import layers), so the list is made here.
"""

from __future__ import annotations

import logging
import time
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from notifications import jobs as notification_jobs
from workflows import account_tokens, audit_root, document_rendering, document_signing, sessions
from workflows.db import transaction
from workflows.metrology import alerts as metrology_alerts
from workflows.runtime import Runtime
from workflows.scheduler import Job

log = logging.getLogger("tdcflow.accounts")

PURGE_EVERY_MINUTES = 60


def purge_expired_sessions(rt: Runtime) -> None:
    """Delete the sessions past their expiry, and the e-mailed links expired for a day."""
    ended = sessions.purge_expired(rt)
    with transaction(rt.engine) as session:
        links = account_tokens.purge_expired(session)
    if ended or links:
        log.info("purged %s expired sessions and %s expired links", ended, links)


def sign_documents(rt: Runtime) -> None:
    """Render the .docx of the documents issued since the last run, then make their signed PDFs
    (within seconds)."""
    # Within most of one tick, so that the next run never finds this one still going.
    budget = rt.settings.tick_seconds * 0.8
    started = time.monotonic()
    rendered = document_rendering.render_due(rt, max_items=500, budget_seconds=budget / 2)
    if rendered:
        log.debug("rendered %s documents", rendered)
    report = document_signing.sign_due(
        rt, max_items=500, budget_seconds=max(budget - (time.monotonic() - started), 0.1)
    )
    if report.signed or report.failed:
        log.info("signed %s documents, %s failed (retried later)", report.signed, report.failed)


def metrology_sweep(rt: Runtime) -> None:
    """The metrology database's expiry sweep: reminders to owners, new violation warnings."""
    report = metrology_alerts.sweep(rt)
    if report.reminded or report.opened or report.settled:
        log.info(
            "metrology sweep: %s reminders, %s warnings opened, %s settled",
            report.reminded,
            report.opened,
            report.settled,
        )


def scheduler_jobs(rt: Runtime) -> list[Job]:
    """Every periodic job besides the tick the scheduler always runs (BPMN timers, SLA alarms):
    the notifications room's dispatcher and daily digest, the signing of issued documents, the hourly purge of expired sessions, and
    the audit trail's daily root."""
    return [
        *notification_jobs(rt),
        (sign_documents, IntervalTrigger(seconds=rt.settings.tick_seconds), "documents-sign"),
        (purge_expired_sessions, IntervalTrigger(minutes=PURGE_EVERY_MINUTES), "sessions-purge"),
        *audit_root.jobs(rt),
        # Every hour at :25: the first run of a day does the day's work, the others find it done
        # (one reminder per verification, one warning per cause and verification), so a scheduler
        # that was down at the hour still sweeps that day.
        (metrology_sweep, CronTrigger(minute=25, timezone=ZoneInfo(rt.settings.timezone)), "metrology-sweep"),
    ]
