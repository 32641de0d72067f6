"""Configuration a newcomer meets: links name the port served when ``TDCFLOW_BASE_URL`` is unset,
and ``TDCFLOW_DATA_DIR`` holds the SQLite database too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from api.base_url import apply_recorded, apply_served, served_base_url
from tests.deployment_support import Launcher, clean_environment, free_port, wait_until
from tests.notifications_support import MailSink, start_smtp
from workflows import config
from workflows.config import Settings


def test_the_database_lives_in_the_data_folder_unless_its_url_is_given(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).database_url == f"sqlite:///{tmp_path / 'tdcflow.sqlite3'}"
    explicit = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    assert Settings(data_dir=tmp_path, database_url=explicit).database_url == explicit


def test_an_upgraded_installation_keeps_its_database_at_the_old_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A data folder in use (its secret key there) without a database, the database at the old
    default place: that file is used, with a warning, rather than a new empty database."""
    legacy = tmp_path / "repo-var" / "tdcflow.sqlite3"
    legacy.parent.mkdir()
    legacy.write_bytes(b"")
    monkeypatch.setattr(config, "LEGACY_DATABASE", legacy)
    data = tmp_path / "data"
    data.mkdir()
    # A new (or restored-into) data folder starts with its own database.
    assert Settings(data_dir=data).database_url == f"sqlite:///{data / 'tdcflow.sqlite3'}"
    (data / "secret_key").write_text("k")
    assert Settings(data_dir=data).database_url == f"sqlite:///{legacy}"
    assert "outside the data folder" in caplog.text
    (data / "tdcflow.sqlite3").write_bytes(b"")  # moved as the warning says
    assert Settings(data_dir=data).database_url == f"sqlite:///{data / 'tdcflow.sqlite3'}"


def test_the_served_address_is_recorded_for_the_worker(tmp_path: Path) -> None:
    assert served_base_url("127.0.0.1", 8080) == "http://127.0.0.1:8080"
    assert served_base_url("::1", 8080) == "http://[::1]:8080"
    assert served_base_url("localhost", 9000) == "http://localhost:9000"
    assert not served_base_url("0.0.0.0", 8080).startswith("http://0.0.0.0")
    web = Settings(data_dir=tmp_path)
    apply_served(web, "127.0.0.1", 8080)
    assert web.base_url == "http://127.0.0.1:8080"
    worker = Settings(data_dir=tmp_path)
    apply_recorded(worker)
    assert worker.base_url == "http://127.0.0.1:8080"
    # TDCFLOW_BASE_URL, when set, wins everywhere and nothing is recorded over it.
    told = Settings(data_dir=tmp_path / "other", base_url="https://motcua.skhcn.quangtri.gov.vn")
    apply_served(told, "127.0.0.1", 8080)
    apply_recorded(told)
    assert told.base_url == "https://motcua.skhcn.quangtri.gov.vn"
    assert not (tmp_path / "other" / "base_url").exists()


@pytest.fixture
def mail() -> Iterator[MailSink]:
    controller, sink = start_smtp()
    yield sink
    controller.stop()


def test_tdcflow_serve_on_a_port_sends_links_to_that_port(tmp_path: Path, mail: MailSink) -> None:
    """A real ``tdcflow serve --port N`` with neither TDCFLOW_BASE_URL nor TDCFLOW_DATABASE_URL:
    the e-mailed verification link names port N, and the database is made in the data folder."""
    port = free_port()
    data = tmp_path / "data"
    env = clean_environment(
        {
            "TDCFLOW_DATA_DIR": str(data),
            "TDCFLOW_ARGON2_TIME_COST": "1",
            "TDCFLOW_ARGON2_MEMORY_KIB": "1024",
            "TDCFLOW_SMTP_HOST": "127.0.0.1",
            "TDCFLOW_SMTP_PORT": str(mail.port),
            "TDCFLOW_SMTP_STARTTLS": "false",
            "TDCFLOW_TICK_SECONDS": "0.2",
        }
    )
    launcher = Launcher(tmp_path)
    try:
        launcher.start("web", ["serve", "--host", "127.0.0.1", "--port", str(port)], env)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as api:

            def up() -> bool:
                try:
                    return api.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(up, "the web app", 60, launcher)
            email = "lienhe@thepdongha.example.vn"
            registered = api.post(
                "/api/auth/register",
                json={
                    "email": email,
                    "password": "mat-khau-du-dai-2026",
                    "full_name": "Nguyễn Văn An",
                    "tax_code": "3200123452",
                    "organisation_name": "Công ty TNHH Thép Đông Hà",
                },
            )
            assert registered.status_code == 202, registered.text
            wait_until(lambda: bool(mail.to(email)), "the verification e-mail", 45, launcher)
        link = re.search(r"https?://[^/\s]+/verify-email\?token=", mail.to(email)[0].text)
        assert link is not None, mail.to(email)[0].text
        assert link.group(0).startswith(f"{base}/"), link.group(0)
        assert (data / "tdcflow.sqlite3").exists()
        assert (data / "base_url").read_text().strip() == base
    finally:
        launcher.stop_all()
