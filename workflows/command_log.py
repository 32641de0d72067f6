"""One log line per command: what was done (``kind``), to which dossier, by whom, how long it took
and how it ended; a failure that is not the person's (a bug, a model that cannot run, a database
fault) with its traceback.

Commands are written ``@command("complete_task") def complete_task(rt, actor, ...)``: one calling
convention (the runtime, the person acting or None for the system, then what the command needs),
one transaction each. Locking or creating a dossier notes its code (:func:`note_dossier`), so the
line names the dossier whatever the command's arguments were.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from workflows.errors import DomainError

log = logging.getLogger("tdcflow.command")

P = ParamSpec("P")
R = TypeVar("R")

_dossier: ContextVar[str | None] = ContextVar("tdcflow_command_dossier", default=None)


def note_dossier(code: str | None) -> None:
    """The dossier the running command works on (called where it is locked or created)."""
    if code and _dossier.get() is None:
        _dossier.set(code)


def command(kind: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Log the command: one INFO line when it succeeds or is refused (a 4xx for the person), one
    ERROR line with the traceback when it fails otherwise. The exception goes on unchanged."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def logged(*args: P.args, **kwargs: P.kwargs) -> R:
            token = _dossier.set(None)
            started = time.perf_counter()
            actor = args[1] if len(args) > 1 else kwargs.get("actor")
            try:
                result = function(*args, **kwargs)
            except DomainError as exc:
                _write(kind, actor, exc.code, started)
                raise
            except Exception as exc:
                _write(kind, actor, "failed", started, exc)
                raise
            else:
                _write(kind, actor, "ok", started)
                return result
            finally:
                _dossier.reset(token)

        return logged

    return decorate


def _write(kind: str, actor: Any, outcome: str, started: float, failure: BaseException | None = None) -> None:
    fields = {
        "command": kind,
        "dossier": _dossier.get(),
        "actor_id": getattr(actor, "id", None),
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "outcome": outcome,
    }
    text = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
    if failure is not None:
        log.error("command %s", text, extra={"tdcflow": fields}, exc_info=failure)
    else:
        log.info("command %s", text, extra={"tdcflow": fields})
