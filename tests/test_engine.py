"""The SpiffWorkflow adapter: state-only serialization and dossiers pinned to their model version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlmodel import select

from tests.conftest import make_settings
from tests.support import business, officer
from workflows.config import PROJECT_ROOT
from workflows.db import reading
from workflows.engine import RunningProcess, parse_model
from workflows.models import Dossier, ModelVersion, ProcessInstance
from workflows.runtime import build_runtime

MODEL = PROJECT_ROOT / "bpmn" / "declaration_of_conformity.bpmn"


def model():
    return parse_model("declaration_of_conformity", {MODEL.name: MODEL.read_text(encoding="utf-8")})


def test_stored_state_carries_no_process_spec():
    process = RunningProcess.start(model(), {"product": {"name": "Mũ bảo hiểm"}})
    state = json.loads(process.serialize())
    assert "spec" not in state and "subprocess_specs" not in state
    # The spec alone (the default serializer's payload) would be many times this size.
    assert len(process.serialize()) < 8_000


def test_restore_runs_on_from_the_saved_state():
    m = model()
    process = RunningProcess.start(m, {"product": {"name": "Mũ bảo hiểm"}})
    [task] = process.ready_user_tasks()
    assert (task.spec_name, task.candidate_role, task.form) == (
        "check_completeness",
        "clerk",
        "check_completeness.schema.json",
    )
    restored = RunningProcess.restore(m, process.serialize())
    restored.complete(task.id, {"completeness_decision": "receive"})
    assert [e.operation for e in restored.drain_effects()] == ["receive"]
    assert [t.spec_name for t in restored.ready_user_tasks()] == ["examine"]
    assert restored.data["product"] == {"name": "Mũ bảo hiểm"}


def test_running_dossiers_stay_on_their_model_version(tmp_path: Path, db_url: str):
    bpmn_copy = tmp_path / "bpmn"
    shutil.copytree(PROJECT_ROOT / "bpmn", bpmn_copy)
    settings = make_settings(tmp_path, db_url, bpmn_dir=bpmn_copy)
    old_rt = build_runtime(settings)
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(old_rt)) as client:
        firm = business(client)
        old_code = firm.submitted()
    old_rt.engine.dispose()

    # An administrator renames the examination step; the model gets a new version.
    model_file = bpmn_copy / MODEL.name
    model_file.write_text(
        model_file.read_text(encoding="utf-8").replace(
            'name="Thẩm định hồ sơ, dự thảo kết quả"', 'name="Thẩm định hồ sơ (quy trình mới)"'
        ),
        encoding="utf-8",
    )
    new_rt = build_runtime(settings)
    with TestClient(create_app(new_rt)) as client:
        firm.client = client
        clerk = officer(client, new_rt, "clerk")
        specialist = officer(client, new_rt, "specialist")
        new_code = firm.submitted()
        for code in (old_code, new_code):
            clerk.done(code, {"completeness_decision": "receive"})
        names = {t["dossier_code"]: t["name"]["vi"] for t in specialist.get("/api/tasks").json()["items"]}
    assert names[old_code] == "Thẩm định hồ sơ, dự thảo kết quả"
    assert names[new_code] == "Thẩm định hồ sơ (quy trình mới)"
    with reading(new_rt.engine) as session:
        versions = session.exec(
            select(ModelVersion.id).where(ModelVersion.process_id == "declaration_of_conformity")
        ).all()
        pinned = dict(
            session.exec(
                select(Dossier.code, ProcessInstance.model_version_id).join(
                    ProcessInstance, ProcessInstance.dossier_id == Dossier.id
                )
            ).all()
        )
    assert len(versions) == 2 and pinned[old_code] != pinned[new_code]
    new_rt.engine.dispose()
