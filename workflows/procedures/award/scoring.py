"""National Quality Award: the council's score arithmetic.

The criteria and their maxima are data of the version of the rules a dossier follows
(``criteria.rules_of``: the catalogue's parameters file, e.g. 120/85/85/90/85/85/450 of Circular
27/2019/TT-BKHCN). ``aggregate`` turns the members' score sheets (one per council member, collected by the model's
multi-instance scoring) into the mean, the spread (max − min) and the standard deviation of
each criterion and of the total, and lists the members who did not score by the deadline. It is
offered to the model as the script function ``aggregate_scores``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from workflows.calendar import WorkingCalendar, get_calendar
from workflows.procedures.award.criteria import AwardRules, rules_of

if TYPE_CHECKING:
    from workflows.catalogue import Procedure


RECOMMENDATIONS_VI = {
    "gold_candidate": "Đề xuất xét Giải Vàng Chất lượng Quốc gia",
    "recommended": "Đề xuất xét Giải thưởng Chất lượng Quốc gia",
    "not_recommended": "Không đề xuất",
}
RECOMMENDATIONS_EN = {
    "gold_candidate": "Recommended as a Gold award candidate",
    "recommended": "Recommended to the national council",
    "not_recommended": "Not recommended",
}


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"mean": 0.0, "min": None, "max": None, "spread": None, "stdev": None, "count": 0}
    return {
        "mean": _round(statistics.fmean(values)),
        "min": min(values),
        "max": max(values),
        "spread": _round(max(values) - min(values)),
        "stdev": _round(statistics.pstdev(values)) if len(values) > 1 else 0.0,
        "count": len(values),
    }


def _member_key(value: Any) -> str:
    return str(value)


def aggregate(
    sheets: Iterable[Mapping[str, Any]], member_ids: Iterable[Any], rules: AwardRules
) -> dict[str, Any]:
    """The council's aggregation of one applicant (JSON-ready, so it can live in process data),
    on the criteria of ``rules`` (which it records, for the documents and lists made from it).

    ``sheets`` are the members' sheets: ``{"member_id", "scored", "scores": {criterion: points},
    "comments": {criterion: text}}``; a sheet with ``scored`` false is a member who missed the
    deadline. Members of ``member_ids`` without a scored sheet are listed in ``missing``.
    """
    members = [_member_key(m) for m in member_ids]
    scored = [s for s in sheets if isinstance(s, Mapping) and s.get("scored")]
    scored_ids = [_member_key(s.get("member_id")) for s in scored]
    criteria: dict[str, Any] = {}
    for criterion in rules.criteria:
        values = [float(s["scores"][criterion.key]) for s in scored]
        by_member = {_member_key(s.get("member_id")): s["scores"][criterion.key] for s in scored}
        # The members' comments, blank ones and repeats left out (the letter quotes each once).
        comments = list(
            dict.fromkeys(
                text
                for text in (str((s.get("comments") or {}).get(criterion.key) or "").strip() for s in scored)
                if text
            )
        )
        criteria[criterion.key] = {
            **_stats(values),
            "maximum": criterion.maximum,
            "by_member": by_member,
            "comments": comments,
        }
    totals = [float(sum(s["scores"][c.key] for c in rules.criteria)) for s in scored]
    return {
        "scored_count": len(scored),
        "member_count": len(members),
        "scored_members": scored_ids,
        "missing_members": [m for m in members if m not in scored_ids],
        "criteria": criteria,
        "criteria_list": rules.as_facts(),
        "criteria_source": rules.source_vi,
        "total": {
            **_stats(totals),
            "maximum": rules.total_maximum,
            "by_member": {m: t for m, t in zip(scored_ids, totals, strict=True)},
        },
    }


def local_day_end(day: str | date, calendar: WorkingCalendar | None = None) -> str:
    """The end of an inclusive deadline day as an ISO UTC instant: the close of office hours
    (the end of the calendar's last office period, 17:00 by default) on that local day.

    The task's due instant and the boundary timer that ends the council's scoring are both this
    instant, so a sheet shows as due "17:00 25/01/2027" and closes then. The office's calendar
    (``get_calendar()``) unless one is given (the runtime's, for the model's scripts).
    """
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    calendar = calendar or get_calendar()
    closing = calendar.periods[-1][1]
    local = datetime.combine(day, closing, tzinfo=calendar.zone)
    return local.astimezone(UTC).isoformat()


def script_functions(calendar: WorkingCalendar, procedure: Procedure) -> dict[str, Callable[..., Any]]:
    """The award's functions for a model's scripts and timer expressions, on the criteria of the
    version ``procedure`` of the rules (the dossier's)."""

    def aggregate_scores(sheets: Any, member_ids: Any) -> dict[str, Any]:
        return aggregate(list(sheets or []), list(member_ids or []), rules_of(procedure))

    def day_end(day: str) -> str:
        return local_day_end(day, calendar)

    return {"aggregate_scores": aggregate_scores, "local_day_end": day_end}
