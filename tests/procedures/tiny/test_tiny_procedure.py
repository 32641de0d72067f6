"""A fifth procedure added without touching the core: its plug-in (this folder) brings a model, two
forms, an operator, a document kind, statuses, an event type with its message and a history label;
the catalogue names it. It runs end to end through the API and the pages like the others, and a
fault in its model is told honestly and logged with its traceback, with nothing saved."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.main import create_app
from notifications.dispatcher import fan_out
from tests.conftest import make_settings
from tests.support import business, error_of, officer
from tests.test_pages import page_login
from workflows.config import PROJECT_ROOT
from workflows.db import reading
from workflows.models import AuditEvent, Dossier, WorkTask
from workflows.runtime import Runtime, build_runtime

HERE = Path(__file__).resolve().parent
CODE = "thu-tuc-thu"


@pytest.fixture
def tiny_rt(tmp_path: Path, db_url: str) -> Iterator[Runtime]:
    """The release's catalogue with the tiny procedure added at its end."""
    bpmn = tmp_path / "bpmn"
    shutil.copytree(PROJECT_ROOT / "bpmn", bpmn)
    shutil.copy(HERE / "tiny_procedure.bpmn", bpmn)
    with (bpmn / "catalogue.toml").open("a", encoding="utf-8") as catalogue:
        catalogue.write((HERE / "catalogue_entry.toml").read_text(encoding="utf-8"))
    runtime = build_runtime(make_settings(tmp_path, db_url, bpmn_dir=bpmn))
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def tiny_client(tiny_rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(tiny_rt)) as client:
        yield client


def _request(firm) -> dict:  # type: ignore[no-untyped-def]
    return {"applicant": {"name": firm.organisation, "tax_code": firm.tax_code}, "purpose": "Thử nghiệm"}


def _submitted(firm) -> str:  # type: ignore[no-untyped-def]
    response = firm.post("/api/dossiers", json={"procedure": CODE, "data": _request(firm)})
    assert response.status_code == 201, response.text
    return response.json()["code"]


def test_the_tiny_procedure_runs_end_to_end_through_its_plugin(tiny_client: TestClient, tiny_rt: Runtime):
    listed = tiny_client.get("/api/procedures").json()
    assert CODE in [p["code"] for p in listed]
    firm = business(tiny_client, "Công ty TNHH Thử")
    # The certificate is a result: signed by an authority (the head of the office, "TL. GIÁM ĐỐC").
    clerk = officer(tiny_client, tiny_rt, "clerk", "CHÁNH VĂN PHÒNG", "Lê Thử")
    code = _submitted(firm)

    # Its own operator ran on submission, and its status reads in words.
    seen = firm.get(f"/api/dossiers/{code}").json()
    assert seen["status"] == "tiny_deciding"
    assert seen["status_label"] == {"vi": "Chờ quyết định (thử)", "en": "Awaiting the decision (tiny)"}
    with reading(tiny_rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        stamped = session.exec(
            select(AuditEvent).where(AuditEvent.dossier_id == dossier.id, AuditEvent.action == "tiny_stamped")
        ).one()
        assert stamped.details == {"serial": "0001"}

    # The clerk decides with the plug-in's own form; the certificate is issued and verifies.
    closed = clerk.done(code, {"decision": "grant"})
    assert closed["status"] == "tiny_granted"
    [document] = [
        d for d in firm.get(f"/api/dossiers/{code}").json()["documents"] if d["kind"] == "tiny_certificate"
    ]
    verified = tiny_client.get(f"/api/public/documents/{document['verification_code']}").json()
    assert verified["reference"] == code and verified["title"] == "Giấy chứng nhận (thử)"

    # Its event reaches the applicant with its own message.
    fan_out(tiny_rt)
    inbox = firm.get("/api/notifications").json()["items"]
    assert any("Đã cấp giấy chứng nhận" in n["title"]["vi"] for n in inbox), inbox

    # The public look-up reads its closing status; the dossier page its history label.
    public = tiny_client.get(f"/api/public/dossiers/{code}").json()
    assert public["status_label"]["vi"] == "Đã cấp giấy (thử)"
    page_login(tiny_client, firm.email)
    page = tiny_client.get(f"/dossiers/{code}").text
    assert "Đóng dấu yêu cầu (thử)" in page and "Đã cấp giấy (thử)" in page
    english = tiny_client.get(f"/dossiers/{code}?lang=en").text
    assert "Request stamped (tiny)" in english and "Certificate granted (tiny)" in english


def test_a_form_field_of_the_plugin_is_checked_like_any_other(tiny_client: TestClient, tiny_rt: Runtime):
    firm = business(tiny_client, "Công ty TNHH Thử Hai")
    clerk = officer(tiny_client, tiny_rt, "clerk")
    code = _submitted(firm)
    task = clerk.task(code)
    error = error_of(
        clerk.post(f"/api/tasks/{task['id']}/complete", json={"data": {"decision": "maybe"}}), 422
    )
    assert [f["field"] for f in error["fields"]] == ["decision"]


def test_a_fault_in_the_model_is_told_honestly_and_logged_and_nothing_is_saved(
    tiny_client: TestClient, tiny_rt: Runtime, caplog: pytest.LogCaptureFixture
):
    firm = business(tiny_client, "Công ty TNHH Thử Ba")
    clerk = officer(tiny_client, tiny_rt, "clerk")
    code = _submitted(firm)
    task = clerk.task(code)
    with reading(tiny_rt.engine) as session:
        events_before = len(session.exec(select(AuditEvent).where(AuditEvent.action != "")).all())

    with caplog.at_level(logging.INFO, logger="tdcflow"):
        response = clerk.post(f"/api/tasks/{task['id']}/complete", json={"data": {"decision": "explode"}})
    error = error_of(response, 409, "engine_error")
    assert "chưa có gì được lưu" in error["message"] and "nothing was saved" in error["message_en"]
    assert "notified" not in error["message_en"]
    [fault] = [r for r in caplog.records if r.name == "tdcflow.engine"]
    assert fault.levelno == logging.ERROR and fault.exc_info is not None
    assert "ZeroDivisionError" in caplog.text
    [line] = [r for r in caplog.records if r.name == "tdcflow.command" and "complete_task" in r.getMessage()]
    assert f"dossier={code}" in line.getMessage() and "outcome=engine_error" in line.getMessage()

    with reading(tiny_rt.engine) as session:
        assert session.get(WorkTask, task["id"]).status == "open"
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action != "")).all()) == events_before
