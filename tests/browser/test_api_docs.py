"""The API documentation page works in a browser under the app's strict Content-Security-Policy,
loading everything from the app itself (issue 13: FastAPI's default page loads from a CDN)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import screenshot


def test_the_api_documentation_shows_the_operations_with_nothing_from_elsewhere(
    live_server: Any, new_page: Any
) -> None:
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # Swagger UI draws only the operations near the screen (a virtual list): the link to the
    # dossiers' section (deep linking) brings them there.
    page.goto(f"{live_server.url}/docs#/dossiers")
    page.locator(".opblock-summary-path", has_text="/api/dossiers").first.wait_for(timeout=15000)
    screenshot(page, "api-docs")
    origin = urlsplit(live_server.url).netloc
    assert {urlsplit(url).netloc for url in requested if not url.startswith("data:")} == {origin}, requested
    # A refused script or style (Content-Security-Policy) shows as a console error.
    assert page.console_errors == []
