"""Who may apply for the National Quality Award, checked when an application is filed.

The figures are the version's (``criteria.rules_of``: months of continuous operation, the years a
Gold award winner waits; Circular 27/2019/TT-BKHCN: 36 months, and two years after the year the
Gold award was given). Each broken rule is a field error in Vietnamese and English naming the
field of the registration form at fault.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from workflows.clock import to_local
from workflows.errors import FieldProblem, InvalidInput
from workflows.models import User
from workflows.procedures.award.criteria import rules_of
from workflows.procedures.award.rounds import open_round

if TYPE_CHECKING:
    from workflows.catalogue import Procedure

ESTABLISHED_FIELD = "organisation.established_on"
GOLD_YEAR_FIELD = "organisation.gold_award_year"


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (31/01 + 1 month = 28 or 29/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def problems(
    organisation: dict[str, Any],
    day: date,
    award_year: int,
    min_months: int,
    gold_wait: int,
    source: tuple[str, str],
) -> list[FieldProblem]:
    found: list[FieldProblem] = []
    established = organisation.get("established_on")
    if isinstance(established, str) and established:
        since = date.fromisoformat(established)
        eligible_from = add_months(since, min_months)
        if eligible_from > day:
            found.append(
                FieldProblem(
                    ESTABLISHED_FIELD,
                    f"Tổ chức phải hoạt động liên tục ít nhất {min_months} tháng tính đến ngày đăng ký "
                    f"({source[0]}): bắt đầu hoạt động ngày {since:%d/%m/%Y} thì đủ {min_months} tháng "
                    f"từ ngày {eligible_from:%d/%m/%Y}.",
                    f"The organisation must have operated continuously for at least {min_months} months "
                    f"when it registers ({source[1]}): operating since {since:%d/%m/%Y}, it has "
                    f"{min_months} months from {eligible_from:%d/%m/%Y}.",
                    "eligibility",
                )
            )
    gold_year = organisation.get("gold_award_year")
    if isinstance(gold_year, int) and not isinstance(gold_year, bool) and award_year < gold_year + gold_wait:
        found.append(
            FieldProblem(
                GOLD_YEAR_FIELD,
                f"Tổ chức đạt Giải Vàng Chất lượng Quốc gia năm {gold_year} chỉ được đăng ký tham dự lại "
                f"sau {gold_wait} năm kể từ năm được trao Giải Vàng, tức từ năm {gold_year + gold_wait} "
                f"({source[0]}).",
                f"A winner of the Gold National Quality Award in {gold_year} may enter again only "
                f"{gold_wait} years after the year of its Gold award, i.e. from {gold_year + gold_wait} "
                f"({source[1]}).",
                "eligibility",
            )
        )
    return found


def check_eligibility(
    session: Session, procedure: Procedure, actor: User, data: dict[str, Any], at: datetime
) -> None:
    """Refuse an application the version's rules do not admit (422, the fields at fault)."""
    rules = rules_of(procedure)
    day = to_local(at).date()
    current = open_round(session, day)
    organisation = data.get("organisation") if isinstance(data.get("organisation"), dict) else {}
    found = problems(
        organisation or {},
        day,
        current.year if current is not None else day.year,
        rules.min_operation_months,
        rules.gold_reentry_years,
        (rules.source_vi, rules.source_en),
    )
    if found:
        raise InvalidInput(
            "Tổ chức chưa đủ điều kiện tham dự Giải thưởng Chất lượng Quốc gia.",
            "The organisation may not yet enter the National Quality Award.",
            "validation_error",
            found,
        )
