"""The only clock of tdcflow. Everything that needs the time asks ``now()``.

Stored instants are timezone-aware UTC; they are shown in the local zone (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from workflows.config import get_settings

# Loading history (the demo's dossiers received under rules no longer in force) runs commands
# "as of" an earlier instant in its own context; every other caller, thread and request sees the
# real clock.
_AS_OF: ContextVar[datetime | None] = ContextVar("tdcflow_as_of", default=None)


def now() -> datetime:
    """The current instant, aware, in UTC."""
    fixed = _AS_OF.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextmanager
def as_of(instant: datetime) -> Iterator[None]:
    """Run the block as if it were ``instant`` (for loading past dossiers, never for serving)."""
    token = _AS_OF.set(as_utc(instant))
    try:
        yield
    finally:
        _AS_OF.reset(token)


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def to_local(instant: datetime) -> datetime:
    """An instant in the office's time zone (naive instants are taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(local_zone())


def as_utc(instant: datetime) -> datetime:
    """Normalise to aware UTC (databases such as SQLite return naive values: they are UTC)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def format_date(instant: datetime | None) -> str:
    """dd/mm/yyyy in local time."""
    return to_local(instant).strftime("%d/%m/%Y") if instant else ""


def format_datetime(instant: datetime | None) -> str:
    """HH:MM dd/mm/yyyy in local time."""
    return to_local(instant).strftime("%H:%M %d/%m/%Y") if instant else ""
