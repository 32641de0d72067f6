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
    page.goto(f"{live_server.url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/dossiers" in p for p in paths), paths
    screenshot(page, "api-docs")
    origin = urlsplit(live_server.url).netloc
    assert {urlsplit(url).netloc for url in requested if not url.startswith("data:")} == {origin}, requested
    # A refused script or style (Content-Security-Policy) shows as a console error.
    assert page.console_errors == []
