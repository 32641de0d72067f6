"""Pages for everyone: the catalogue, a procedure, dossier lookup, document verification."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import RuntimeDep
from api.web.session import MaybeUser
from api.web.templating import render
from workflows import queries
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.errors import NotFound
from workflows.start_windows import notice_for

router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/")
def home(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    return render(request, "home.html", user, {"procedures": list(rt.catalogue.procedures.values())})


@router.get("/procedures/{code}")
def procedure_page(
    code: str, request: Request, rt: RuntimeDep, user: MaybeUser, version: str | None = None
) -> Response:
    """The procedure as it stands today (its rules in force), announcing the next version of its
    rules when one is known; ``?version=`` shows another version (its key: the date it took effect)."""
    procedure = rt.procedure(code)
    chosen = rt.catalogue.version(code, version) if version is not None else None
    shown = chosen or procedure
    upcoming = rt.catalogue.upcoming(code) if chosen is None else None
    window = notice_for(rt.engine, procedure.start_window, user)
    return render(
        request, "procedure.html", user, {"procedure": shown, "window": window, "upcoming": upcoming}
    )


@router.get("/lookup")
def lookup(request: Request, rt: RuntimeDep, user: MaybeUser, code: str = "") -> Response:
    dossier = procedure = None
    not_found = False
    if code.strip():
        try:
            dossier = queries.public_lookup(rt, code)
            procedure = rt.catalogue.for_dossier(dossier)
        except NotFound:
            not_found = True
    return render(
        request,
        "lookup.html",
        user,
        {
            "code": code,
            "dossier": dossier,
            "procedure": procedure,
            "not_found": not_found,
        },
        status_code=404 if not_found else 200,
    )


@router.get("/verify")
def verify_form(request: Request, rt: RuntimeDep, user: MaybeUser, code: str = "") -> Response:
    if code.strip():
        return verify_page(code, request, rt, user)
    return render(request, "verify.html", user, {"asked": False})


@router.get("/verify/{verification_code}")
def verify_page(verification_code: str, request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    try:
        document = queries.verify_document(rt, verification_code)
    except NotFound:
        return render(
            request,
            "verify.html",
            user,
            {"asked": True, "found": False, "code": verification_code},
            status_code=404,
        )
    return render(
        request,
        "verify.html",
        user,
        {
            "asked": True,
            "found": True,
            "code": document.verification_code,
            "document": document,
            "today": office_day(now()),
        },
    )
