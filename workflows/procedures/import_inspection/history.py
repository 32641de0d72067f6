"""The importer's history, which the inspection measure's decision table reads: the facts the
import inspection's process starts with besides the filed form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from workflows.clock import as_utc
from workflows.models import OutcomeRecord


def _a_year_before(at: datetime) -> datetime:
    try:
        return at.replace(year=at.year - 1)
    except ValueError:  # 29 February
        return at.replace(year=at.year - 1, day=28)


def import_history(session: Session, procedure_code: str, tax_code: str, at: datetime) -> dict[str, Any]:
    """The importer's history for the inspection measure: the passes since the last failure
    (``consecutive_passes``) and the failures of the last 12 months (``recent_failures``)."""
    outcomes = (
        session.exec(
            select(OutcomeRecord.outcome, OutcomeRecord.recorded_at)
            .where(OutcomeRecord.procedure_code == procedure_code, OutcomeRecord.subject_key == tax_code)
            .order_by(OutcomeRecord.recorded_at.desc(), OutcomeRecord.id.desc())
        ).all()
        if tax_code
        else []
    )
    passes = 0
    for outcome, _ in outcomes:
        if outcome != "passed":
            break
        passes += 1
    since = _a_year_before(as_utc(at))
    failures = sum(
        1 for outcome, recorded_at in outcomes if outcome == "failed" and as_utc(recorded_at) >= since
    )
    return {"consecutive_passes": passes, "recent_failures": failures}
