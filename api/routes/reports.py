"""Reports for officers: dossiers at risk of missing their appointment, on-time performance."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.bounds import Day
from api.deps import RuntimeDep, Staff
from api.errors import ERROR_RESPONSES
from api.schemas import DossierSummaryOut, TimelinessOut
from workflows import queries, statistics
from workflows.clock import local_zone

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=ERROR_RESPONSES)


@router.get("/at-risk", response_model=list[DossierSummaryOut])
def at_risk(
    user: Staff, rt: RuntimeDep, within_days: Annotated[int, Query(ge=0, le=30)] = 1
) -> list[DossierSummaryOut]:
    """Hồ sơ sắp đến hoặc đã quá hẹn / Open dossiers due within N working days or already late."""
    return [DossierSummaryOut.of(d) for d in queries.at_risk(rt, within_days)]


@router.get("/timeliness", response_model=list[TimelinessOut])
def timeliness(
    user: Staff,
    rt: RuntimeDep,
    group_by: Literal["procedure", "month", "officer"] = "procedure",
    completed_from: Annotated[Day | None, Query(description="YYYY-MM-DD")] = None,
    completed_to: Annotated[Day | None, Query(description="YYYY-MM-DD, inclusive")] = None,
) -> list[TimelinessOut]:
    """Trước hạn / đúng hạn / trễ hạn (Quyết định 766/QĐ-TTg) / Early, on time, late."""
    zone = local_zone()
    start = datetime.combine(completed_from, time.min, zone) if completed_from else None
    end = datetime.combine(completed_to + timedelta(days=1), time.min, zone) if completed_to else None
    return [TimelinessOut(**row.__dict__) for row in statistics.timeliness(rt, group_by, start, end)]
