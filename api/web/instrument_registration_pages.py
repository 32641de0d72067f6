"""Registering an instrument on the pages (issue 18): a business registers its own on its list
(``/my/instruments``), a specialist or a leader one for any owner on the department's list
(``/work/instruments``) and corrects one on its page (``/work/instruments/{id}``). The rules are the registration's (``workflows.metrology.registration``);
a refused form comes back with each field's reason and what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import RowId, RuntimeDep
from api.errors import status_of
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.metrology_pages import _STATUS_NAMES as STATUS_NAMES  # the list page's own
from api.web.metrology_pages import PAGE_SIZE
from api.web.metrology_pages import _helpers as helpers
from api.web.session import PagePermitted
from api.web.templating import render
from workflows import permissions
from workflows.errors import DomainError, Forbidden
from workflows.metrology import listing, registration, registry
from workflows.models import User

router = APIRouter(include_in_schema=False)
Registrant = Annotated[User, Depends(PagePermitted(permissions.METROLOGY_REGISTER_OWN))]
OfficerRegistrant = Annotated[User, Depends(PagePermitted(permissions.METROLOGY_REGISTER))]


def refused_form(error: DomainError, values: dict[str, Any]) -> dict[str, Any]:
    """A refused registration form's context: why, each field's reason, and what was typed (a
    correction made on a stale version shows what is there now instead, to correct again)."""
    return {
        "register_error": i18n.pick(error.message, error.message_en),
        "register_fields": {f.field: i18n.pick(f.message, f.message_en) for f in error.fields},
        "register_values": None if error.code == "stale_instrument" else values,
    }


async def _typed(request: Request, officer: bool) -> dict[str, Any]:
    form = await request.form()
    names = registration.FIELDS if officer else (*registration.INSTRUMENT_FIELDS, *registration.PLACE_FIELDS)
    return {name: value for name in names if isinstance(value := form.get(name), str)}


async def typed_correction(request: Request, officer: bool) -> tuple[dict[str, Any], int]:
    """What a correction form sent: its fields, and the version of the instrument it was read at
    (0, never a version, when missing or not a number)."""
    values = await _typed(request, officer)
    version = (await request.form()).get("version")
    return values, int(version) if isinstance(version, str) and version.isdigit() else 0


@router.post("/my/instruments", dependencies=[Depends(verify_csrf)])
async def register_own(request: Request, rt: RuntimeDep, user: Registrant) -> Response:
    """A business registers one of its instruments; back to its list, which shows it."""
    values = await _typed(request, officer=False)
    try:
        registration.register(rt, user, values)
    except DomainError as refused:
        if isinstance(refused, Forbidden) and refused.code == "tax_code_unverified":
            return render(
                request,
                "my_instruments.html",
                user,
                {"result": None, "refused": i18n.pick(refused.message, refused.message_en)},
                status_code=403,
            )
        result = listing.own_by_urgency(rt, user, 1, PAGE_SIZE)
        context = {
            "result": result,
            "refused": None,
            **helpers(result.today),
            **refused_form(refused, values),
        }
        return render(request, "my_instruments.html", user, context, status_code=status_of(refused))
    return RedirectResponse("/my/instruments?registered=1", status_code=303)


@router.post("/work/instruments", dependencies=[Depends(verify_csrf)])
async def register_for_owner(request: Request, rt: RuntimeDep, user: OfficerRegistrant) -> Response:
    """An officer registers an instrument for its owner; on to the instrument's page."""
    values = await _typed(request, officer=True)
    try:
        instrument = registration.register(rt, user, values)
    except DomainError as refused:
        result = listing.search(rt, user, "", None, 1, PAGE_SIZE)
        statuses = [(s, i18n.pick(*STATUS_NAMES[s])) for s in registry.STATUSES]
        context = {
            "result": result,
            "q": "",
            "status": "",
            "statuses": statuses,
            **helpers(result.today),
            **refused_form(refused, values),
        }
        return render(request, "instruments.html", user, context, status_code=status_of(refused))
    return RedirectResponse(f"/work/instruments/{instrument.id}", status_code=303)


@router.post("/work/instruments/{instrument_id}", dependencies=[Depends(verify_csrf)])
async def correct(
    instrument_id: RowId, request: Request, rt: RuntimeDep, user: OfficerRegistrant
) -> Response:
    """An officer corrects a registration (the version it read is in the form: a change made
    since is refused, not overwritten); back to the instrument's page."""
    values, version = await typed_correction(request, officer=True)
    try:
        registration.correct(rt, user, instrument_id, version, values)
    except DomainError as refused:
        found = registry.instrument_file(rt, user, instrument_id)
        context = {"file": found, **helpers(found.today), **refused_form(refused, values)}
        return render(request, "instrument.html", user, context, status_code=status_of(refused))
    return RedirectResponse(f"/work/instruments/{instrument_id}?corrected=1", status_code=303)
