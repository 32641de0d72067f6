"""Liveness and readiness, for an orchestrator or a load balancer to poll.

``/healthz``: the app answers and reaches its database (503 naming the database when it cannot).
``/healthz/worker``: some scheduler (a ``tdcflow worker``, or the app's own) ticked recently, so
timers, alarms, notifications and the signing of issued documents are being processed (503 naming
the last tick otherwise); the body says how many documents wait for their signature, and why the
last attempt failed, if one did.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import RuntimeDep
from api.errors import ErrorBody, error_response
from workflows import document_signing, heartbeat
from workflows.clock import to_local
from workflows.db import reading
from workflows.errors import DomainError

router = APIRouter(tags=["health"])
log = logging.getLogger("tdcflow.health")

UNAVAILABLE = {503: {"model": ErrorBody, "description": "Không sẵn sàng / Not ready"}}


def _database_down() -> JSONResponse:
    return error_response(
        503,
        DomainError(
            "Không kết nối được cơ sở dữ liệu; hệ thống tạm thời không phục vụ được.",
            "The database is unreachable; the service cannot work for now.",
            "database_unreachable",
        ),
    )


@router.get("/healthz", responses=UNAVAILABLE)
def healthz(rt: RuntimeDep) -> Any:
    try:
        with reading(rt.engine) as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: the database is unreachable")
        return _database_down()
    return {"status": "ok", "database": rt.engine.dialect.name, "procedures": len(rt.catalogue.procedures)}


def _when(instant: Any) -> str | None:
    return to_local(instant).isoformat(timespec="seconds") if instant else None


@router.get("/healthz/worker", responses=UNAVAILABLE)
def worker_health(rt: RuntimeDep) -> Any:
    """200 while a scheduler ticked within 3 ticks and a margin; 503 naming the last tick otherwise."""
    try:
        state = heartbeat.readiness(rt.engine)
    except SQLAlchemyError:
        log.exception("worker health check: the database is unreachable")
        return _database_down()
    problem = state.problem()
    if problem is not None:
        log.warning("worker health check: %s", problem.message_en)
        return error_response(503, problem)
    latest = state.latest
    assert latest is not None
    signing = document_signing.backlog(rt)
    return {
        "status": "ok",
        "scheduler": latest.name,
        "last_tick_at": _when(latest.last_tick_at),
        "stale_after_seconds": latest.stale_after.total_seconds(),
        "schedulers": [
            {
                "name": s.name,
                "kind": s.kind,
                "host": s.host,
                "pid": s.pid,
                "started_at": _when(s.started_at),
                "last_tick_at": _when(s.last_tick_at),
                "fresh": s.fresh,
            }
            for s in state.schedulers
        ],
        # The official copies still to be signed (a growing backlog or an error here: a signer to fix).
        "document_signing": {
            "waiting": signing.waiting,
            "failing": signing.failing,
            "oldest_due_at": _when(signing.oldest_due_at),
            "last_error": signing.last_error,
        },
    }
