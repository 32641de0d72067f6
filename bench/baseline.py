"""The floor the command path is measured against: SpiffWorkflow and SQLite alone, no product code.

    .venv/bin/python bench/baseline.py [--dossiers 200] [--rounds 5]

The same declaration model (bpmn/declaration_of_conformity.bpmn) and the same four commands per
dossier as bench/engine.py (submit; clerk receives; specialist examines; leader approves), each
doing the durable work a command cannot do without, and nothing else:

* submit: start the workflow with the form data, run its engine steps, serialize it (without its
  spec, as the product stores it), insert the row, commit;
* complete: read the row, deserialize it onto the parsed spec, complete the ready user task with
  the decision, run the engine steps, serialize, update the row if its version is still the one
  read (the optimistic check), commit.

SQLite in WAL mode with ``synchronous=FULL`` (as the product runs it). The service tasks' effects
(issue a document, start the clock…) are recorded by the script engine and dropped: what they cost
in the product is what the comparison shows. :func:`run_round` is what bench/engine.py calls to
print the product's figure beside this one.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "bpmn" / "declaration_of_conformity.bpmn"
PROCESS_ID = "declaration_of_conformity"

STEPS: list[tuple[str, dict[str, str]]] = [
    ("clerk", {"completeness_decision": "receive"}),
    ("specialist", {"examination_findings": "Đạt.", "examination_conclusion": "accept"}),
    ("leader", {"approval_decision": "approve"}),
]


def declaration(n: int, tax_code: str = "0100109106", attachments: dict | None = None) -> dict:
    """The start form of declaration n (hợp quy on a certificate), as the business submits it."""
    return {
        "declaration_type": "hop_quy",
        "applicant": {
            "name": "Công ty Bench",
            "tax_code": tax_code,
            "address": "1 Lê Lợi",
            "phone": "0900000000",
            "representative": "Bench",
        },
        "product": {
            "name": f"Sản phẩm {n}",
            "manufacturer": "Công ty Bench",
            "place_of_production": "Quảng Trị",
        },
        "standard": {"number": "QCVN 2:2021/BKHCN"},
        "basis": "certificate",
        "certificate": {
            "number": f"C-{n}",
            "body": "Quacert",
            "issued_on": "2026-01-01",
            "valid_until": "2029-01-01",
        },
        "attachments": attachments or {},
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class _Environment(TaskDataEnvironment):
    """Service calls recorded and dropped; ``working_days(n)`` as a plain n-day offset."""

    def __init__(self) -> None:
        super().__init__(
            {
                "true": True,
                "false": False,
                "null": None,
                "working_days": lambda n: (datetime.now(UTC) + timedelta(days=n)).isoformat(),
                "add_years": lambda day, n: f"{int(str(day)[:4]) + int(n)}{str(day)[4:10]}",
            }
        )

    def call_service(self, context: dict, operation_name: str = "", **_: Any) -> str:
        return "null"


class _Engine(PythonScriptEngine):
    def __init__(self) -> None:
        super().__init__(environment=_Environment())

    def call_service(self, task: Any, **kwargs: Any) -> str:
        return self.environment.call_service(task.data, **kwargs)


class _StateOnly(BpmnWorkflowConverter):
    """The workflow without its spec (restored onto the spec parsed once), as stored by the product."""

    spec: Any = None
    subprocess_specs: ClassVar[dict] = {}

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict) -> BpmnWorkflow:
        workflow = self.target_class(self.spec, dict(self.subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _serializer() -> BpmnWorkflowSerializer:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(MODEL))
    _StateOnly.spec = parser.get_spec(PROCESS_ID)
    _StateOnly.subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnly
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def _run(workflow: BpmnWorkflow) -> None:
    for _ in range(100):
        workflow.refresh_timers()
        workflow.do_engine_steps()
        if not workflow.get_tasks(state=TaskState.READY, manual=False):
            break


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE instance (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL)"
    )
    return db


def _submit(db: sqlite3.Connection, serializer: BpmnWorkflowSerializer, data: dict) -> int:
    workflow = BpmnWorkflow(_StateOnly.spec, dict(_StateOnly.subprocess_specs), script_engine=_Engine())
    workflow.data.update(data)
    workflow.task_tree.data.update(data)
    _run(workflow)
    state = serializer.serialize_json(workflow)
    db.execute("BEGIN IMMEDIATE")
    row_id = db.execute("INSERT INTO instance (state, version) VALUES (?, 1)", (state,)).lastrowid
    db.execute("COMMIT")
    assert row_id is not None
    return row_id


def _complete(db: sqlite3.Connection, serializer: BpmnWorkflowSerializer, row_id: int, data: dict) -> None:
    db.execute("BEGIN IMMEDIATE")
    state, version = db.execute("SELECT state, version FROM instance WHERE id = ?", (row_id,)).fetchone()
    dct = json.loads(state)
    serializer.migrate(dct)
    workflow = serializer.from_dict(dct)
    workflow.script_engine = _Engine()
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.set_data(**data)
    task.run()
    _run(workflow)
    updated = db.execute(
        "UPDATE instance SET state = ?, version = ? WHERE id = ? AND version = ?",
        (serializer.serialize_json(workflow), version + 1, row_id, version),
    ).rowcount
    if updated != 1:
        db.execute("ROLLBACK")
        raise RuntimeError("the instance moved")
    db.execute("COMMIT")


def run_round(dossiers: int) -> dict:
    """One round on a fresh SQLite file: commands/s and p50/p99 per command kind."""
    serializer = _serializer()
    latencies: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        db = _connect(Path(tmp) / "baseline.sqlite3")
        try:
            for n in range(dossiers):
                data = declaration(n)
                t0 = time.perf_counter()
                row_id = _submit(db, serializer, data)
                latencies["submit"].append(time.perf_counter() - t0)
                for role, step_data in STEPS:
                    t0 = time.perf_counter()
                    _complete(db, serializer, row_id, step_data)
                    latencies[f"complete:{role}"].append(time.perf_counter() - t0)
            sizes = [len(state) for (state,) in db.execute("SELECT state FROM instance")]
        finally:
            db.close()
    every = [v for values in latencies.values() for v in values]
    return {
        "commands_per_s": len(every) / sum(every),
        "p50_ms": percentile(every, 0.50) * 1000,
        "p99_ms": percentile(every, 0.99) * 1000,
        "by_kind": {k: (percentile(v, 0.5) * 1000, percentile(v, 0.99) * 1000) for k, v in latencies.items()},
        "state_bytes": statistics.median(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rounds = [run_round(args.dossiers) for _ in range(args.rounds)]
    med = statistics.median
    print(f"baseline: SpiffWorkflow + SQLite, {args.dossiers} dossiers x 4 commands, {args.rounds} rounds")
    print(f"commands/s        {med(r['commands_per_s'] for r in rounds):8.1f}")
    print(f"latency p50 (ms)  {med(r['p50_ms'] for r in rounds):8.2f}")
    print(f"latency p99 (ms)  {med(r['p99_ms'] for r in rounds):8.2f}")


if __name__ == "__main__":
    main()
