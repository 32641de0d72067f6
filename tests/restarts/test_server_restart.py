"""The award fault as it was reported, across real processes: an application is received, council
member 1 scores, the server restarts (stop, ``tdcflow serve`` again), members 2 and 3 score. The
application must reach the site visit, as it does without the restart."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx

from tests.procedures.award.test_award import application, sheet
from tests.support import PASSWORD, Person, login, verify_email
from workflows import accounts
from workflows.clock import now, to_local
from workflows.db import transaction
from workflows.models import User
from workflows.procedures.award import rounds as award_rounds
from workflows.procedures.award.rounds import RoundInput
from workflows.runtime import Runtime

AWARD = "giai-thuong-chat-luong-quoc-gia"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _server(rt: Runtime, port: int, log: Path) -> Iterator[httpx.Client]:
    """``tdcflow serve`` on this test's database, until the block ends (then SIGTERM, as systemd)."""
    settings = rt.settings
    env = {
        **os.environ,
        "TDCFLOW_DATABASE_URL": settings.database_url,
        "TDCFLOW_DATA_DIR": str(settings.data_dir),
        "TDCFLOW_SECRET_KEY": settings.secret_key,
        "TDCFLOW_BPMN_DIR": str(settings.bpmn_dir),
        "TDCFLOW_SCHEDULER": "0",
        "TDCFLOW_ARGON2_TIME_COST": "1",
        "TDCFLOW_ARGON2_MEMORY_KIB": "1024",
    }
    command = [str(Path(sys.executable).with_name("tdcflow")), "serve", "--port", str(port)]
    with log.open("a") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        _wait_until_up(client, process, log)
        yield client
    finally:
        client.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"tdcflow serve exited:\n{log.read_text()}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.05)  # a bounded wait for the port to open, not a timing assumption
    raise AssertionError(f"tdcflow serve did not answer /healthz:\n{log.read_text()}")


def _officer(rt: Runtime, role: str, number: int) -> User:
    with transaction(rt.engine) as session:
        return accounts.create_officer_in(
            session,
            email=f"{role}{number}@so-khcn.gov.vn",
            password=PASSWORD,
            full_name=f"Cán bộ {role} {number}",
            roles=[role],
        )


def test_an_award_application_scored_across_a_server_restart_reaches_the_site_visit(
    rt: Runtime, tmp_path: Path
) -> None:
    clerk, specialist, admin = (_officer(rt, role, 1) for role in ("clerk", "specialist", "admin"))
    members = [_officer(rt, "council", number) for number in (1, 2, 3)]
    today = to_local(now()).date()
    award_rounds.create_round(
        rt,
        admin,
        RoundInput(
            year=today.year,
            registration_opens=today,
            registration_closes=today + timedelta(days=7),
            scoring_deadline=today + timedelta(days=21),
            council_member_ids=[member.id for member in members],
        ),
    )
    port, log = _free_port(), tmp_path / "serve.log"

    with _server(rt, port, log) as client:
        response = client.post(
            "/api/auth/register",
            json={
                "email": "lienhe@thep-khoi-dong.vn",
                "password": PASSWORD,
                "full_name": "Nguyễn Văn An",
                "tax_code": "3200777007",
                "organisation_name": "Công ty CP Thép Khởi Động",
                "address": "Đông Hà",
            },
        )
        assert response.status_code == 202, response.text
        verify_email(client, rt, "lienhe@thep-khoi-dong.vn")  # type: ignore[arg-type]
        firm = Person(
            client,  # type: ignore[arg-type]
            "lienhe@thep-khoi-dong.vn",
            login(client, "lienhe@thep-khoi-dong.vn"),  # type: ignore[arg-type]
            tax_code="3200777007",
            organisation="Công ty CP Thép Khởi Động",
        )
        applied = firm.post("/api/dossiers", json={"procedure": AWARD, "data": application(firm)})
        assert applied.status_code == 201, applied.text
        code = applied.json()["code"]
        as_clerk = Person(client, clerk.email, login(client, clerk.email))  # type: ignore[arg-type]
        as_clerk.done(code, {"completeness_decision": "receive"})
        first = Person(client, members[0].email, login(client, members[0].email))  # type: ignore[arg-type]
        first.done(code, sheet())

    with _server(rt, port, log) as client:
        for member in members[1:]:
            person = Person(client, member.email, login(client, member.email))  # type: ignore[arg-type]
            person.done(code, sheet(base=10))
        as_specialist = Person(client, specialist.email, login(client, specialist.email))  # type: ignore[arg-type]
        visit = as_specialist.task(code, "site_visit")
        assert visit["dossier_code"] == code
        public = client.get(f"/api/public/dossiers/{code}").json()
        assert public["status"] != "processing", public
