"""Public counts of the metrology database (issue 18, "Public"): per instrument kind and per
commune/ward, how many instruments are registered, how many hold a valid verification today and
how many are overdue, with totals. Counts only: no owner, serial number or address leaves here.

- ``registered``: every instrument in the registry (a failed or never verified one too);
- ``verified``: its latest verification passed and has not ended (``current_valid_until`` on or
  after today, the office's day in Asia/Ho_Chi_Minh): the stamp lookup's "verified until";
- ``overdue``: its latest verification passed but has ended (used past the end of its verification).

A failed or never verified instrument is registered and neither verified nor overdue, so
``verified + overdue <= registered``. An instrument whose stamp was reported lost still counts as
verified: its verification stands (the warning list and the stamp lookup say the stamp proves
nothing until it is replaced).

The answer is one ``GROUP BY`` over the whole registry: at 100,000 instruments it reads every row
(no index serves a count by kind and commune), about 0.1 s each time (``bench/metrology_counts.py``:
median 150 ms on SQLite, 87 ms on PostgreSQL on the 2-core test machine). Anyone may ask
for it, so it is kept for :data:`CACHE_SECONDS` per process and database (and never past the day
it was counted for): a figure at most a minute old is as true for the public as a fresh one, and a
crowd reloading the page costs one count a minute. The cache lives in the process's memory; each
worker keeps its own, which only means each counts once a minute.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, case
from sqlmodel import col, func, select

from workflows.catalogue import office_day
from workflows.clock import now
from workflows.db import reading
from workflows.metrology.models import Instrument
from workflows.runtime import Runtime

CACHE_SECONDS = 60


@dataclass(frozen=True)
class Figures:
    registered: int = 0
    verified: int = 0
    overdue: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.registered + other.registered, self.verified + other.verified, self.overdue + other.overdue
        )


@dataclass(frozen=True)
class Row:
    """The figures of one kind in one commune."""

    kind: str
    commune: str
    figures: Figures


@dataclass(frozen=True)
class PublicCounts:
    """The counts on ``today``: each (kind, commune) that has instruments, then the totals per kind
    and per commune (most instruments first, then by name) and the province's total."""

    today: date
    counted_at: datetime
    rows: list[Row]
    by_kind: list[tuple[str, Figures]]
    by_commune: list[tuple[str, Figures]]
    total: Figures

    def communes(self) -> list[str]:
        return sorted(c for c, _ in self.by_commune)

    def kinds_in(self, commune: str) -> list[tuple[str, Figures]]:
        """The totals per kind within one commune (most instruments first)."""
        found = [(r.kind, r.figures) for r in self.rows if r.commune == commune]
        return sorted(found, key=lambda item: (-item[1].registered, item[0]))


_cache: weakref.WeakKeyDictionary[Engine, PublicCounts] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def public_counts(rt: Runtime) -> PublicCounts:
    """Today's counts, from this process's cache when they were counted less than
    :data:`CACHE_SECONDS` ago for the same day."""
    instant = now()
    today = office_day(instant)
    with _lock:
        kept = _cache.get(rt.engine)
    if (
        kept is not None
        and kept.today == today
        and timedelta(0) <= instant - kept.counted_at < timedelta(seconds=CACHE_SECONDS)
    ):
        return kept
    counted = count(rt, today, instant)
    with _lock:
        _cache[rt.engine] = counted
    return counted


def count(rt: Runtime, today: date, instant: datetime | None = None) -> PublicCounts:
    """The counts on ``today``, read now (no cache)."""
    valid = col(Instrument.current_valid_until)
    passed = col(Instrument.current_result) == "pass"
    verified = func.sum(case((passed & (valid >= today), 1), else_=0))
    overdue = func.sum(case((passed & (valid < today), 1), else_=0))
    with reading(rt.engine) as session:
        found = session.exec(
            select(  # type: ignore[call-overload]
                Instrument.kind, Instrument.commune, func.count(), verified, overdue
            ).group_by(col(Instrument.kind), col(Instrument.commune))
        ).all()
    rows = sorted(
        (Row(kind, commune, Figures(int(n), int(v or 0), int(o or 0))) for kind, commune, n, v, o in found),
        key=lambda r: (r.kind, r.commune),
    )
    by_kind: dict[str, Figures] = {}
    by_commune: dict[str, Figures] = {}
    for row in rows:
        by_kind[row.kind] = by_kind.get(row.kind, Figures()) + row.figures
        by_commune[row.commune] = by_commune.get(row.commune, Figures()) + row.figures
    total = sum((r.figures for r in rows), Figures())
    return PublicCounts(
        today=today,
        counted_at=instant or now(),
        rows=rows,
        by_kind=_largest_first(by_kind),
        by_commune=_largest_first(by_commune),
        total=total,
    )


def _largest_first(figures: dict[str, Figures]) -> list[tuple[str, Figures]]:
    return sorted(figures.items(), key=lambda item: (-item[1].registered, item[0]))
