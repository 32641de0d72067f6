"""The split deployment the README describes, as real processes: ``tdcflow serve`` with
``TDCFLOW_SCHEDULER=0`` beside two ``tdcflow worker`` processes on one PostgreSQL database, with a real
SMTP server and a partner's webhook receiver on loopback. Driven through the served app's HTTP API
and pages: the admin adds a clerk and a partner webhook, a business registers and submits a
declaration, the clerk receives it. Every e-mail, webhook call and in-app notification arrives, once.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

import notifications.models  # noqa: F401  (the room's tables, for the checks below)
from notifications.models import Delivery
from tests.deployment_support import (
    TDCFLOW,
    Launcher,
    clean_environment,
    free_port,
    fresh_pg_database,
    pg_server_url,
    wait_until,
)
from tests.notifications_support import MailSink, Receiver, start_smtp
from tests.support import PASSWORD, VN, Person, login
from workflows import accounts
from workflows.audit_anchor import derive_key, install_key
from workflows.db import make_engine, reading, transaction
from workflows.outbox import OutboxEvent

pytestmark = pytest.mark.postgres

SECRET = "chia-se-bi-mat-voi-hai-quan-2026"
ADMIN = "quantri@so-khcn.quangtri.gov.vn"
CLERK = "motcua@so-khcn.quangtri.gov.vn"
# Processes start in a few seconds; the margin is for a machine busy with other work.
START_TIMEOUT = 60
DELIVERY_TIMEOUT = 45


@pytest.fixture
def database() -> Iterator[str]:
    server = pg_server_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with fresh_pg_database(server, f"tdcflow_split_{worker}") as url:
        yield url


@pytest.fixture
def mail() -> Iterator[MailSink]:
    controller, sink = start_smtp()
    yield sink
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    processes = Launcher(tmp_path)
    yield processes
    processes.stop_all()


def environment(tmp_path: Path, database: str, mail: MailSink, web_url: str) -> dict[str, str]:
    """The configuration every process of the deployment shares (README's configuration table)."""
    # The daily digest is a cron job: keep its minute far from this test's.
    digest = (datetime.now(VN) + timedelta(hours=12)).strftime("%H:%M")
    return clean_environment(
        {
            "TDCFLOW_DATABASE_URL": database,
            "TDCFLOW_DATA_DIR": str(tmp_path / "data"),
            "TDCFLOW_SECRET_KEY": "test-secret-key-not-for-production-0123456789",
            "TDCFLOW_BASE_URL": web_url,
            "TDCFLOW_ARGON2_TIME_COST": "1",
            "TDCFLOW_ARGON2_MEMORY_KIB": "1024",
            "TDCFLOW_SMTP_HOST": "127.0.0.1",
            "TDCFLOW_SMTP_PORT": str(mail.port),
            "TDCFLOW_SMTP_STARTTLS": "false",
            "TDCFLOW_MAIL_FROM": "Một cửa TĐC Quảng Trị <mot-cua@skhcn.quangtri.gov.vn>",
            "TDCFLOW_TICK_SECONDS": "0.2",
            "TDCFLOW_DIGEST_TIME": digest,
        }
    )


def answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.TransportError:
        return False


def page_login(client: httpx.Client, email: str) -> None:
    """Log in through the login page (session and CSRF cookies kept by the client)."""
    assert client.get("/login").status_code == 200
    response = client.post(
        "/login", data={"csrf_token": client.cookies["tdcflow_csrf"], "login": email, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


def admin_form(client: httpx.Client, path: str, fields: dict[str, object]) -> None:
    response = client.post(path, data={"csrf_token": client.cookies["tdcflow_csrf"], **fields})
    assert response.status_code == 200, response.text
    assert "notice--success" in response.text, response.text


def registered_and_verified(api: httpx.Client, mail: MailSink, launcher) -> Person:  # type: ignore[no-untyped-def]
    """A business registered through the API, its address verified by the link in the e-mail the
    workers sent."""
    email, tax_code, name = "lienhe@mubaohiem-dongha.vn", "3200123452", "Công ty TNHH Mũ Bảo Hiểm Đông Hà"
    registered = api.post(
        "/api/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": "Nguyễn Văn An",
            "tax_code": tax_code,
            "organisation_name": name,
        },
    )
    assert registered.status_code == 202, registered.text
    wait_until(lambda: bool(mail.to(email)), "the verification e-mail", DELIVERY_TIMEOUT, launcher)
    link = re.search(r"http://\S+/verify-email\?token=[\w-]+", mail.to(email)[0].text)
    assert link, mail.to(email)[0].text
    assert api.get(link.group(0)).status_code == 200
    token = parse_qs(urlsplit(link.group(0)).query)["token"][0]
    assert api.post("/api/auth/verify-email", json={"token": token}).status_code == 200
    return Person(api, email, login(api, email), tax_code=tax_code, organisation=name)  # type: ignore[arg-type]


def test_serve_without_scheduler_and_two_workers_deliver_everything_once(
    tmp_path, database, mail, receiver, launcher
):
    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    env = environment(tmp_path, database, mail, web_url)
    launcher.start(
        "web", ["serve", "--host", "127.0.0.1", "--port", str(port)], {**env, "TDCFLOW_SCHEDULER": "0"}
    )
    engine = make_engine(database)
    api = httpx.Client(base_url=web_url, timeout=30)
    admin = httpx.Client(base_url=web_url, timeout=30)
    try:
        wait_until(
            lambda: answers(api, "/healthz"), "the web app to answer /healthz", START_TIMEOUT, launcher
        )
        # The first administrator is made in the database by whoever installs tdcflow (with the
        # installation's secret key: the account's audit checkpoint is signed with it).
        install_key(engine, derive_key(env["TDCFLOW_SECRET_KEY"]))
        with transaction(engine) as session:
            accounts.create_officer_in(
                session, email=ADMIN, password=PASSWORD, full_name="Quản Trị Viên", roles=["admin"]
            )
        for number in (1, 2):
            launcher.start(f"worker-{number}", ["worker"], env)

        # The admin adds the clerk and the customs office's webhook through the admin pages.
        page_login(admin, ADMIN)
        admin_form(
            admin,
            "/admin/users",
            {
                "email": CLERK,
                "full_name": "Lê Thị Hoa",
                "job_title": "CÁN BỘ TIẾP NHẬN",
                "password": PASSWORD,
                "roles": "clerk",
            },
        )
        admin_form(
            admin,
            "/admin/webhooks",
            {
                "name": "Chi cục Hải quan Lao Bảo",
                "url": receiver.url,
                "purpose": "partner",
                "secret": SECRET,
                "event_types": ["dossier_submitted", "dossier_received"],
            },
        )

        # A business registers, opens the verification link the workers e-mailed, and submits; the
        # clerk receives the dossier.
        firm = registered_and_verified(api, mail, launcher)
        code = firm.submitted()
        clerk = Person(api, CLERK, login(api, CLERK))  # type: ignore[arg-type]
        assert clerk.done(code, {"completeness_decision": "receive"})["status"] == "processing"

        def all_delivered() -> bool:
            with reading(engine) as session:
                waiting_events = session.exec(
                    select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
                ).one()
                unsent = session.exec(
                    select(func.count()).select_from(Delivery).where(Delivery.status != "sent")
                ).one()
            return (
                waiting_events == 0
                and unsent == 0
                and len(mail.to(firm.email)) >= 3
                and len(mail.to(CLERK)) >= 1
                and len(receiver.requests) >= 2
            )

        wait_until(
            all_delivered,
            "the workers to send the e-mails, webhook calls and in-app notifications",
            DELIVERY_TIMEOUT,
            launcher,
        )

        # What the people noticed: the business's two e-mails (after the verification's), the clerk's one.
        verification, *to_firm = mail.to(firm.email)
        assert "Xác nhận địa chỉ thư điện tử" in verification.subject
        assert len(to_firm) == 2, [m.subject for m in to_firm]
        assert all(code in m.subject for m in to_firm)
        assert any("đã nộp" in m.subject for m in to_firm)
        (to_clerk,) = mail.to(CLERK)
        assert to_clerk.subject.startswith("Việc mới: Kiểm tra") and code in to_clerk.subject
        # No message twice, and every e-mail delivery arrived.
        sent = Counter((m.event_id, m.rcpt_tos) for m in mail.mails)
        assert all(n == 1 for n in sent.values()), sent
        with reading(engine) as session:
            rows = list(session.exec(select(Delivery)).all())
        emails = [d for d in rows if d.channel == "email"]
        assert len(mail.mails) == len(emails) == 4
        # Each sent once (in-app is born sent: nothing to send).
        assert all(d.status == "sent" and d.attempts == (d.channel != "inapp") for d in rows), [
            (d.channel, d.recipient, d.status, d.attempts) for d in rows
        ]

        # The partner heard of the submission and of the receipt, once each, signed.
        calls = receiver.requests
        assert [r.status for r in calls] == [202, 202]
        assert sorted(r.json["type"] for r in calls) == ["dossier_received", "dossier_submitted"]
        assert len({r.json["id"] for r in calls}) == 2
        assert all(r.json["dossier"]["code"] == code and r.signed_with(SECRET) for r in calls)

        # In-app: the bell of each.
        firm_inbox = firm.get("/api/notifications").json()
        assert (firm_inbox["total"], firm_inbox["unread"]) == (2, 2)
        clerk_inbox = clerk.get("/api/notifications").json()
        assert clerk_inbox["total"] == 1 and code in clerk_inbox["items"][0]["title"]["vi"]
        assert len([d for d in rows if d.channel == "inapp"]) == 3
        assert all(p.alive() for p in launcher.processes), launcher.outputs()

        # Both workers report in; the web app (TDCFLOW_SCHEDULER=0) runs no scheduler of its own.
        worker_pids = {p.pid for p in launcher.processes if p.name.startswith("worker")}

        def both_ready() -> dict | None:
            response = api.get("/healthz/worker")
            body = response.json()
            if response.status_code == 200 and {s["pid"] for s in body["schedulers"]} == worker_pids:
                return body
            return None

        ready = wait_until(both_ready, "both workers' heartbeats", START_TIMEOUT, launcher)
        assert {s["kind"] for s in ready["schedulers"]} == {"worker"}
        check = subprocess.run(
            [str(TDCFLOW), "worker", "--check"], env=env, capture_output=True, text=True, timeout=60
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        api.close()
        admin.close()
        launcher.stop_all()
        engine.dispose()
