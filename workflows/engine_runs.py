"""Around a run of a dossier's process: the functions the model's expressions may call, what a
command does after the engine ran (the effects the model asked for, then tasks and fields), and
what the person is told when the model cannot run its next step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from workflows import sla
from workflows.calendar import WorkingCalendar
from workflows.catalogue import Procedure
from workflows.clock import now
from workflows.context import CommandContext
from workflows.effects import apply_effects
from workflows.engine import EngineError, RunningProcess
from workflows.errors import Conflict
from workflows.projection import sync_after_run
from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.engine")


def script_functions(
    rt: Runtime,
    procedure: Procedure,
    calendar: WorkingCalendar | None = None,
    clock: Callable[[], datetime] = now,
) -> dict[str, Any]:
    """What the model's expressions may call: the working-time functions, and the procedure's own
    (on ``calendar`` and ``clock``: the runtime's and the one clock unless a calendar change
    re-evaluates a timer with another calendar as of when it started waiting)."""
    calendar = calendar or rt.calendar
    own = procedure.plugin.script_functions
    return {**sla.script_functions(calendar, clock), **(own(calendar, procedure) if own else {})}


def after_engine(ctx: CommandContext, process: RunningProcess, completed_task_id: str | None = None) -> None:
    """Apply what the model asked for (on the data it just produced), then project tasks and fields."""
    with ctx.session.no_autoflush:  # one write per row at the end, not one per query in between
        ctx.dossier.data = process.data
        apply_effects(ctx, process.drain_effects())
        sync_after_run(ctx, process, completed_task_id=completed_task_id)


def project_run(ctx: CommandContext, process: RunningProcess) -> None:
    """What a command does after the engine ran, for a caller outside this module that moved the
    instance itself (a migration onto another model version): effects, tasks, fields."""
    after_engine(ctx, process)


def engine_failure(exc: EngineError) -> Conflict:
    """What the person is told when the model cannot run its next step (a script or an expression
    failed): nothing was saved, and the fault is in the log for the administrator."""
    log.error("The process model could not run its next step: %s", exc, exc_info=exc)
    return Conflict(
        "Quy trình không thể thực hiện bước tiếp theo nên chưa có gì được lưu; lỗi đã được ghi lại "
        "để quản trị viên xem xét.",
        "The process could not run its next step, so nothing was saved; the fault has been logged "
        "for the administrator.",
        "engine_error",
    )
