"""Scheduler heartbeats: is some scheduler doing the due work? (the worker's readiness check)

Every scheduler, each ``tdcflow worker`` and the web app's in-process one, keeps one row of
``scheduler_heartbeat`` named ``kind@host:pid``: ``started_at`` when it starts, ``last_tick_at``
after every tick that went through (a tick that fails leaves it alone, so a scheduler that cannot
reach the database or fails every tick goes stale). A scheduler is fresh while its last tick is at
most ``stale_after(tick_seconds)`` old: three missed ticks plus a margin for a long tick. The
deployment is ready while at least one scheduler is fresh.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from workflows.clock import as_utc, now, to_local
from workflows.db import reading, transaction
from workflows.errors import DomainError
from workflows.models import SchedulerHeartbeat

MISSED_TICKS = 3
MARGIN = timedelta(seconds=30)
# Restarted schedulers leave their rows behind; a row silent this long goes when a scheduler starts.
FORGET_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Identity:
    """Which scheduler: ``worker`` or ``web``, on which host, in which process."""

    kind: str
    host: str
    pid: int

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.host}:{self.pid}"

    @classmethod
    def of_this_process(cls, kind: str) -> Identity:
        return cls(kind, socket.gethostname(), os.getpid())


def stale_after(tick_seconds: float) -> timedelta:
    return MISSED_TICKS * timedelta(seconds=tick_seconds) + MARGIN


def record_start(engine: Engine, me: Identity, tick_seconds: float) -> None:
    """The scheduler starts (it has not ticked yet); rows of long-gone schedulers are removed."""
    instant = now()
    with transaction(engine) as session:
        last_seen = func.coalesce(SchedulerHeartbeat.last_tick_at, SchedulerHeartbeat.started_at)
        session.execute(delete(SchedulerHeartbeat).where(last_seen < instant - FORGET_AFTER))
        row = session.get(SchedulerHeartbeat, me.name) or _row(me, tick_seconds, instant)
        row.started_at, row.last_tick_at, row.tick_seconds = instant, None, tick_seconds
        session.add(row)


def record_tick(engine: Engine, me: Identity, tick_seconds: float) -> None:
    """The scheduler finished a tick."""
    instant = now()
    with transaction(engine) as session:
        row = session.get(SchedulerHeartbeat, me.name) or _row(me, tick_seconds, instant)
        row.last_tick_at, row.tick_seconds = instant, tick_seconds
        session.add(row)


def _row(me: Identity, tick_seconds: float, instant: datetime) -> SchedulerHeartbeat:
    return SchedulerHeartbeat(
        name=me.name, kind=me.kind, host=me.host, pid=me.pid, tick_seconds=tick_seconds, started_at=instant
    )


@dataclass(frozen=True)
class SchedulerState:
    name: str
    kind: str
    host: str
    pid: int
    started_at: datetime
    last_tick_at: datetime | None
    stale_after: timedelta
    fresh: bool


@dataclass(frozen=True)
class Readiness:
    checked_at: datetime
    schedulers: list[SchedulerState]  # the latest tick first; those that never ticked last
    host: str | None = None  # only the schedulers of this host were asked about

    @property
    def ready(self) -> bool:
        return any(s.fresh for s in self.schedulers)

    @property
    def latest(self) -> SchedulerState | None:
        """The fresh scheduler that ticked last, else the one heard of last."""
        fresh = [s for s in self.schedulers if s.fresh]
        return (fresh or self.schedulers or [None])[0]

    def problem(self) -> DomainError | None:
        """Why the deployment is not ready (None when it is), in Vietnamese and English."""
        if self.ready:
            return None
        where_vi = f" trên máy {self.host}" if self.host else ""
        where_en = f" on host {self.host}" if self.host else ""
        latest = self.latest
        if latest is None:
            return DomainError(
                f"Chưa có bộ lập lịch nào{where_vi} (tdcflow worker, hoặc bộ lập lịch trong ứng dụng web) "
                "ghi nhận hoạt động: hẹn giờ, cảnh báo hạn xử lý và thông báo không được xử lý.",
                f"No scheduler{where_en} (tdcflow worker, or the web app's own) has reported: timers, "
                "deadline alarms and notifications are not being processed.",
                "scheduler_missing",
            )
        limit = int(latest.stale_after.total_seconds())
        if latest.last_tick_at is None:
            started = to_local(latest.started_at)
            return DomainError(
                f"Bộ lập lịch {latest.name} khởi động lúc {started:%H:%M:%S %d/%m/%Y} nhưng chưa hoàn thành "
                f"lượt chạy nào trong {limit} giây; không có bộ lập lịch nào khác{where_vi} đang chạy.",
                f"The scheduler {latest.name} started at {started.isoformat(timespec='seconds')} but has "
                f"not finished a tick within {limit} s; no other scheduler{where_en} is running.",
                "scheduler_stale",
            )
        last = to_local(latest.last_tick_at)
        age = int((self.checked_at - latest.last_tick_at).total_seconds())
        return DomainError(
            f"Không có bộ lập lịch nào{where_vi} đang chạy: lượt chạy gần nhất lúc {last:%H:%M:%S %d/%m/%Y} "
            f"({latest.name}), cách đây {age} giây, quá giới hạn {limit} giây.",
            f"No scheduler{where_en} is running: the last tick was at {last.isoformat(timespec='seconds')} "
            f"({latest.name}), {age} s ago, over the {limit} s limit.",
            "scheduler_stale",
        )


def readiness(engine: Engine, host: str | None = None) -> Readiness:
    """The schedulers (of ``host`` only, when given) and whether one of them is fresh."""
    instant = now()
    with reading(engine) as session:
        query = select(SchedulerHeartbeat)
        if host is not None:
            query = query.where(SchedulerHeartbeat.host == host)
        rows = session.exec(query).all()
    states = []
    for row in rows:
        last = as_utc(row.last_tick_at) if row.last_tick_at else None
        bound = stale_after(row.tick_seconds)
        states.append(
            SchedulerState(
                name=row.name,
                kind=row.kind,
                host=row.host,
                pid=row.pid,
                started_at=as_utc(row.started_at),
                last_tick_at=last,
                stale_after=bound,
                fresh=last is not None and instant - last <= bound,
            )
        )
    never = datetime.min.replace(tzinfo=UTC)
    states.sort(key=lambda s: (s.last_tick_at or never, s.started_at), reverse=True)
    return Readiness(checked_at=instant, schedulers=states, host=host)
