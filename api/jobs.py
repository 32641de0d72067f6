"""The scheduler's jobs, assembled in one place for every scheduler that runs them.

The web app's in-process scheduler (``tdcflow serve`` with ``TDCFLOW_SCHEDULER=1``) and each
``tdcflow worker`` run the same list, so a deployment that splits them does the same work. The
``workflows`` room cannot name the rooms above it (import layers), so the list is made here.
"""

from __future__ import annotations

from notifications import jobs as notification_jobs
from workflows import audit_root
from workflows.runtime import Runtime
from workflows.scheduler import Job


def scheduler_jobs(rt: Runtime) -> list[Job]:
    """Every periodic job besides the tick the scheduler always runs (BPMN timers, SLA alarms):
    the notifications room's dispatcher and daily digest, and the audit trail's daily root."""
    return [*notification_jobs(rt), *audit_root.jobs(rt)]
