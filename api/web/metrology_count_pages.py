"""The public counts page (issue 18, "Public"): how many measuring instruments are registered,
verified today and overdue, per kind and per commune/ward, with the province's total; one
commune's kinds on request. Counts only, for anyone (the figures: workflows.metrology.public_counts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import RuntimeDep
from api.web.metrology_pages import kind_name
from api.web.session import MaybeUser
from api.web.templating import render
from workflows.metrology import public_counts

router = APIRouter(include_in_schema=False)


@router.get("/metrology/counts")
async def counts(
    request: Request,
    rt: RuntimeDep,
    user: MaybeUser,
    commune: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    """The counts; ``commune`` (one of the list's) shows that commune's kinds as well."""
    found = await run_in_threadpool(public_counts.public_counts, rt)
    chosen = " ".join(commune.split())
    communes = found.communes()
    if chosen not in communes:
        chosen = ""
    return render(
        request,
        "metrology_counts.html",
        user,
        {
            "counts": found,
            "communes": communes,
            "commune": chosen,
            "in_commune": found.kinds_in(chosen) if chosen else [],
            "kind_name": kind_name,
            "as_is": str,
            "cache_minutes": public_counts.CACHE_SECONDS // 60,
        },
    )
