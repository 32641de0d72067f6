"""Start-up: a broken catalogue, model or form stops tdcflow with a message naming what is wrong.

Each case copies the real ``bpmn/`` folder, breaks one thing an administrator or modeller could
get wrong, and checks that ``build_runtime`` (and ``tdcflow check``) refuse to start, naming the
file and the element at fault, rather than starting and failing on the first dossier.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import main as tdcflow
from tests.conftest import make_settings
from workflows.catalogue import CatalogueError
from workflows.config import PROJECT_ROOT, get_settings
from workflows.runtime import build_runtime

PROCEDURE = "cong-bo-hop-chuan-hop-quy"
IMPORT_PROCEDURE = "kiem-tra-chat-luong-hang-nhap-khau"
TBT_PROCEDURE = "hoi-dap-tbt"
AWARD_PROCEDURE = "giai-thuong-chat-luong-quoc-gia"
# Internal: the department's inspection campaign, started by its staff, not in the public list.
CAMPAIGN_PROCEDURE = "kiem-tra-do-luong"
MODEL = "declaration_of_conformity.bpmn"
CATALOGUE = "catalogue.toml"


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the real bpmn folder with ``old`` replaced by ``new`` once in ``file``."""
    folder = tmp_path / "bpmn"
    shutil.copytree(PROJECT_ROOT / "bpmn", folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {file}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def start(tmp_path: Path, bpmn_dir: Path):  # type: ignore[no-untyped-def]
    return build_runtime(make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", bpmn_dir=bpmn_dir))


# (file, text in it, replacement, words the message must contain)
BROKEN = {
    "malformed XML": (
        MODEL,
        "</bpmn:userTask>",
        "</bpmn:userTaskk>",
        [MODEL, "not well-formed XML", "line"],
    ),
    "missing task form": (
        MODEL,
        'value="examine.schema.json"',
        'value="inspection.schema.json"',
        [MODEL, "bpmn:userTask", "examine", "formJsonSchemaFilename", "inspection.schema.json"],
    ),
    "missing task UI form": (
        MODEL,
        'value="approve.uischema.json"',
        'value="signing.uischema.json"',
        [MODEL, "bpmn:userTask", "approve", "formUiSchemaFilename", "signing.uischema.json"],
    ),
    "task without a form": (
        MODEL,
        '<spiffworkflow:property name="formJsonSchemaFilename" value="approve.schema.json" />',
        "",
        [MODEL, "bpmn:userTask", "approve", "formJsonSchemaFilename"],
    ),
    "lane of an unknown role": (
        MODEL,
        '<bpmn:lane id="Lane_specialist" name="specialist">',
        '<bpmn:lane id="Lane_specialist" name="wizard">',
        [MODEL, "bpmn:userTask", "examine", "'wizard'", "specialist"],
    ),
    "unknown service operator": (
        MODEL,
        'id="tdcflow/receive"',
        'id="tdcflow/teleport"',
        [MODEL, "bpmn:serviceTask", "receive", "tdcflow/teleport"],
    ),
    "process id not in the model": (
        CATALOGUE,
        'process_id = "declaration_of_conformity"',
        'process_id = "declaration_of_conformance"',
        [CATALOGUE, PROCEDURE, MODEL, "declaration_of_conformance"],
    ),
    "invalid TOML": (
        CATALOGUE,
        "legal_days = 5",
        "legal_days = = 5",
        [CATALOGUE, "TOML", "line"],
    ),
    "step budget of no task": (
        CATALOGUE,
        "examine = 1.5",
        "examine = 1.5\ninspect = 2",
        [CATALOGUE, PROCEDURE, "step_budgets", "'inspect'"],
    ),
    "step budget of a service task": (
        CATALOGUE,
        "examine = 1.5",
        "examine = 1.5\nreceive = 1",
        [CATALOGUE, PROCEDURE, "step_budgets", "'receive'"],
    ),
    "model file missing": (
        CATALOGUE,
        f'bpmn_files = ["{MODEL}"]',
        'bpmn_files = ["cong_bo.bpmn"]',
        [CATALOGUE, PROCEDURE, "cong_bo.bpmn"],
    ),
    "missing start form": (
        CATALOGUE,
        'start_form = "declaration.schema.json"',
        'start_form = "declaration-v2.schema.json"',
        [CATALOGUE, PROCEDURE, "start_form", "declaration-v2.schema.json"],
    ),
    "committed longer than legal": (
        CATALOGUE,
        "committed_days = 3",
        "committed_days = 7",
        [CATALOGUE, PROCEDURE, "committed_days", "legal_days"],
    ),
    "unknown output": (
        CATALOGUE,
        '"receipt_refusal",',
        '"receipt_refusal", "medal",',
        [CATALOGUE, PROCEDURE, "'medal'"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_catalogue_stops_start_up_naming_the_fault(tmp_path, case):
    file, old, new, expected = BROKEN[case]
    folder = broken_copy(tmp_path, file, old, new)
    with pytest.raises(CatalogueError) as caught:
        start(tmp_path, folder)
    message = str(caught.value)
    for words in expected:
        assert words in message, f"{words!r} not in: {message}"


# Values of the wrong type that an administrator editing catalogue.toml could type.
WRONG_TYPES = {
    "legal_days in words": ("legal_days = 5 ", 'legal_days = "five" ', "legal_days"),
    "step budget with a decimal comma": ("examine = 1.5", 'examine = "1,5"', "examine"),
    "procedure as a single table": ("\n[[procedure]]\n", "\n[procedure]\n", "procedure"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_a_value_of_the_wrong_type_is_a_catalogue_error(tmp_path, case):
    old, new, key = WRONG_TYPES[case]
    folder = broken_copy(tmp_path, CATALOGUE, old, new)
    if case == "procedure as a single table":
        # Keep the rest of the file valid TOML under a single [procedure] table.
        path = folder / CATALOGUE
        text = path.read_text(encoding="utf-8")
        # Only the first procedure: a second [[procedure]] after a [procedure] table is a TOML error.
        text = text.split("\n[[procedure]]\n", 1)[0]
        for array in ("required_documents", "fees"):
            text = text.replace(f"[[procedure.{array}]]", f"[[procedure.{array}_]]")
        path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        start(tmp_path, folder)
    assert CATALOGUE in str(caught.value) and key in str(caught.value)


# --- the `tdcflow check` command ---------------------------------------------------------------


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment `tdcflow` reads, pointed at throw-away folders; settings re-read around it."""
    monkeypatch.setenv("TDCFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("TDCFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TDCFLOW_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
    monkeypatch.setenv("TDCFLOW_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TDCFLOW_ARGON2_MEMORY_KIB", "1024")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_check_command_reports_a_broken_model_and_exits_2(tmp_path, environment, capsys):
    folder = broken_copy(tmp_path, MODEL, 'id="tdcflow/receive"', 'id="tdcflow/teleport"')
    environment.setenv("TDCFLOW_BPMN_DIR", str(folder))
    with pytest.raises(SystemExit) as caught:
        tdcflow(["check"])
    assert caught.value.code == 2
    out, err = capsys.readouterr()
    assert "cannot start" in err
    assert MODEL in err and "bpmn:serviceTask receive" in err and "tdcflow/teleport" in err
    assert "Traceback" not in err and f"ok  {PROCEDURE}" not in out


def test_check_command_reports_invalid_toml_and_exits_2(tmp_path, environment, capsys):
    folder = broken_copy(tmp_path, CATALOGUE, "legal_days = 5", "legal_days = = 5")
    environment.setenv("TDCFLOW_BPMN_DIR", str(folder))
    with pytest.raises(SystemExit) as caught:
        tdcflow(["check"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert str(folder / CATALOGUE) in err and "TOML" in err


def test_check_command_passes_the_real_catalogue(tmp_path, environment, capsys):
    environment.setenv("TDCFLOW_BPMN_DIR", str(PROJECT_ROOT / "bpmn"))
    assert tdcflow(["migrate"]) == 0  # check changes no database: a new one is migrated first
    capsys.readouterr()
    assert tdcflow(["check"]) == 0
    out, err = capsys.readouterr()
    assert f"ok  {PROCEDURE}  (declaration_of_conformity, model version 1)" in out
    assert err == ""


# --- the real catalogue --------------------------------------------------------------------------


def test_the_real_catalogue_loads_once_per_model_version(rt):
    assert list(rt.catalogue.procedures) == [
        PROCEDURE,
        IMPORT_PROCEDURE,
        AWARD_PROCEDURE,
        TBT_PROCEDURE,
        CAMPAIGN_PROCEDURE,
    ]
    assert list(rt.catalogue.public) == [PROCEDURE, IMPORT_PROCEDURE, AWARD_PROCEDURE, TBT_PROCEDURE]
    procedure = rt.catalogue.procedures[PROCEDURE]
    assert procedure.process_id == "declaration_of_conformity"
    assert {"check_completeness", "examine", "approve"} <= set(procedure.model.user_tasks)
    # Starting again on the same database reuses the registered model version.
    again = build_runtime(rt.settings)
    try:
        assert again.current_versions == rt.current_versions
    finally:
        again.engine.dispose()


def test_the_procedure_and_its_start_form_are_served(client, rt):
    listed = client.get("/api/procedures")
    assert listed.status_code == 200
    assert [p["code"] for p in listed.json()] == [PROCEDURE, IMPORT_PROCEDURE, AWARD_PROCEDURE, TBT_PROCEDURE]
    assert [p["code"] for p in listed.json()][:2] == [PROCEDURE, IMPORT_PROCEDURE]

    response = client.get(f"/api/procedures/{PROCEDURE}")
    assert response.status_code == 200
    procedure = response.json()
    assert procedure["name"]["vi"] == "Công bố hợp chuẩn, hợp quy"
    assert (procedure["legal_days"], procedure["committed_days"]) == (5, 3)
    assert procedure["start_form"] == "declaration.schema.json"
    assert procedure["start_form_ui_schema"]
    assert procedure["start_form_schema"]["title"] == "Bản công bố hợp chuẩn / hợp quy"
    assert client.get("/api/procedures/khong-co").status_code == 404


def test_the_start_form_schema_lists_its_fields(client):
    procedure = client.get(f"/api/procedures/{PROCEDURE}").json()
    assert {"applicant", "product", "standard", "basis", "attachments"} <= set(procedure["start_form_fields"])
    # The schema is served as stored: self-contained, its fields behind a local $ref.
    schema = procedure["start_form_schema"]
    assert schema["$ref"].startswith("#/$defs/")
    assert "product" in schema["$defs"][schema["$ref"].rsplit("/", 1)[1]]["properties"]


def test_health_check_answers(client, rt):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": rt.engine.dialect.name, "procedures": 5}


def test_the_app_starts_and_stops_its_scheduler(tmp_path):
    """``tdcflow serve`` runs the scheduler inside the app: timers, alarms, notifications, digest."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.conftest import make_settings
    from workflows.runtime import build_runtime

    rt = build_runtime(
        make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", scheduler=True, tick_seconds=60)
    )
    app = create_app(rt)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        scheduler = app.state.scheduler
        assert scheduler.running
        assert {job.id for job in scheduler.get_jobs()} == {
            "tick",
            "notifications-dispatch",
            "notifications-digest",
            "sessions-purge",
            "audit-daily-root",
            "documents-sign",
            "metrology-sweep",
        }
    assert not scheduler.running
    rt.engine.dispose()


def test_an_older_database_is_refused_with_a_clear_message(tmp_path, monkeypatch, capsys):
    """A table without a column this version needs stops start-up (and the CLI) naming it."""
    import sqlite3

    from api.cli import main
    from tests.conftest import make_settings
    from workflows.config import get_settings
    from workflows.db import SchemaOutOfDate
    from workflows.runtime import build_runtime

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    build_runtime(make_settings(tmp_path, url)).engine.dispose()
    with sqlite3.connect(tmp_path / "old.sqlite3") as conn:
        conn.execute("ALTER TABLE dossier DROP COLUMN extension_days")
    with pytest.raises(SchemaOutOfDate, match=r"dossier\.extension_days"):
        build_runtime(make_settings(tmp_path, url))
    monkeypatch.setenv("TDCFLOW_DATABASE_URL", url)
    monkeypatch.setenv("TDCFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stopped:
            main(["check"])
    finally:
        get_settings.cache_clear()
    assert stopped.value.code == 2
    assert "dossier.extension_days" in capsys.readouterr().err
