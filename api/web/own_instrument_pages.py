"""A business's own instrument (issue 18): its page (``/my/instruments/{id}``) with its
verifications; the owner corrects its registration there until the first verification is
recorded (``workflows.metrology.registration``: after that only the department may), and reports
the current stamp lost (``workflows.metrology.alerts``). A refused form comes back with each
field's reason and what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import RowId, RuntimeDep
from api.errors import status_of
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.instrument_registration_pages import refused_form, typed_correction
from api.web.metrology_pages import OwnerUser
from api.web.metrology_pages import _helpers as helpers
from api.web.session import PagePermitted
from api.web.templating import render
from workflows import permissions
from workflows.errors import DomainError, Forbidden
from workflows.metrology import alerts, registration, registry
from workflows.metrology.models import VerificationRecord
from workflows.models import User

router = APIRouter(include_in_schema=False)
Registrant = Annotated[User, Depends(PagePermitted(permissions.METROLOGY_REGISTER_OWN))]
StampReporter = Annotated[User, Depends(PagePermitted(permissions.METROLOGY_STAMP_LOST))]


def _page(
    request: Request, rt: RuntimeDep, user: User, instrument_id: int, status_code: int = 200, **values: Any
) -> Response:
    found = registry.own_instrument_file(rt, user, instrument_id)
    context = {
        "file": found,
        "current": _current(found),
        "register_values": None,
        "lost_error": None,
        **helpers(found.today),
        **values,
    }
    return render(request, "my_instrument.html", user, context, status_code=status_code)


def _current(found: registry.InstrumentFile) -> VerificationRecord | None:
    """The instrument's current verification (whose stamp is the one on it)."""
    return next((r for r, _ in found.records if r.id == found.instrument.current_verification_id), None)


@router.get("/my/instruments/{instrument_id}")
def own_instrument(instrument_id: RowId, request: Request, rt: RuntimeDep, user: OwnerUser) -> Response:
    """One of the business's instruments, its verifications, and what its owner may do."""
    try:
        return _page(request, rt, user, instrument_id)
    except Forbidden as refused:
        if refused.code != "tax_code_unverified":
            raise
        context = {"result": None, "refused": i18n.pick(refused.message, refused.message_en)}
        return render(request, "my_instruments.html", user, context, status_code=403)


@router.post("/my/instruments/{instrument_id}", dependencies=[Depends(verify_csrf)])
async def correct_own(instrument_id: RowId, request: Request, rt: RuntimeDep, user: Registrant) -> Response:
    """The owner corrects its registration (the version it read is in the form: a change made
    since, by a body's report or an officer, is refused, not overwritten)."""
    values, version = await typed_correction(request, officer=False)
    try:
        registration.correct(rt, user, instrument_id, version, values)
    except DomainError as refused:
        return _page(request, rt, user, instrument_id, status_of(refused), **refused_form(refused, values))
    return RedirectResponse(f"/my/instruments/{instrument_id}?corrected=1", status_code=303)


@router.post("/my/instruments/{instrument_id}/stamp-lost", dependencies=[Depends(verify_csrf)])
async def report_lost(
    instrument_id: RowId, request: Request, rt: RuntimeDep, user: StampReporter
) -> Response:
    """The owner reports the current verification's stamp lost: the department is warned."""
    found = registry.own_instrument_file(rt, user, instrument_id)
    form = await request.form()
    note = form.get("note")
    current = _current(found)
    if current is None or not current.stamp_number:
        message = i18n._("Phương tiện đo không có tem kiểm định nào để báo mất.")
        return _page(request, rt, user, instrument_id, 409, lost_error=message)
    try:
        alerts.report_stamp_lost(rt, user, current.stamp_number, note if isinstance(note, str) else "")
    except DomainError as refused:
        message = i18n.pick(refused.message, refused.message_en)
        return _page(request, rt, user, instrument_id, status_of(refused), lost_error=message)
    return RedirectResponse(f"/my/instruments/{instrument_id}?reported=1", status_code=303)
