"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

import notifications.models  # noqa: F401  (registers the room's tables before the schema is created)
from api import openapi, stamp_throttle
from api.body_limit import BodyLimit
from api.error_handlers import install_error_handlers
from api.errors import TOO_MANY_RESPONSE
from api.jobs import scheduler_jobs
from api.procedure_web import routers_of
from api.routes import (
    admin_users,
    auth,
    calendar,
    docs,
    document_templates,
    documents,
    dossiers,
    health,
    login_locks,
    procedure_versions,
    procedures,
    public,
    ratings,
    reports,
    tasks,
)
from api.routes import metrology as metrology_routes
from api.routes import metrology_public as metrology_public_routes
from api.routes import notifications as notification_routes
from api.routes import sessions as sessions_routes
from api.routes import signer_certificates as signer_certificate_routes
from api.routes import tax_codes as tax_code_routes
from api.slash_redirect import SlashRedirect
from api.text_guard import TextGuard
from api.web import account as account_pages
from api.web import (
    admin_pages,
    dossier_pages,
    form_pages,
    instrument_registration_pages,
    metrology_count_pages,
    metrology_pages,
    metrology_warning_pages,
    notification_pages,
    own_instrument_pages,
    personal_signing_pages,
    rating_pages,
    statistics_pages,
    tax_code_pages,
    template_pages,
    version_pages,
    work_pages,
)
from api.web import public as public_pages
from api.web import recovery as recovery_pages
from api.web.middleware import PageContext
from migrations import upgrade_on_start
from workflows.config import get_settings
from workflows.runtime import Runtime, build_runtime
from workflows.scheduler import start_background

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Front-end libraries installed from npm by the Makefile (package.json + package-lock.json);
# only the packages the pages use are served.
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR_PACKAGES = ("bpmn-js", "swagger-ui-dist")


# Files that are the same for everyone and may be kept by a browser or a cache; every other answer
# (pages, the JSON API, downloads) may carry personal data and is never stored (README, Security).
STATIC_PREFIXES = ("/static/", "/vendor/", "/favicon.ico")

# No inline scripts anywhere, /docs included (api/routes/docs.py); inline style attributes are
# allowed for the diagram viewer and Swagger UI; images from the site and data: URLs only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # A response may let the site's own pages frame it (a draft PDF shown on the approval page:
        # api.files.file_response(embeddable=True)); nothing else may be framed.
        framing = response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY
            if framing == "DENY"
            else CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
        )
        if not request.url.path.startswith(STATIC_PREFIXES):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def served_app() -> FastAPI:
    """The app of one of ``tdcflow serve``'s worker processes (uvicorn's factory): the command
    migrated the database before starting them; each worker configures its own logging."""
    from api.logging_setup import configure_logging

    settings = get_settings()
    configure_logging(settings)
    return create_app(build_runtime(settings, create_tables=False))


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The app. Without a runtime, one is built from the environment (its catalogue decides which
    procedures' pages and routes the app has)."""
    if runtime is None:
        # Built from the environment (an ASGI server's factory): migrated first, as by tdcflow serve.
        settings = get_settings()
        upgrade_on_start(settings.database_url)
        runtime = build_runtime(settings, create_tables=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = app.state.runtime
        scheduler = start_background(rt, scheduler_jobs(rt)) if rt.settings.scheduler else None
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)

    app = FastAPI(
        title="tdcflow — Một cửa điện tử TĐC",
        description=(
            "Hệ thống một cửa điện tử về tiêu chuẩn, đo lường, chất lượng của Sở KH&CN.\n\n"
            "The online one-stop shop for standards, metrology and quality procedures."
        ),
        version="0.1.0",
        lifespan=lifespan,
        # Our own /docs (local Swagger UI, strict CSP); no ReDoc (it would load from a CDN).
        docs_url=None,
        redoc_url=None,
        # Starlette's redirect names the Host header's site: api.slash_redirect answers instead.
        redirect_slashes=False,
    )
    openapi.install(app)
    app.state.runtime = runtime
    stamp_throttle.install(app.state, runtime.settings.stamp_lookups_per_minute)
    app.add_middleware(TextGuard)
    app.add_middleware(PageContext)
    app.add_middleware(BodyLimit)
    app.add_middleware(SlashRedirect)
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    for module in (
        health,
        docs,
        auth,
        sessions_routes,
        admin_users,
        procedures,
        dossiers,
        tasks,
        documents,
        public,
        ratings,
        reports,
        notification_routes,
        login_locks,
        tax_code_routes,
        signer_certificate_routes,
        document_templates,
        procedure_versions,
        calendar,
    ):
        app.include_router(module.router)
    # The metrology database (issue 18): its API and the public stamp lookup, each lookup counted
    # against its client's address (api.stamp_throttle: 429 with Retry-After past the limit).
    app.include_router(metrology_routes.router)
    app.include_router(
        metrology_routes.public_router,
        dependencies=[Depends(stamp_throttle.admit_stamp_lookup)],
        responses=TOO_MANY_RESPONSE,
    )
    app.include_router(metrology_public_routes.router)
    for module in (
        public_pages,
        account_pages,
        recovery_pages,
        dossier_pages,
        form_pages,
        work_pages,
        admin_pages,
        notification_pages,
        tax_code_pages,
        personal_signing_pages,
        template_pages,
        version_pages,
        statistics_pages,
        rating_pages,
        metrology_pages,
        metrology_count_pages,
        metrology_warning_pages,
        instrument_registration_pages,
        own_instrument_pages,
    ):
        app.include_router(module.router)
    # Each procedure's own pages and JSON routes (its plug-in's web module).
    for router in routers_of(runtime.catalogue):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for package in VENDOR_PACKAGES:
        if (NODE_MODULES / package).is_dir():
            app.mount(
                f"/vendor/{package}", StaticFiles(directory=NODE_MODULES / package), name=f"vendor-{package}"
            )
    return app
