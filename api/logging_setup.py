"""Logging of every ``tdcflow`` process, set up here and nowhere else.

tdcflow's own loggers (``tdcflow.*``) log at ``TDCFLOW_LOG_LEVEL`` (INFO), the web server's
(``uvicorn``: start-up and the access log) at INFO, and every other library (SpiffWorkflow under
``spiff.*``, APScheduler, SQLAlchemy, …) at WARNING: their warnings and errors are seen, their
chatter is not (SpiffWorkflow logs every task state change at INFO). ``TDCFLOW_LOG_LEVELS`` sets any
logger's level, e.g. ``spiff=INFO,apscheduler=DEBUG``; ``root`` names everything not named.
Records go to standard error, one line each (a traceback follows its line); with
``TDCFLOW_LOG_FORMAT=json`` each record is one JSON object on a line (time, level, logger, message,
process, the command's fields, the traceback), for a log shipper.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from workflows.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
OWN = "tdcflow"
DEFAULT_LEVELS = {"": logging.WARNING, "uvicorn": logging.INFO}
# The names people know libraries by, for the loggers the libraries really use.
ALIASES = {"spiffworkflow": "spiff"}

# Loggers whose level the last configure_logging set (reset when a later call leaves them out).
_configured: set[str] = set()


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (tools and tests replace it)."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class JsonLines(logging.Formatter):
    """One JSON object per record (tdcflow's structured fields under their own names)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            **getattr(record, "tdcflow", {}),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def level_of(text: str, setting: str) -> int:
    """A level name (DEBUG, INFO, WARNING, ERROR, CRITICAL) or number; ValueError naming the setting."""
    text = text.strip().upper()
    value = int(text) if text.isdigit() else logging.getLevelName(text)
    if not isinstance(value, int):
        raise ValueError(f"{setting}: unknown log level {text!r} (DEBUG, INFO, WARNING, ERROR or CRITICAL)")
    return value


def parse_levels(spec: str) -> dict[str, int]:
    """``"spiff=INFO, apscheduler=DEBUG"`` → logger name → level (``root`` is the root logger)."""
    levels: dict[str, int] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        name, sep, level = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"TDCFLOW_LOG_LEVELS: {item.strip()!r} is not logger=LEVEL")
        key = "" if name.lower() == "root" else ALIASES.get(name.lower(), name)
        levels[key] = level_of(level, f"TDCFLOW_LOG_LEVELS ({name})")
    return levels


def configure_logging(settings: Settings) -> dict[str, int]:
    """Set the levels and the one handler; a second call replaces what the first one set.
    Returns the levels set, by logger name ("" is the root logger)."""
    levels = {
        **DEFAULT_LEVELS,
        OWN: level_of(settings.log_level, "TDCFLOW_LOG_LEVEL"),
        **parse_levels(settings.log_levels),
    }
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CurrentStderr)]:
        root.removeHandler(old)
    handler = _CurrentStderr()
    handler.setFormatter(JsonLines() if settings.log_format == "json" else logging.Formatter(FORMAT))
    root.addHandler(handler)
    for name in _configured - set(levels):
        logging.getLogger(name).setLevel(logging.NOTSET)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    _configured.clear()
    _configured.update(levels)
    return levels
