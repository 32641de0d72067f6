"""Schemathesis against the app: every operation of the OpenAPI document, as five people.

The document is loaded from the ASGI app in-process (no network). For each operation and each of
anonymous, a business, a clerk, a leader and an administrator, Schemathesis sends a bounded,
derandomized set of requests, valid and invalid ones (seed ``SEED``): its coverage cases (edge
values of every parameter, missing and malformed parts, methods the path does not take) and
``MAX_EXAMPLES`` fuzzed ones; and it checks what a client of the API would notice: no 5xx, a status
code the document names, the content type it names, and a body that matches the documented schema.

The people and a small set of real rows (the demo's dossiers of every procedure in several states,
the business's own dossier, tasks, documents, notifications, award rounds, TBT questions) are made
once per xdist worker on a fresh SQLite runtime at a fixed instant and kept as a snapshot; each
test starts from that snapshot, so one operation's writes never change another's run. Path
parameters are drawn from the real identifiers as often as from generated values, so a path with a
code reaches a real row.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pytest
import schemathesis
import time_machine
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from api.main import create_app
from tests.conftest import make_settings
from tests.support import business, officer
from workflows import heartbeat
from workflows.demo import create_demo_accounts, create_demo_dossiers
from workflows.procedures.tbt.visitors import follow_token
from workflows.runtime import build_runtime

SEED = 20260915
# Fuzzed requests per operation and identity, besides the coverage cases (which reach every edge
# value and malformed part of each operation anyway). 20 when the API had half its operations; the
# suite's 15-minute budget now allows 10.
MAX_EXAMPLES = 10
IDENTITIES = ("anonymous", "business", "clerk", "leader", "admin")
# A working Tuesday after every dated rule the demo loads has come into force.
INSTANT = datetime(2026, 9, 15, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# --- the app, built at collection: the document it serves names the operations to test ----------

_DIR = tempfile.TemporaryDirectory(prefix="tdcflow-fuzz-")
_DATABASE = Path(_DIR.name) / "tdcflow.sqlite3"
_SNAPSHOT = Path(_DIR.name) / "seeded.sqlite3"
# The clock stands still: the stamp lookup's per-minute limit would answer 429 before its handler
# after the first 60 cases; the limit has its own test (tests/test_metrology_public.py).
RUNTIME = build_runtime(
    make_settings(Path(_DIR.name), f"sqlite:///{_DATABASE}", stamp_lookups_per_minute=1_000_000)
)
APP = create_app(RUNTIME)

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


# --- the real rows ------------------------------------------------------------------------------


@dataclass
class Seeded:
    """The people's bearer tokens and, per path template, the real values of its path parameters."""

    tokens: dict[str, str] = field(default_factory=dict)
    paths: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


SEEDED = Seeded()


def _rows(sql: str) -> list[tuple[Any, ...]]:
    with RUNTIME.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def _real_path_values() -> dict[str, list[dict[str, Any]]]:
    """Real identifiers for every path template that has parameters, a few of each kind."""
    dossiers = [c for (c,) in _rows("SELECT code FROM dossier ORDER BY id")]
    tbt = [c for (c,) in _rows("SELECT code FROM dossier WHERE procedure_code = 'hoi-dap-tbt' ORDER BY id")]
    # Ids and codes are random: ordered by what the seeding makes the same in every run, so each
    # derandomized example reaches the same row.
    tasks = [
        t
        for (t,) in _rows("SELECT id FROM work_task ORDER BY dossier_id, spec_name, status, assignee_id, id")
    ]
    attachments = [
        a for (a,) in _rows("SELECT id FROM attachment ORDER BY dossier_id, filename, owner_id, id")
    ]
    documents = _rows(
        "SELECT id, verification_code, dossier_id FROM document "
        "ORDER BY dossier_id, kind, number, issued_for, issued_for_id, id"
    )
    notifications = [n for (n,) in _rows("SELECT id FROM notification ORDER BY id")]
    rounds = [y for (y,) in _rows("SELECT year FROM award_round ORDER BY year")]
    lists = _rows(
        "SELECT r.year, d.id FROM document d JOIN award_round r ON d.issued_for_id = r.id "
        "WHERE d.issued_for = 'award_round' ORDER BY r.year, d.number, d.kind, d.id"
    )
    kb = [k for (k,) in _rows("SELECT id FROM tbt_kb_entry ORDER BY id")]
    wto = [w for (w,) in _rows("SELECT id FROM tbt_wto_notification ORDER BY id")]
    subscriptions = [s for (s,) in _rows("SELECT id FROM tbt_wto_subscription ORDER BY id")]
    procedures = sorted(RUNTIME.catalogue.procedures)
    secret = RUNTIME.settings.secret_key
    tbt_documents = _rows(
        "SELECT x.code, d.id FROM document d JOIN dossier x ON d.dossier_id = x.id "
        "WHERE x.procedure_code = 'hoi-dap-tbt' ORDER BY x.id, d.kind, d.number, d.id"
    )
    return {
        "/api/procedures/{code}": [{"code": c} for c in procedures],
        "/api/dossiers/{code}": [{"code": c} for c in dossiers],
        "/api/dossiers/{code}/withdraw": [{"code": c} for c in dossiers],
        "/api/dossiers/{code}/attachments": [{"code": c} for c in dossiers],
        "/api/dossiers/{code}/extend": [{"code": c} for c in dossiers],
        "/api/public/dossiers/{code}": [{"code": c} for c in dossiers],
        "/api/attachments/{attachment_id}": [{"attachment_id": a} for a in attachments],
        "/api/tasks/{task_id}": [{"task_id": t} for t in tasks],
        "/api/tasks/{task_id}/claim": [{"task_id": t} for t in tasks],
        "/api/tasks/{task_id}/release": [{"task_id": t} for t in tasks],
        "/api/tasks/{task_id}/complete": [{"task_id": t} for t in tasks],
        "/api/documents/{document_id}": [{"document_id": d} for d, _, _ in documents],
        "/api/public/documents/{verification_code}": [{"verification_code": v} for _, v, _ in documents],
        "/api/notifications/{notification_id}/read": [{"notification_id": n} for n in notifications],
        "/api/award/rounds/{year}": [{"year": y} for y in rounds],
        "/api/award/rounds/{year}/recommendations.docx": [{"year": y} for y in rounds],
        "/api/award/rounds/{year}/recommendations.xlsx": [{"year": y} for y in rounds],
        "/api/award/rounds/{year}/recommendation-lists": [{"year": y} for y in rounds],
        "/api/award/rounds/{year}/recommendation-lists/{list_id}.{fmt}": [
            {"year": y, "list_id": d, "fmt": fmt} for y, d in lists for fmt in ("docx", "xlsx")
        ],
        "/api/tbt/follow/{code}/{token}": [{"code": c, "token": follow_token(secret, c)} for c in tbt],
        "/api/tbt/follow/{code}/{token}/documents/{document_id}": [
            {"code": c, "token": follow_token(secret, c), "document_id": d} for c, d in tbt_documents
        ],
        "/api/tbt/kb/{entry_id}": [{"entry_id": k} for k in kb],
        "/api/tbt/kb/{entry_id}/unpublish": [{"entry_id": k} for k in kb],
        "/api/tbt/wto-notifications/{notification_id}": [{"notification_id": w} for w in wto],
        "/api/tbt/wto-notifications/{notification_id}/comments": [{"notification_id": w} for w in wto],
        "/api/tbt/wto-notifications/{notification_id}/compilation": [{"notification_id": w} for w in wto],
        "/api/tbt/subscriptions/{subscription_id}": [{"subscription_id": s} for s in subscriptions],
    }


def _seed() -> None:
    """The people and the rows, made once, then kept as the snapshot every test starts from."""
    with time_machine.travel(INSTANT, tick=False), TestClient(APP) as client:
        create_demo_accounts(RUNTIME)
        create_demo_dossiers(RUNTIME)
        firm = business(client)
        firm.submitted()
        people = {
            "business": firm,
            "clerk": officer(client, RUNTIME, "clerk"),
            "leader": officer(client, RUNTIME, "leader"),
            "admin": officer(client, RUNTIME, "admin"),
        }
        SEEDED.tokens = {name: person.token for name, person in people.items()}
        # A scheduler that has just ticked: /healthz/worker answers 200 (the clock stands still).
        ticker = heartbeat.Identity("worker", "fuzz", 1)
        heartbeat.record_start(RUNTIME.engine, ticker, RUNTIME.settings.tick_seconds)
        heartbeat.record_tick(RUNTIME.engine, ticker, RUNTIME.settings.tick_seconds)
    SEEDED.paths = _real_path_values()
    RUNTIME.engine.dispose()
    _copy(_DATABASE, _SNAPSHOT)


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup: the whole database, consistent, whatever the target held."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture
def seeded() -> Iterator[Seeded]:
    """The seeded database, as it was before any test wrote to it, at the seeding instant."""
    if not SEEDED.tokens:
        _seed()
    else:
        RUNTIME.engine.dispose()
        _copy(_SNAPSHOT, _DATABASE)
    with time_machine.travel(INSTANT, tick=False):
        yield SEEDED
    RUNTIME.engine.dispose()


@schema.hook
def before_generate_path_parameters(context: schemathesis.HookContext, strategy: st.SearchStrategy) -> Any:
    """As often as not, a real identifier of the operation's path instead of a generated one."""
    template = context.operation.path if context.operation is not None else ""

    def real() -> st.SearchStrategy:
        values = SEEDED.paths.get(template) or []
        return st.sampled_from(values) if values else st.nothing()

    return st.one_of(strategy, st.deferred(real))


# --- the test -------------------------------------------------------------------------------------


@schema.parametrize()
@pytest.mark.parametrize("identity", IDENTITIES)
# The fixture restores the seeded database once per operation and identity, not per example: the
# examples of one test run one after the other on the rows the earlier ones left, as a client's would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_fuzz(case: schemathesis.Case, identity: str, seeded: Seeded) -> None:
    headers = {} if identity == "anonymous" else {"Authorization": f"Bearer {seeded.tokens[identity]}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
