"""The public stamp lookup's throttle (API and page): at most ``TDCFLOW_STAMP_LOOKUPS_PER_MINUTE``
lookups per client address and minute, counted per process (why: :mod:`workflows.lookup_throttle`).
One count per app, made with it (``app.state.stamp_throttle``), shared by the API and the pages."""

from __future__ import annotations

from fastapi import Request

from api.client_address import client_address
from workflows.lookup_throttle import LookupThrottle


def install(app_state: object, per_minute: int) -> None:
    app_state.stamp_throttle = LookupThrottle(per_minute)  # type: ignore[attr-defined]


def admit_stamp_lookup(request: Request) -> None:
    """Count one lookup from the request's client, or raise ``RateLimited`` (429, Retry-After)."""
    rt = request.app.state.runtime
    request.app.state.stamp_throttle.admit(client_address(request, rt.settings))
