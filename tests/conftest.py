"""Test fixtures: a runtime and an HTTP client on a real SQLite file and on a real PostgreSQL server.

``make test`` starts a throw-away PostgreSQL and sets ``TDCFLOW_TEST_PG_URL``; every test that takes
the ``rt``/``client`` fixtures then runs once per database. Without that variable the PostgreSQL
runs are skipped locally and fail under CI, where they must not be silently lost.

The schema comes from the migrations (``migrations``), as in production, made once per xdist
worker: PostgreSQL's database is migrated once and emptied before each test (its rows, not its
``alembic_version``); SQLite's is a template file migrated once and copied for each test (a copy
costs less than ``create_all``). ``tests/test_migrations.py`` proves migrations and models equal.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

import migrations
from api.main import create_app
from workflows.config import PROJECT_ROOT, Settings
from workflows.db import make_engine
from workflows.runtime import Runtime, build_runtime

if TYPE_CHECKING:
    from tests.signing_support import SigningPki

# The tests' signing PKI and timestamp server (fixtures test_pki, pdfsig_nssdir).
pytest_plugins = ["tests.signing_support"]

PG_URL = os.environ.get("TDCFLOW_TEST_PG_URL")

# A `tdcflow serve` a test starts runs one web process unless the test asks for more (the default,
# one per CPU, would double every such start's cost on the 2 cores the suite has).
os.environ.setdefault("TDCFLOW_WEB_WORKERS", "1")

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]

_prepared_pg: dict[str, str] = {}
_sqlite_template: list[Path] = []


def _worker_pg_url(worker: str) -> str:
    """A database of this xdist worker's own on the test server, migrated once."""
    if worker in _prepared_pg:
        return _prepared_pg[worker]
    base = make_url(PG_URL)
    name = f"tdcflow_{worker}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    _prepared_pg[worker] = url
    return url


_truncating: dict[str, Engine] = {}


def _truncate(url: str) -> None:
    """Empty every table but ``alembic_version`` and start every sequence again, as
    ``TRUNCATE … RESTART IDENTITY`` of all of them would. Only the tables holding rows are
    truncated (a truncation makes new files for the table and each of its indexes, most of the
    cost of a test's set-up when done for every table), and the sequences are set back in one
    statement, so a table emptied by its test (rows added, then deleted) starts again at 1 too."""
    engine = _truncating.get(url)
    if engine is None:
        engine = _truncating[url] = make_engine(url)
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
        ]
        if not tables:
            return
        holding = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT FROM \"{t}\")" for t in tables)
        full = [r[0] for r in conn.execute(text(holding))]
        if full:
            quoted = ", ".join(f'"{t}"' for t in full)
            conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
        conn.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
                "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A module marked ``sqlite_only`` runs on SQLite alone: what it checks (a page's markup, headers,
    form errors) does not depend on the database, and what its queries do on PostgreSQL is tested
    elsewhere. The suite's time goes to the tests where the database matters."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("db_url") == "postgresql"
        (dropped if on_postgres and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        path = tmp_path / "tdcflow.sqlite3"
        shutil.copyfile(sqlite_template(tmp_path_factory), path)
        return f"sqlite:///{path}"
    return postgres_database()


def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This xdist worker's SQLite database at the head revision, migrated once (to be copied)."""
    if not _sqlite_template:
        path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
        migrations.upgrade(f"sqlite:///{path}")
        # The copy must be one self-contained file: nothing left in a write-ahead log.
        assert not path.with_name(path.name + "-wal").exists()
        _sqlite_template.append(path)
    return _sqlite_template[0]


def postgres_database() -> str:
    """This xdist worker's PostgreSQL database, emptied: skipped without a server, failed under CI."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("TDCFLOW_TEST_PG_URL is not set: run the tests with 'make test'")
        pytest.skip("no PostgreSQL server (run 'make test' to start one)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = _worker_pg_url(worker)
    _truncate(url)
    return url


def make_settings(tmp_path: Path, db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "secret_key": "test-secret-key-not-for-production-0123456789",
        "data_dir": tmp_path / "data",
        "bpmn_dir": PROJECT_ROOT / "bpmn",
        "base_url": "http://testserver",
        "max_upload_bytes": 256 * 1024,
        # Tests tick the scheduler themselves, at the instants they choose.
        "scheduler": False,
        # Cheap argon2 in tests only: still argon2id, a fraction of the production cost.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        # Tests travel in time across weeks; a token must outlive the trip.
        "access_token_minutes": 60 * 24 * 60,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, db_url: str, test_pki: SigningPki) -> Settings:
    """The test settings, signing issued documents with the tests' PKI (no timestamp server: the
    tests that need one ask ``test_pki`` for it)."""
    return make_settings(
        tmp_path,
        db_url,
        signing_p12=test_pki.p12,
        signing_p12_password=test_pki.password,
        signing_trust_roots=str(test_pki.root_pem),
    )


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as test_client:
        yield test_client
