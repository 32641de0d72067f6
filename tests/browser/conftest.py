"""Browser tests: the real app served by uvicorn on loopback, driven by Playwright in Debian's chromium.

Each test module gets a fresh SQLite database and server. Screenshots of the main pages are saved
under ``test-artifacts/screenshots/`` (ignored by git).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.main import create_app
from tests.conftest import make_settings
from workflows.config import PROJECT_ROOT
from workflows.runtime import Runtime, build_runtime

CHROMIUM = os.environ.get("TDCFLOW_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, rt: Runtime, port: int) -> None:
        self.rt = rt
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, test_pki) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    settings = make_settings(
        tmp,
        f"sqlite:///{tmp / 'tdcflow.sqlite3'}",
        base_url=f"http://127.0.0.1:{port}",
        signing_p12=test_pki.p12,
        signing_p12_password=test_pki.password,
        signing_trust_roots=str(test_pki.root_pem),
    )
    server = LiveServer(build_runtime(settings), port)
    server.start()
    yield server
    server.stop()
    server.rt.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: run the tests with 'make test', which installs it")
        pytest.skip(f"{CHROMIUM} is missing (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser):  # type: ignore[no-untyped-def]
    """Pages in fresh browser contexts (separate cookies); console errors are collected per page.

    ``new_page(viewport_width=390)`` for a phone; ``new_page(java_script_enabled=False)`` for a browser
    without JavaScript."""
    contexts = []

    def make(viewport_width: int = 1280, java_script_enabled: bool = True):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            viewport={"width": viewport_width, "height": 900},
            locale="vi-VN",
            java_script_enabled=java_script_enabled,
        )
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on(
            "console",
            lambda message: page.console_errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
