"""National Quality Award pages: the administrator's rounds (open, edit, assign the council) and
an officer's view of a round's applications with the recommendation list to download."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import RoundYear, RuntimeDep
from api.errors import status_of
from api.files import file_response
from api.web import i18n
from api.web.account import field_errors
from api.web.csrf import verify_csrf
from api.web.session import AdminUser, PagePermitted
from api.web.templating import render
from workflows import permissions
from workflows.clock import format_datetime
from workflows.db import reading
from workflows.errors import DomainError
from workflows.models import User
from workflows.procedures.award import actions
from workflows.procedures.award import recommendations as award_recommendations
from workflows.procedures.award import reports as award_reports
from workflows.procedures.award import rounds as award_rounds
from workflows.procedures.award.criteria import criteria_of_aggregation
from workflows.procedures.award.rounds import AwardRound, RoundInput
from workflows.procedures.award.scoring import RECOMMENDATIONS_EN, RECOMMENDATIONS_VI, local_day_end

router = APIRouter(include_in_schema=False)
# The department's staff and the council (a member sees only the rounds they sit on).
RoundReaderUser = Annotated[User, Depends(PagePermitted(actions.RESULTS_READ))]
Csrf = Depends(verify_csrf)
DATE_FIELDS = ("registration_opens", "registration_closes", "scoring_deadline")


def _values_of(row: AwardRound | None) -> dict[str, Any]:
    if row is None:
        year = award_rounds.today().year
        return {"year": str(year), "note": "", **{k: "" for k in DATE_FIELDS}}
    return {
        "year": str(row.year),
        "note": row.note,
        **{k: getattr(row, k).isoformat() for k in DATE_FIELDS},
    }


def _rounds_page(request: Request, rt: Any, user: Any, **context: Any) -> Response:
    values: dict[str, Any] = {
        "rounds": award_rounds.list_rounds(rt, user),
        "members": award_rounds.council_members(rt),
        "values": _values_of(None),
        "chosen": [],
        "errors": {},
        "editing": None,
        "today": award_rounds.today(),
    }
    values.update(context)
    status = 422 if context.get("errors") else 200
    return render(request, "award_rounds.html", user, values, status_code=status)


def _parse(form: Any) -> tuple[RoundInput | None, dict[str, Any], list[int], dict[str, str]]:
    values = {k: str(form.get(k, "")).strip()[:2000] for k in ("year", "note", *DATE_FIELDS)}
    chosen = [int(v) for v in form.getlist("council_member_ids") if str(v).isascii() and str(v).isdigit()]
    errors: dict[str, str] = {}
    try:
        year = int(values["year"])
    except ValueError:
        errors["year"] = i18n._("Nhập năm, ví dụ 2026.")
        year = 0
    days: dict[str, date] = {}
    for key in DATE_FIELDS:
        try:
            days[key] = date.fromisoformat(values[key])
        except ValueError:
            errors[key] = i18n._("Nhập ngày theo dạng dd/mm/yyyy.")
    if errors:
        return None, values, chosen, errors
    return RoundInput(year=year, council_member_ids=chosen, note=values["note"], **days), values, chosen, {}


@router.get("/admin/award-rounds")
def rounds(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    return _rounds_page(request, rt, user)


@router.post("/admin/award-rounds", dependencies=[Csrf])
async def open_round(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    data, values, chosen, errors = _parse(await request.form())
    if data is None:
        return _rounds_page(request, rt, user, values=values, chosen=chosen, errors=errors)
    try:
        award_rounds.create_round(rt, user, data)
    except DomainError as exc:
        return _rounds_page(request, rt, user, values=values, chosen=chosen, errors=field_errors(exc))
    return RedirectResponse(f"/award/rounds/{data.year}?flash=opened", status_code=303)


@router.get("/admin/award-rounds/{year}")
def edit_form(year: RoundYear, request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    row = award_rounds.get_round(rt, year)
    return _rounds_page(
        request, rt, user, values=_values_of(row), chosen=list(row.council_member_ids), editing=row.year
    )


@router.post("/admin/award-rounds/{year}", dependencies=[Csrf])
async def edit_round(year: RoundYear, request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    data, values, chosen, errors = _parse(await request.form())
    if data is None:
        return _rounds_page(request, rt, user, values=values, chosen=chosen, errors=errors, editing=year)
    try:
        award_rounds.update_round(rt, user, year, data)
    except DomainError as exc:
        return _rounds_page(
            request, rt, user, values=values, chosen=chosen, errors=field_errors(exc), editing=year
        )
    return RedirectResponse(f"/award/rounds/{data.year}?flash=saved", status_code=303)


@router.get("/award/rounds")
def round_list(request: Request, rt: RuntimeDep, user: RoundReaderUser) -> Response:
    listed = award_rounds.list_rounds(rt, user)
    if listed:
        return RedirectResponse(f"/award/rounds/{listed[0].year}", status_code=303)
    return _round_page(request, rt, user, None)


def _round_page(
    request: Request,
    rt: Any,
    user: Any,
    row: AwardRound | None,
    flash: str = "",
    issue_error: str = "",
    status_code: int = 200,
) -> Response:
    entries = []
    if row is not None:
        with reading(rt.engine) as session:
            entries = award_reports.round_entries(session, row)
    members = {u.id: u for u in award_rounds.council_members(rt)}
    messages = {
        "opened": i18n._("Đã mở đợt xét giải."),
        "saved": i18n._("Đã lưu đợt xét giải."),
        "issued": i18n._("Đã ban hành danh sách đề xuất."),
    }
    return render(
        request,
        "award_round.html",
        user,
        {
            "round": row,
            "rounds": award_rounds.list_rounds(rt, user),
            "entries": entries,
            "members": [members[i] for i in (row.council_member_ids if row else []) if i in members],
            "criteria": award_reports.round_criteria(rt, entries),
            "recommendations": {
                k: i18n.pick(v, RECOMMENDATIONS_EN[k]) for k, v in RECOMMENDATIONS_VI.items()
            },
            "flash": messages.get(flash, ""),
            "flash_kind": "success",
            "today": award_rounds.today(),
            "issued": award_recommendations.issued_lists(rt, row.year, user) if row is not None else [],
            "issue_error": issue_error,
            "scoring_due": scoring_due(rt, row) if row is not None else "",
        },
        status_code=status_code,
    )


def scoring_due(rt: Any, row: AwardRound) -> str:
    """When the round's scoring closes, as the members' sheets show it ("17:00 27/03/2026")."""
    return format_datetime(datetime.fromisoformat(local_day_end(row.scoring_deadline, rt.calendar)))


@router.get("/award/rounds/{year}")
def round_page(
    year: RoundYear, request: Request, rt: RuntimeDep, user: RoundReaderUser, flash: str = ""
) -> Response:
    return _round_page(request, rt, user, award_rounds.get_round(rt, year, user), flash)


@router.post("/award/rounds/{year}/recommendation-lists", dependencies=[Csrf])
def issue_list(year: RoundYear, request: Request, rt: RuntimeDep, user: RoundReaderUser) -> Response:
    try:
        award_recommendations.issue_recommendation_list(rt, user, year)
    except DomainError as exc:
        message = i18n.pick(exc.message, exc.message_en)
        return _round_page(
            request,
            rt,
            user,
            award_rounds.get_round(rt, year, user),
            issue_error=message,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"/award/rounds/{year}?flash=issued", status_code=303)


@router.get("/award/rounds/{year}/recommendation-lists/{list_id}.{fmt}")
def issued_list_file(
    year: RoundYear, list_id: str, fmt: str, rt: RuntimeDep, user: RoundReaderUser
) -> Response:
    content, filename = award_recommendations.issued_file(rt, user, year, list_id, fmt)
    return file_response(content, award_reports.MEDIA_TYPES[fmt], filename)


@router.get("/award/rounds/{year}/recommendations.docx")
def download_docx(year: RoundYear, rt: RuntimeDep, user: RoundReaderUser) -> Response:
    content, filename = award_reports.draft_list_file(rt, year, user, "docx")
    return file_response(content, award_reports.MEDIA_TYPES["docx"], filename)


@router.get("/award/rounds/{year}/recommendations.xlsx")
def download_xlsx(year: RoundYear, rt: RuntimeDep, user: RoundReaderUser) -> Response:
    content, filename = award_reports.draft_list_file(rt, year, user, "xlsx")
    return file_response(content, award_reports.MEDIA_TYPES["xlsx"], filename)


def award_summary(rt: Any, user: Any, dossier: Any, data: dict[str, Any]) -> dict[str, Any] | None:
    """The council's aggregated scores for the dossier and task pages of an officer (None for
    other procedures, for a business, and while the scores are sealed)."""
    if dossier.procedure_code != award_rounds.AWARD_PROCEDURE or not permissions.may(
        user, actions.RESULTS_READ
    ):
        return None
    aggregation = data.get("aggregation")
    if not isinstance(aggregation, dict) or not aggregation.get("scored_count"):
        return None
    scored = [str(m) for m in aggregation.get("scored_members") or []]
    with reading(rt.engine) as session:
        names = award_rounds.names_of(session, [*scored, *(aggregation.get("missing_members") or [])])
    rows = []
    for criterion in criteria_of_aggregation(aggregation):
        stats = aggregation["criteria"][criterion.key]
        rows.append(
            {
                "criterion": criterion,
                "mean": stats.get("mean"),
                "spread": stats.get("spread"),
                "stdev": stats.get("stdev"),
                "by_member": [stats.get("by_member", {}).get(m) for m in scored],
            }
        )
    recommendation = data.get("final_recommendation") or data.get("recommendation")
    return {
        "members": [names.get(m, f"#{m}") for m in scored],
        "missing": [names.get(str(m), f"#{m}") for m in aggregation.get("missing_members") or []],
        "rows": rows,
        "total": aggregation.get("total") or {},
        "by_member_total": [(aggregation.get("total") or {}).get("by_member", {}).get(m) for m in scored],
        "recommendation": i18n.pick(RECOMMENDATIONS_VI[recommendation], RECOMMENDATIONS_EN[recommendation])
        if recommendation in RECOMMENDATIONS_VI
        else "",
    }
