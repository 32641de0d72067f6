"""The functions the campaign's model calls, and its internal targets.

No legal text found sets a time for the report of a metrology inspection campaign: the report's
target (``report_working_days`` in the catalogue's ``parameters`` of the procedure) is the
department's internal rule, marked "(check)" there, and an administrator may change it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from workflows.errors import FieldProblem, InvalidInput

if TYPE_CHECKING:
    from sqlmodel import Session

    from workflows.calendar import WorkingCalendar
    from workflows.catalogue import Procedure
    from workflows.models import User

DEFAULT_REPORT_WORKING_DAYS = 10


def check_parameters(parameters: Mapping[str, Any]) -> list[str]:
    days = parameters.get("report_working_days", DEFAULT_REPORT_WORKING_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        return [f"report_working_days must be a whole number of working days from 1 to 60, not {days!r}"]
    return []


def script_functions(calendar: WorkingCalendar, procedure: Procedure) -> Mapping[str, Callable[..., Any]]:
    """``campaign_report_days()``: the report's target in working days after the last visit;
    ``campaign_violations(site)``: how many of a site's findings are violations;
    ``campaign_later(a, b)``: the later of two ISO days (the last visit so far)."""

    def report_days() -> int:
        return int(procedure.parameters.get("report_working_days", DEFAULT_REPORT_WORKING_DAYS))

    def violations(site: Mapping[str, Any]) -> int:
        return sum(1 for f in site.get("findings") or [] if f.get("result") != "compliant")

    def later(first: str, second: str) -> str:
        return max(str(first or "")[:10], str(second or "")[:10])

    return {"campaign_report_days": report_days, "campaign_violations": violations, "campaign_later": later}


def check_plan(
    session: Session, procedure: Procedure, user: User, data: dict[str, Any], at: datetime
) -> None:
    """The plug-in's ``check_start``: a period that ends before it begins is refused."""
    plan = data.get("plan") or {}
    if date.fromisoformat(plan["period_to"]) < date.fromisoformat(plan["period_from"]):
        problem = FieldProblem(
            "plan.period_to",
            "Ngày kết thúc phải sau hoặc bằng ngày bắt đầu.",
            "The last day must not come before the first.",
            "out_of_range",
        )
        raise InvalidInput("Kế hoạch chưa hợp lệ.", "The plan is not valid.", "validation_error", [problem])
