"""The only clock of tdcflow. Everything that needs the time asks ``now()``.

Stored instants are timezone-aware UTC; they are shown in the local zone (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from workflows.config import get_settings


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


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
