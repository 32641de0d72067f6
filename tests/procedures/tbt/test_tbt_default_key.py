"""The TBT inquiry point on an installation with no TDCFLOW_SECRET_KEY (as ``make run`` starts it):
the form tokens, the visitors' secret follow links and their e-mails are signed with the key kept
in the data folder, and the links still work after a restart. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.main import create_app
from notifications.dispatcher import fan_out
from notifications.models import Delivery
from tests.conftest import make_settings
from tests.procedures.tbt.test_tbt_pages import ask_form
from workflows.db import reading
from workflows.runtime import Runtime, build_runtime


@pytest.fixture
def keyless(tmp_path: Path, db_url: str) -> Iterator[Runtime]:
    settings = make_settings(tmp_path, db_url, secret_key=None)
    assert settings.secret_key is None
    runtime = build_runtime(settings)
    yield runtime
    runtime.engine.dispose()


def test_visitor_asks_follows_and_is_mailed_without_a_configured_key(keyless, tmp_path):
    with TestClient(create_app(keyless)) as client:
        assert client.get("/tbt/ask").status_code == 200
        assert client.get("/api/tbt/form-token").status_code == 200
        sent = ask_form(client, follow_redirects=False, asker_email="khong.khoa@example.vn")
        assert sent.status_code == 303, sent.text
        link = sent.headers["location"].split("?")[0]
        assert client.get(link).status_code == 200
        api_link = link.replace("/tbt/follow/", "/api/tbt/follow/")
        assert client.get(api_link).json()["status"] == "tbt_classifying"

    # The key the links are signed with is kept in the data folder, readable by the owner only.
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0

    # The visitor's e-mails render, with the secret link.
    fan_out(keyless)
    with reading(keyless.engine) as session:
        mails = session.exec(
            select(Delivery).where(Delivery.channel == "email", Delivery.recipient == "khong.khoa@example.vn")
        ).all()
    assert mails and all(link in m.body_text for m in mails), [m.subject for m in mails]

    # After a restart the same key is read back: the e-mailed link still opens the inquiry.
    restarted = build_runtime(keyless.settings)
    try:
        with TestClient(create_app(restarted)) as client:
            page = client.get(link)
            assert page.status_code == 200
            assert re.search(r'<span class="code">[^<]+</span>', page.text)
    finally:
        restarted.engine.dispose()
