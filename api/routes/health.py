"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import RuntimeDep
from workflows.db import reading

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(rt: RuntimeDep) -> dict:
    with reading(rt.engine) as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "database": rt.engine.dialect.name, "procedures": len(rt.catalogue.procedures)}
