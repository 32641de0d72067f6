"""``/api/dossiers/`` → ``/api/dossiers``, with a relative ``Location``.

Starlette's own trailing-slash redirect (``redirect_slashes``) writes an absolute URL built from the
request's ``Host`` header, so a request sent with ``Host: evil.example`` is answered with a link to
evil.example (a cache or a proxy in front may keep and serve it to others). The app turns that off
and this middleware redirects instead, to a path of this site only: the address without its
trailing slash when that, and not the address asked for, names a route.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send


class SlashRedirect:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _target(scope) if scope["type"] == "http" else None
        if target is None:
            await self.app(scope, receive, send)
            return
        await RedirectResponse(target, status_code=307)(scope, receive, send)


def _matches(scope: Scope, path: str) -> bool:
    routes = scope["app"].router.routes
    probe = {**scope, "path": path}
    return any(route.matches(probe)[0] is not Match.NONE for route in routes)


def _target(scope: Scope) -> str | None:
    """Where to send a request whose only fault is a trailing slash (None: let the app answer)."""
    path: str = scope["path"]
    if path == "/" or not path.endswith("/"):
        return None
    stripped = path.rstrip("/")
    # "//host" or "/\host" would be read by a browser as another site.
    if not stripped.startswith("/") or stripped[1:2] in ("/", "\\"):
        return None
    if _matches(scope, path) or not _matches(scope, stripped):
        return None
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{stripped}?{query}" if query else stripped
