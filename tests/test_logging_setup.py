"""What ``tdcflow`` processes log: tdcflow's own messages and every failure with its traceback, not
the libraries' chatter (SpiffWorkflow logs each task state change at INFO) unless asked for."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import select

from api.cli import main as tdcflow
from api.logging_setup import configure_logging, parse_levels
from api.main import create_app
from tests.conftest import make_settings
from tests.deployment_support import Launcher, clean_environment, wait_until
from tests.procedures.import_inspection.test_import_inspection import submitted
from tests.support import VN, cast_of, relogin
from workflows.clock import as_utc, now
from workflows.config import get_settings
from workflows.db import reading, transaction
from workflows.models import Dossier, ProcessInstance
from workflows.runtime import build_runtime

# A logger name of SpiffWorkflow's (spiff.task, spiff.workflow, …) or its state-change message.
SPIFF_LINE = re.compile(r"\bspiff\.\w+|State changed to|Initialized workflow")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the process's logging back as it was for the other tests."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    names = ["", "tdcflow", "uvicorn", "spiff", "apscheduler"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    processes = Launcher(tmp_path)
    yield processes
    processes.stop_all()


def a_monday_weeks_ago(weeks: int) -> datetime:
    today = datetime.now(VN).date()
    monday = today - timedelta(days=today.weekday(), weeks=weeks)
    return datetime(monday.year, monday.month, monday.day, 9, 0, tzinfo=VN)


def dossier_of(engine, code: str) -> tuple[Dossier, ProcessInstance]:  # type: ignore[no-untyped-def]
    with reading(engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        instance = session.exec(select(ProcessInstance).where(ProcessInstance.dossier_id == dossier.id)).one()
        return dossier, instance


def test_the_worker_logs_no_library_chatter_and_each_failure_with_its_traceback(tmp_path, launcher):
    """A real ``tdcflow worker`` fires one overdue BPMN timer (SpiffWorkflow runs the process on) and
    fails on another dossier whose stored state is damaged."""
    url = f"sqlite:///{tmp_path / 'tdcflow.sqlite3'}"
    rt = build_runtime(make_settings(tmp_path, url))
    start = a_monday_weeks_ago(10)  # 15 working days for the certificate ran out long ago
    try:
        with TestClient(create_app(rt)) as client, time_machine.travel(start, tick=False):
            people = cast_of(client, rt, "Công ty TNHH Xuất nhập khẩu Đông Hà")
            relogin(people)
            firm, clerk = people["business"], people["clerk"]
            codes = [submitted(firm), submitted(firm)]
            for code in codes:
                clerk.done(code, {"confirm_decision": "confirm"})
                firm.done(
                    code,
                    {
                        "clearance_date": start.date().isoformat(),
                        "customs_declaration_number": "105123456780",
                    },
                )
        overdue, damaged = (dossier_of(rt.engine, code) for code in codes)
        assert as_utc(overdue[1].next_timer_at) < now() and as_utc(damaged[1].next_timer_at) < now()
        with transaction(rt.engine) as session:
            session.execute(
                update(ProcessInstance).where(ProcessInstance.id == damaged[1].id).values(state="{not json")
            )

        worker = launcher.start(
            "worker",
            ["worker"],
            clean_environment(
                {
                    "TDCFLOW_DATABASE_URL": url,
                    "TDCFLOW_DATA_DIR": str(rt.settings.data_dir),
                    "TDCFLOW_SECRET_KEY": str(rt.settings.secret_key),
                    "TDCFLOW_TICK_SECONDS": "0.2",
                }
            ),
        )

        def both_handled() -> bool:
            flagged, _ = dossier_of(rt.engine, codes[0])
            _, pushed_back = dossier_of(rt.engine, codes[1])
            return (
                flagged.status == "certificate_overdue"
                and as_utc(pushed_back.next_timer_at) > now()
                and "tick: 1 timers" in worker.output()  # the tick's line comes after its commit
            )

        wait_until(both_handled, "the worker to fire one timer and put off the damaged one", 60, launcher)
        worker.stop()
        output = worker.output()
    finally:
        rt.engine.dispose()

    chatter = [line for line in output.splitlines() if SPIFF_LINE.search(line)]
    assert chatter == [], "\n".join(chatter[:20])
    assert not re.search(r"\bINFO\b.*\bapscheduler\b|\bapscheduler\S*\s+INFO\b", output), output[:3000]
    # tdcflow's own INFO lines are there: the worker's start and the tick that fired the timer.
    assert "INFO tdcflow.cli" in output and "worker: a tick every 0.2 s" in output
    assert re.search(r"INFO tdcflow\.scheduler .*tick: 1 timers", output), output
    # The failure: its line, then its traceback.
    assert f"ERROR tdcflow.scheduler [{worker.pid}] timer of instance {damaged[1].id} failed" in output
    failure = output[output.index(f"timer of instance {damaged[1].id} failed") :]
    assert "Traceback (most recent call last):" in failure and "JSONDecodeError" in failure


def test_a_library_is_heard_when_asked_for(tmp_path, client, rt, capsys, restore_logging):
    """``TDCFLOW_LOG_LEVELS=SpiffWorkflow=INFO`` brings SpiffWorkflow's messages back, in-process."""
    people = cast_of(client, rt, "Công ty TNHH An Toàn")
    firm = people["business"]
    configure_logging(make_settings(tmp_path, rt.settings.database_url))
    capsys.readouterr()
    firm.submitted()
    quiet = capsys.readouterr().err
    assert not SPIFF_LINE.search(quiet), quiet[:2000]

    levels = configure_logging(
        make_settings(tmp_path, rt.settings.database_url, log_levels="SpiffWorkflow=INFO")
    )
    assert levels["spiff"] == logging.INFO and levels[""] == logging.WARNING
    firm.submitted()
    heard = capsys.readouterr().err
    assert re.search(r"INFO spiff\.\w+ \[\d+\] ", heard), heard[:2000]


def test_log_levels_are_read_and_bad_ones_stop_the_command(tmp_path, monkeypatch, capsys, restore_logging):
    assert parse_levels(" spiff=info, apscheduler=DEBUG ,root=ERROR,sqlalchemy.engine=20") == {
        "spiff": logging.INFO,
        "apscheduler": logging.DEBUG,
        "": logging.ERROR,
        "sqlalchemy.engine": logging.INFO,
    }
    monkeypatch.setenv("TDCFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("TDCFLOW_DATA_DIR", str(tmp_path / "data"))
    for variable, value, words in [
        ("TDCFLOW_LOG_LEVELS", "spiff=LOUD", "TDCFLOW_LOG_LEVELS (spiff): unknown log level 'LOUD'"),
        ("TDCFLOW_LOG_LEVELS", "spiff", "TDCFLOW_LOG_LEVELS: 'spiff' is not logger=LEVEL"),
        ("TDCFLOW_LOG_LEVEL", "chatty", "TDCFLOW_LOG_LEVEL: unknown log level 'CHATTY'"),
    ]:
        with monkeypatch.context() as env:
            env.setenv(variable, value)
            get_settings.cache_clear()
            try:
                with pytest.raises(SystemExit) as stopped:
                    tdcflow(["check"])
            finally:
                get_settings.cache_clear()
        assert stopped.value.code == 2
        assert words in capsys.readouterr().err


def test_each_command_is_one_line_and_json_lines_carry_its_fields(
    tmp_path: Path, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """With TDCFLOW_LOG_FORMAT=json a log shipper reads one JSON object a line: a command's kind,
    dossier, actor, duration and outcome as fields, a refused command's code as its outcome."""
    import json

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'json.sqlite3'}", log_format="json")
    configure_logging(settings)
    rt = build_runtime(settings)
    with TestClient(create_app(rt)) as client:
        people = cast_of(client, rt, "Công ty TNHH Nhật Ký")
        code = people["business"].submitted()
        clerk = people["clerk"]
        task = clerk.task(code)
        clerk.done(code, {"completeness_decision": "receive"})
        refused = clerk.post(
            f"/api/tasks/{task['id']}/complete", json={"data": {"completeness_decision": "receive"}}
        )
        assert refused.status_code == 409
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    commands = [r for r in records if r["logger"] == "tdcflow.command"]
    submitted_line, completed_line, refused_line = (
        next(r for r in commands if r["command"] == "submit_dossier"),
        next(r for r in commands if r["command"] == "complete_task" and r["outcome"] == "ok"),
        next(r for r in commands if r["command"] == "complete_task" and r["outcome"] != "ok"),
    )
    assert submitted_line["dossier"] == code and submitted_line["outcome"] == "ok"
    assert (
        completed_line["dossier"] == code
        and completed_line["actor_id"]
        and completed_line["duration_ms"] >= 0
    )
    assert refused_line["outcome"] == "task_closed" and refused_line["level"] == "INFO"
    rt.engine.dispose()
