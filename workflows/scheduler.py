"""The scheduler: due work lives in the database, a tick claims it and does it (DESIGN rule 6).

A tick fires the BPMN timers that fell due (``process_instance.next_timer_at``) and the SLA alarms
(``alarm.due_at``). Each claim is a row lock taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several workers can tick side by side and no item is done twice; SQLite has one writer at a
time, which gives the same guarantee. Doing an item and marking it done commit together, so a
crash redoes it at the next tick and nothing is lost. APScheduler only calls ``tick`` every few
seconds: nothing important lives in its memory. After each tick a scheduler records it
(``workflows.heartbeat``), which the readiness check reads.

However many processes run a scheduler on one database (web workers, ``tdcflow worker``s), one of
them does the work: the holder of the scheduler lock (``workflows.scheduler_lock``); the others
stand by, try the lock at every tick and take over within a tick when the holder dies. Only the
holder records ticks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlmodel import select

from workflows import alarms, calendar_entries, commands, heartbeat
from workflows.clock import now
from workflows.db import transaction
from workflows.errors import DomainError
from workflows.models import Alarm, Dossier, ProcessInstance
from workflows.runtime import Runtime
from workflows.scheduler_lock import SchedulerLock

log = logging.getLogger("tdcflow.scheduler")

ALARM_BATCH = 50
RETRY_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class TickReport:
    timers: int
    alarms: int
    failed: int


def tick(rt: Runtime, max_items: int = 500) -> TickReport:
    """Do the due work, at most ``max_items`` of each kind (the rest waits for the next tick)."""
    calendar_entries.refresh(rt)  # an administrator may have changed the calendar in another process
    timers = failed = 0
    while timers + failed < max_items:
        outcome = _fire_one_timer(rt)
        if outcome is None:
            break
        if outcome:
            timers += 1
        else:
            failed += 1
    fired = 0
    while fired < max_items:
        count = _fire_alarm_batch(rt)
        if count == 0:
            break
        fired += count
    return TickReport(timers=timers, alarms=fired, failed=failed)


def _fire_one_timer(rt: Runtime) -> bool | None:
    """True: fired one; False: one failed (and was pushed back); None: nothing due."""
    instant = now()
    failing_id: int | None = None
    try:
        with transaction(rt.engine) as session:
            instance = session.exec(
                select(ProcessInstance)
                .where(ProcessInstance.next_timer_at <= instant, ProcessInstance.completed.is_(False))
                .order_by(ProcessInstance.next_timer_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if instance is None:
                return None
            failing_id = instance.id
            commands.run_due_timers(rt, session, instance)
            return True
    except DomainError as exc:
        if failing_id is None:
            raise
        log.error("timer of instance %s failed: %s", failing_id, exc)
    except Exception:
        if failing_id is None:
            raise
        log.exception("timer of instance %s failed", failing_id)
    # A timer that cannot run is retried later instead of blocking the queue; the error is logged.
    with transaction(rt.engine) as session:
        session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == failing_id)
            .values(next_timer_at=instant + RETRY_AFTER)
        )
    return False


def _fire_alarm_batch(rt: Runtime) -> int:
    instant = now()
    with transaction(rt.engine) as session:
        # The dossier's process instance is locked with the alarm: every writer of a dossier takes
        # that row first, so an alarm never interleaves with a command or a timer on its dossier
        # (no deadlock; such an alarm just waits for the next tick).
        due = session.exec(
            select(Alarm)
            .join(ProcessInstance, ProcessInstance.dossier_id == Alarm.dossier_id)
            .where(Alarm.fired_at.is_(None), Alarm.due_at <= instant)
            .order_by(Alarm.due_at)
            .limit(ALARM_BATCH)
            .with_for_update(skip_locked=True, of=[Alarm, ProcessInstance])
        ).all()
        for alarm in due:
            dossier = session.get(Dossier, alarm.dossier_id)
            alarms.fire(session, alarm, dossier, instant)
        return len(due)


def tick_and_record(rt: Runtime, me: heartbeat.Identity) -> TickReport:
    """The scheduled tick: the due work, then the heartbeat (only a tick that went through counts)."""
    report = tick(rt)
    heartbeat.record_tick(rt.engine, me, rt.settings.tick_seconds)
    if report.timers or report.alarms or report.failed:
        log.info("tick: %s timers, %s alarms, %s failed", report.timers, report.alarms, report.failed)
    return report


# Other rooms add their periodic work (e.g. notifications: the dispatcher and the daily digest)
# as (function of the runtime, APScheduler trigger, job id). The full list is assembled in one
# place above every room (``api.jobs``) for both kinds of scheduler.
Job = tuple[Callable[[Runtime], None], BaseTrigger, str]


def _when_leading(lock: SchedulerLock, function: Callable[..., object]) -> Callable[..., None]:
    """``function``, run only by the process that holds the scheduler lock."""

    def job(*args: object) -> None:
        if lock.held():
            function(*args)

    job.__name__ = getattr(function, "__name__", "job")
    return job


def _add_jobs(scheduler: BaseScheduler, rt: Runtime, jobs: Sequence[Job], me: heartbeat.Identity) -> None:
    heartbeat.record_start(rt.engine, me, rt.settings.tick_seconds)
    lock = SchedulerLock(rt.engine)
    # A scheduler stopped in a process that goes on (tests, an app's lifespan) frees the lock.
    scheduler.add_listener(lambda _event: lock.release(), EVENT_SCHEDULER_SHUTDOWN)
    scheduler.add_job(
        _when_leading(lock, tick_and_record),
        IntervalTrigger(seconds=rt.settings.tick_seconds),
        args=[rt, me],
        id="tick",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
        next_run_time=now(),
    )
    for function, trigger, job_id in jobs:
        scheduler.add_job(
            _when_leading(lock, function),
            trigger,
            args=[rt],
            id=job_id,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )


def start_background(rt: Runtime, jobs: Sequence[Job]) -> BackgroundScheduler:
    """The scheduler inside the web app's process."""
    scheduler = BackgroundScheduler(timezone="UTC")
    _add_jobs(scheduler, rt, jobs, heartbeat.Identity.of_this_process("web"))
    scheduler.start()
    return scheduler


def run_forever(rt: Runtime, jobs: Sequence[Job]) -> None:
    """``tdcflow worker``: the scheduler alone, for a deployment that separates it from the web."""
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, rt, jobs, heartbeat.Identity.of_this_process("worker"))
    scheduler.start()
