"""The schema under Alembic: a database of the last release keeps every row through the upgrade,
on SQLite and on PostgreSQL, and tdcflow then works on it; a database made by ``create_all`` before
migrations is recognised and stamped; one from a newer tdcflow is refused; the migrations make
exactly the models' tables.

The release's data: ``tests/fixtures/release_ffd92b5_demo.json.gz`` holds every row of every table
of a database made by the release's own code (commit ffd92b5, the last without migrations): its
``tdcflow demo`` (15 dossiers of the four procedures in several states, accounts, documents,
audit chains, the TBT knowledge base and its full-text index), then one run of its notification
dispatcher (outbox events into deliveries and in-app notifications). It was made with these
commands, from the root of a checkout whose ``make install`` has run, and can be made again so::

    git worktree add /tmp/release ffd92b5
    (cd /tmp/release && export TDCFLOW_DEMO_MODE=1 TDCFLOW_DATA_DIR=/tmp/release/var \\
        TDCFLOW_DATABASE_URL=sqlite:////tmp/release/demo.sqlite3 PYTHONPATH=/tmp/release \\
     && $OLDPWD/.venv/bin/python -m api.cli demo \\
     && $OLDPWD/.venv/bin/python -c "import api.main; from notifications.dispatcher import dispatch; \\
            from workflows.runtime import build_runtime; print(dispatch(build_runtime()))")
    .venv/bin/python -c "from tests.test_migrations import export_fixture; \\
        export_fixture('sqlite:////tmp/release/demo.sqlite3')"
    git worktree remove --force /tmp/release

(``PYTHONPATH`` makes the release's packages shadow this checkout's; ``export_fixture`` reads the
database by reflection only, so it needs none of the release's code.) Instants are written in
UTC ISO 8601, dates in ISO 8601, JSON columns as JSON; SQLite's FTS5 index of the knowledge base
as its rows (``rowid``, ``search_text``).

The next release's data, ``tests/fixtures/release_594244b_demo.json.gz`` (commit 594244b, at
migration 0013), is made the same way with the files of storage its test opens; its commands and
the test that upgrades it and completes every dossier it left open are in
``tests/test_upgrade_from_release.py``, which uses this module's helpers.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlmodel import select

import migrations
from api.cli import main as tdcflow
from migrations.runner import alembic_config, migrating
from migrations.tables import (
    AUXILIARY_TABLE_PREFIX,
    VERSION_TABLE,
    include_name,
    is_auxiliary,
    target_metadata,
)
from notifications.models import MESSAGE_DICTIONARIES
from tests.conftest import make_settings
from tests.deployment_support import fresh_pg_database, pg_server_url
from workflows import audit_verify, commands
from workflows.audit import verify_stream
from workflows.config import get_settings
from workflows.db import create_schema, make_engine, reading
from workflows.models import AuditCheckpoint, AuditEvent, Dossier, User, WorkTask, dossier_search_text
from workflows.packed import unpack
from workflows.procedures.award import recommendations
from workflows.procedures.tbt import knowledge, wto
from workflows.runtime import build_runtime
from workflows.storage import BlobStore
from workflows.verification import find_document

FIXTURE = Path(__file__).parent / "fixtures" / "release_ffd92b5_demo.json.gz"
RELEASE = "0001"
FTS = AUXILIARY_TABLE_PREFIX  # SQLite's FTS5 virtual table (its shadow tables are SQLite's own)
# The tables tdcflow made since the release (migrations 0002, 0005, 0010), and those it merged into
# ``document`` (migration 0003: one table for every issued document).
SINCE_RELEASE = {
    "scheduler_heartbeat",
    "channel_breaker",
    "delivery_requeue",
    "violation",
    "user_session",
    "account_token",
    "login_counter",
    "tax_code_contest",
    "audit_checkpoint",
    "audit_root",
    "document_signing",
    "signer_certificate",
    "document_template",
    "procedure_deployment",
    "instance_migration",
    "calendar_entry",
    "service_rating",
    "document_rendering",
    # 0021: the metrology database
    "metrology_body",
    "metrology_api_key",
    "metrology_instrument",
    "metrology_verification",
    # 0022: its alerts and warnings
    "metrology_reminder",
    "metrology_warning",
    # 0024: the inspection campaigns' findings
    "metrology_campaign_finding",
}
# Of those, the ones a migration fills from the release's rows (0010: each stream's checkpoint).
FILLED_SINCE_RELEASE = {"audit_checkpoint", "document_signing"}
MERGED_INTO_DOCUMENT = {"tbt_wto_compilation", "award_recommendation_list"}
# The tables renamed since the release (0026: the inquiry point's rate counts became the general
# request limits'; the release's demo has no rows in it).
RENAMED_SINCE_RELEASE = {"tbt_rate_event": "request_event"}
# The columns tables gained since the release (every other column keeps its values): 0003 gave
# ``document`` what it was issued for, 0004 gave ``dossier`` the version of the rules it follows,
# 0016 its folded search text.
COLUMNS_SINCE_RELEASE = {
    "document": {
        "issued_for",
        "issued_for_id",
        "reference",
        "reference_label_vi",
        "reference_label_en",
        "holder_name",
        "renditions",
        "details",
        "audit_stream",
        "pdf_sha256",
        "pdf_size",
        "signed_at",
        "signature",
    },
    "dossier": {"rules_version", "search_text"},
    "app_user": {
        "session_epoch",
        "email_verified_at",
        "tax_code_status",
        "tax_code_decided_at",
        "tax_code_decided_by_id",
        "tax_code_note",
    },
}

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


# --- the fixture: every row of every table, portable between SQLite and PostgreSQL ---------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLite hands back stored UTC instants without their zone
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(value: Any, column: sa.Column) -> Any:  # type: ignore[type-arg]
    if value is not None and isinstance(column.type, sa.DateTime):
        return datetime.fromisoformat(value)
    if value is not None and isinstance(column.type, sa.Date):
        return date.fromisoformat(value)
    return value


def _reflected(connection: sa.Connection) -> sa.MetaData:
    names = [
        n for n in sa.inspect(connection).get_table_names() if n != VERSION_TABLE and not is_auxiliary(n)
    ]
    metadata = sa.MetaData()
    metadata.reflect(connection, only=names)
    return metadata


def dump(url: str) -> dict[str, dict[str, Any]]:
    """Every row of every table of the database at ``url`` (ordered by primary key), encoded."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables: dict[str, dict[str, Any]] = {}
            for table in sorted(_reflected(connection).tables.values(), key=lambda t: t.name):
                order = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(sa.select(table).order_by(*order)).all()
                tables[table.name] = {
                    "columns": [c.name for c in table.columns],
                    "rows": [[_encode(v) for v in row] for row in rows],
                }
            if connection.dialect.name == "sqlite" and FTS in sa.inspect(connection).get_table_names():
                rows = connection.exec_driver_sql(
                    f"SELECT rowid, search_text FROM {FTS} ORDER BY rowid"
                ).all()
                tables[FTS] = {"columns": ["rowid", "search_text"], "rows": [list(r) for r in rows]}
            return tables
    finally:
        engine.dispose()


def export_fixture(url: str, path: Path = FIXTURE, *, release: str = "ffd92b5", **extra: Any) -> None:
    """Write the fixture from the release's database at ``url`` (see the module's docstring);
    ``extra`` goes beside the tables (``tests/test_upgrade_from_release.py``: files of storage)."""
    body = {"release": release, "tables": dump(url), **extra}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        out.write(text.encode())


def release_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    """The fixture at ``path`` as ``export_fixture`` wrote it."""
    with gzip.open(path, "rt", encoding="utf-8") as data:
        return json.load(data)


def release_rows(path: Path = FIXTURE) -> dict[str, dict[str, Any]]:
    return release_fixture(path)["tables"]


def comparable(tables: dict[str, dict[str, Any]], url: str) -> dict[str, dict[str, Any]]:
    """``tables`` as a database at ``url`` can hold them: PostgreSQL has no FTS5 table (its
    full-text index is over tbt_kb_entry itself)."""
    return {name: t for name, t in tables.items() if name != FTS or url.startswith("sqlite")}


def load(url: str, tables: dict[str, dict[str, Any]]) -> None:
    """Insert the rows into the database at ``url`` (its schema already made), parents first."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            metadata = _reflected(connection)
            for table in metadata.sorted_tables:
                if table.name not in tables:
                    continue
                data = tables[table.name]
                rows = [
                    {
                        name: _decode(value, table.c[name])
                        for name, value in zip(data["columns"], row, strict=True)
                    }
                    for row in data["rows"]
                ]
                if rows:
                    connection.execute(table.insert(), rows)
            if connection.dialect.name == "sqlite":
                for rowid, text in tables.get(FTS, {"rows": []})["rows"]:
                    connection.execute(
                        sa.text(f"INSERT INTO {FTS} (rowid, search_text) VALUES (:r, :t)"),
                        {"r": rowid, "t": text},
                    )
            else:  # rows came with their ids: the id sequences go on after them
                for table in metadata.sorted_tables:
                    if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                        connection.execute(
                            sa.text(
                                f"SELECT setval(s, coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false) "
                                "FROM pg_get_serial_sequence(:t, 'id') AS s WHERE s IS NOT NULL"
                            ),
                            {"t": table.name},
                        )
    finally:
        engine.dispose()


# The columns 0019 packs (``workflows.packed``): the text as the application reads it.
PACKED = {"delivery": ("body_text", "body_html"), "process_instance": ("state",)}


def unpacked(tables: dict[str, dict[str, Any]], like: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``tables`` with the packed columns as text (a packed value is bytes, never text), in the
    column order of ``like`` (0019 replaced them: they come last)."""
    dictionaries = dict(MESSAGE_DICTIONARIES)
    for name, columns in PACKED.items():
        if name not in tables:
            continue
        table = tables[name]
        at = [table["columns"].index(column) for column in columns]
        for row in table["rows"]:
            for i in at:
                assert row[i] is None or isinstance(row[i], bytes), (name, row[i])
                row[i] = None if row[i] is None else unpack(row[i], dictionaries)
    return in_order_of(tables, like)


def in_order_of(
    tables: dict[str, dict[str, Any]], like: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``tables`` with the columns of the tables 0019 changed in the order ``like`` has them (the
    columns ``like`` lacks after them)."""
    for name in PACKED:
        if name not in tables or name not in like:
            continue
        table, reference = tables[name], like[name]["columns"]
        order = sorted(
            range(len(table["columns"])),
            key=lambda i: (
                reference.index(table["columns"][i]) if table["columns"][i] in reference else 1000 + i
            ),
        )
        tables[name] = {
            "columns": [table["columns"][i] for i in order],
            "rows": [[row[i] for i in order] for row in table["rows"]],
        }
    return tables


def _records(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


def _without(table: dict[str, Any], columns: set[str]) -> dict[str, Any]:
    """``table`` (as ``dump`` gives it) without ``columns``."""
    kept = [i for i, name in enumerate(table["columns"]) if name not in columns]
    return {
        "columns": [table["columns"][i] for i in kept],
        "rows": [[row[i] for i in kept] for row in table["rows"]],
    }


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(params=DATABASES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with fresh_pg_database(pg_server_url(), f"tdcflow_migrations_{worker}") as url:
        # The office's time zone for every session, as a server in Vietnam may have it: an instant
        # that lost its zone on the way would come back 7 hours off, and be seen.
        yield (
            make_url(url)
            .update_query_dict({"options": "-c timezone=Asia/Ho_Chi_Minh"})
            .render_as_string(hide_password=False)
        )


def to_revision(url: str, revision: str) -> None:
    with migrating(url) as connection:
        command.upgrade(alembic_config(connection), revision)


def version_of(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """``tdcflow ARGS`` in-process on a database: (exit status, stdout, stderr); logging restored."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), logging.getLogger("tdcflow").level
    monkeypatch.setenv("TDCFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TDCFLOW_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
    monkeypatch.setenv("TDCFLOW_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TDCFLOW_ARGON2_MEMORY_KIB", "1024")

    def run(url: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("TDCFLOW_DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            status = tdcflow(list(args))
        except SystemExit as stopped:
            status = int(stopped.code or 0)
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return status, out, err

    yield run
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    logging.getLogger("tdcflow").setLevel(level)


# --- the release's data through the upgrade ------------------------------------------------------


def test_the_release_demo_data_is_upgraded_losing_nothing_and_tdcflow_works_on_it(empty_url, tmp_path):
    release = comparable(release_rows(), empty_url)
    to_revision(empty_url, RELEASE)
    load(empty_url, release)
    assert comparable(dump(empty_url), empty_url) == release  # the fixture goes in whole

    done = migrations.upgrade(empty_url)
    assert (done.before, done.after, done.adopted) == (RELEASE, migrations.head(), None)
    assert done.applied[-1] == migrations.head() and RELEASE not in done.applied

    after = unpacked(dump(empty_url), like=release)
    # Every row of every table of the release, every value equal (instants to the microsecond; the
    # messages and instances packed by 0019 read back as the very text they were).
    for name, table in release.items():
        if name not in MERGED_INTO_DOCUMENT:
            now_named = RENAMED_SINCE_RELEASE.get(name, name)
            assert _without(after[now_named], COLUMNS_SINCE_RELEASE.get(name, set())) == table, (
                f"{name} changed"
            )
    # Dossiers of the release follow the rules in force when they were received (none recorded).
    assert {row["rules_version"] for row in _records(after["dossier"])} == {None}
    # Search (0016): every dossier of the release is found by its folded code, applicant and subject.
    for dossier in _records(after["dossier"]):
        assert dossier["search_text"] == dossier_search_text(SimpleNamespace(**dossier)), dossier["code"]
    assert any("thep dong ha" in row["search_text"] for row in _records(after["dossier"]))
    # Search at scale (0018): SQLite's trigram index holds the release's dossiers, found by a word.
    if empty_url.startswith("sqlite"):
        engine = make_engine(empty_url)
        try:
            with engine.connect() as connection:
                found = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM dossier_search_fts WHERE dossier_search_fts MATCH '\"dong ha\"'"
                    )
                ).scalar_one()
        finally:
            engine.dispose()
        assert found == sum("dong ha" in row["search_text"] for row in _records(after["dossier"])) > 0
    # Tax codes (0009): a business with a received dossier is verified, at its first receipt, by
    # nobody; any other business is unverified; an account without a tax code has no state.
    received: dict[int, list[datetime]] = {}
    for dossier in _records(after["dossier"]):
        if dossier["received_at"] is not None:
            received.setdefault(dossier["applicant_id"], []).append(dossier["received_at"])
    states = {}
    for user in _records(after["app_user"]):
        states[user["email"]] = user["tax_code_status"]
        assert user["tax_code_decided_by_id"] is None
        if user["tax_code"] is None:
            assert (user["tax_code_status"], user["tax_code_decided_at"], user["tax_code_note"]) == (
                None,
            ) * 3
        elif user["id"] in received:
            assert user["tax_code_status"] == "verified"
            assert user["tax_code_decided_at"] == min(received[user["id"]])
            assert "0009" in user["tax_code_note"]
        else:
            assert (user["tax_code_status"], user["tax_code_decided_at"]) == ("unverified", None)
    assert states["lienhe@thepdongha.demo.vn"] == "verified" and "unverified" in states.values()
    assert {name for name in after if after[name]["rows"] == []} >= SINCE_RELEASE - FILLED_SINCE_RELEASE
    assert set(after) - {RENAMED_SINCE_RELEASE.get(name, name) for name in release} == SINCE_RELEASE
    # Every stream of the release gets its checkpoint: its last event, unsigned until the first start.
    heads = {}
    for event in _records(release["audit_event"]):
        if event["seq"] > heads.get(event["stream"], {"seq": 0})["seq"]:
            heads[event["stream"]] = event
    checkpoints = {row["stream"]: row for row in _records(after["audit_checkpoint"])}
    assert len(checkpoints) == len(heads) > 20
    for stream, head in heads.items():
        checkpoint = checkpoints[stream]
        assert (
            checkpoint["events"],
            checkpoint["head_event_id"],
            checkpoint["head_hash"],
            checkpoint["mac"],
        ) == (
            head["seq"],
            head["id"],
            head["hash"],
            None,
        )
    assert set(release) - set(after) == MERGED_INTO_DOCUMENT | set(RENAMED_SINCE_RELEASE)
    # A dossier's documents name their dossier: its code as reference, its applicant as holder.
    dossiers = {row[0]: row for row in release["dossier"]["rows"]}
    code_at = release["dossier"]["columns"].index("code")
    applicant_at = release["dossier"]["columns"].index("applicant_name")
    for document in _records(after["document"]):
        dossier = dossiers[document["dossier_id"]]
        assert (document["issued_for"], document["issued_for_id"]) == ("dossier", document["dossier_id"])
        assert (document["reference"], document["holder_name"]) == (dossier[code_at], dossier[applicant_at])
        assert (document["reference_label_vi"], document["renditions"], document["details"]) == (
            "Hồ sơ",
            {},
            {},
        )
        # 0011: the stream its issue was recorded on; no signed PDF yet, but queued for a worker.
        assert document["audit_stream"] == f"dossier:{document['dossier_id']}"
        assert (document["pdf_sha256"], document["signed_at"], document["signature"]) == (None, None, None)
    queued = {row["document_id"]: row for row in _records(after["document_signing"])}
    assert set(queued) == {row["id"] for row in _records(after["document"])} and queued
    assert all(row["due_at"] is not None and row["lease"] is None for row in queued.values())

    rt = build_runtime(make_settings(tmp_path, empty_url), create_tables=False)
    try:
        with reading(rt.engine) as session:
            codes = [d.code for d in session.exec(select(Dossier).order_by(Dossier.id))]
            assert codes == [
                row[release["dossier"]["columns"].index("code")] for row in release["dossier"]["rows"]
            ]
            assert len(codes) == 15
            streams = set(session.exec(select(AuditEvent.stream)))
            assert len(streams) > 20 and all(verify_stream(session, s) is None for s in streams)
            # The first start signed the checkpoints the migration made: the whole trail verifies.
            assert session.exec(select(AuditCheckpoint).where(AuditCheckpoint.mac.is_(None))).all() == []
        report = audit_verify.verify(rt.engine)
        assert report.ok and (report.streams, report.events) == (
            len(streams),
            len(release["audit_event"]["rows"]) + 1,  # the first start's import of the calendar file
        )
        with reading(rt.engine) as session:
            documents = release["document"]
            for row in documents["rows"]:
                document = dict(zip(documents["columns"], row, strict=True))
                found = find_document(session, document["verification_code"])
                assert found is not None and found.sha256 == document["sha256"]
                assert found.number == document["number"]
            clerk = session.exec(select(User).where(User.email == "motcua@demo.tdcflow.vn")).one()
            task, dossier = session.exec(
                select(WorkTask, Dossier)
                .join(Dossier, Dossier.id == WorkTask.dossier_id)
                .where(WorkTask.spec_name == "check_completeness", WorkTask.status == "open")
                .where(Dossier.procedure_code == "cong-bo-hop-chuan-hop-quy")
            ).one()
        # The knowledge base's search (SQLite FTS5 / PostgreSQL full text) finds what it found.
        assert [hit.entry.id for hit in knowledge.search(rt, "thép không gỉ").hits] == [1]
        # An open demo task of the release is done on the upgraded database, new rows beside old.
        commands.claim_task(rt, clerk, task.id)
        assert commands.complete_task(rt, clerk, task.id, {"completeness_decision": "receive"}).status == (
            "processing"
        )
        with reading(rt.engine) as session:
            assert verify_stream(session, f"dossier:{dossier.id}") is None
            assert session.get(Dossier, dossier.id).status == "processing"  # type: ignore[union-attr]
        assert audit_verify.verify(rt.engine).ok
    finally:
        rt.engine.dispose()


def test_compilations_and_recommendation_lists_move_into_the_document_table_and_still_verify(
    empty_url, tmp_path
):
    """Migration 0003: a WTO compilation and an award list issued before it keep their number,
    verification code and files, verify on the public page and download as before; going back to
    0002 gives the old tables their rows again."""
    release = comparable(release_rows(), empty_url)
    to_revision(empty_url, "0002")
    load(empty_url, release)
    settings = make_settings(tmp_path, empty_url)
    store = BlobStore(settings.storage_path)
    compilation_docx, list_docx, list_xlsx = b"compilation .docx", b"list .docx", b"list .xlsx"
    issued_at = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)
    moved = {
        "tbt_wto_compilation": {
            "id": "c" * 32,
            "notification_id": 1,
            "number": "12/TH-SKHCN",
            "sha256": store.put(compilation_docx),
            "size": len(compilation_docx),
            "verification_code": "WTO0000001",
            "comment_count": 3,
            "issued_by_id": 4,
            "issued_at": issued_at,
        },
        "award_recommendation_list": {
            "id": "a" * 32,
            "round_id": 1,
            "number": "7/DS-SKHCN",
            "verification_code": "AWD0000001",
            "docx_sha256": store.put(list_docx),
            "docx_size": len(list_docx),
            "xlsx_sha256": store.put(list_xlsx),
            "xlsx_size": len(list_xlsx),
            "listed_count": 2,
            "recommended_count": 1,
            "issued_by_id": 3,
            "issued_at": issued_at,
        },
    }
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            for name, row in moved.items():
                connection.execute(sa.table(name, *map(sa.column, row)).insert(), row)
    finally:
        engine.dispose()
    before = dump(empty_url)

    migrations.upgrade(empty_url)
    assert not MERGED_INTO_DOCUMENT & set(dump(empty_url))
    rt = build_runtime(settings, create_tables=False)
    try:
        with reading(rt.engine) as session:
            compilation = find_document(session, "WTO0000001")
            award_list = find_document(session, "AWD0000001")
            tbt_officer = session.get(User, 4)
            leader = session.get(User, 3)
        assert compilation is not None and award_list is not None
        assert (compilation.number, compilation.reference, compilation.reference_label_en) == (
            "12/TH-SKHCN",
            "G/TBT/N/KOR/1250",
            "WTO TBT notification",
        )
        assert compilation.title == "Tổng hợp ý kiến góp ý thông báo TBT của WTO"
        assert (award_list.number, award_list.title, award_list.reference) == (
            "7/DS-SKHCN",
            "Danh sách đề xuất Giải thưởng Chất lượng Quốc gia năm 2026",
            "Giải thưởng Chất lượng Quốc gia năm 2026",
        )
        assert award_list.issued_at == issued_at
        # The officers' pages list and download them as before.
        assert [d.id for d in wto.compilations_of(rt, tbt_officer, 1)] == ["c" * 32]
        assert wto.compilation_file(rt, tbt_officer, 1, "c" * 32)[1] == compilation_docx
        assert [row.details for row, _ in recommendations.issued_lists(rt, 2026)] == [
            {"listed_count": 2, "recommended_count": 1}
        ]
        assert recommendations.issued_file(rt, leader, 2026, "a" * 32, "xlsx") == (
            list_xlsx,
            "danh-sach-de-xuat-2026-so-7.xlsx",
        )
        assert recommendations.issued_file(rt, leader, 2026, "a" * 32, "docx")[0] == list_docx
    finally:
        rt.engine.dispose()

    with migrating(empty_url) as connection:
        command.downgrade(alembic_config(connection), "0002")
    after = in_order_of(dump(empty_url), like=before)
    del after["model_version"], before["model_version"]  # the runtime registered today's models
    _forget_calendar_import(after)  # and imported the calendar overrides file (migration 0015)
    assert after == before


def _forget_calendar_import(dump_: dict[str, Any]) -> None:
    """Take out of a dump what a runtime's first start writes for the calendar: the revision
    counter and the import's audit event (and its stream's checkpoint)."""
    for table, column, value in (
        ("counter", "key", "calendar_revision"),
        ("audit_event", "stream", "calendar"),
        ("audit_checkpoint", "stream", "calendar"),
    ):
        if table in dump_:
            at = dump_[table]["columns"].index(column)
            dump_[table]["rows"] = [row for row in dump_[table]["rows"] if row[at] != value]


def test_violations_flagged_before_the_list_existed_are_put_on_it_open(empty_url):
    """Migration 0005: a ``flagged`` audit event of an older version becomes an open violation."""
    to_revision(empty_url, RELEASE)
    load(empty_url, comparable(release_rows(), empty_url))
    to_revision(empty_url, "0004")
    flagged_at = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.table(
                    "audit_event",
                    *map(
                        sa.column,
                        ("stream", "seq", "dossier_id", "actor_label", "action", "prev_hash", "hash"),
                    ),
                    sa.column("at", sa.DateTime(timezone=True)),
                    sa.column("details", sa.JSON()),
                ).insert(),
                {
                    "stream": "dossier:6",
                    "seq": 999,
                    "dossier_id": 6,
                    "actor_label": "Hệ thống",
                    "action": "flagged",
                    "at": flagged_at,
                    "details": {"reason": "certificate_overdue"},
                    "prev_hash": "0" * 64,
                    "hash": "1" * 64,
                },
            )
    finally:
        engine.dispose()
    to_revision(empty_url, "0005")
    violations = _records(dump(empty_url)["violation"])
    assert [(v["dossier_id"], v["reason"], v["handled_at"], v["handling"]) for v in violations] == [
        (6, "certificate_overdue", None, "")
    ]
    assert violations[0]["flagged_at"] == flagged_at.isoformat()


def test_0024_adds_the_campaign_findings_table_and_takes_it_away_again(empty_url):
    """Migration 0024 on a database at 0023 (instrument registration): the findings table comes,
    with its indexes, and its downgrade leaves the database as 0023 made it."""

    def tables() -> dict[str, set[str]]:
        engine = make_engine(empty_url)
        try:
            with engine.connect() as connection:
                inspector = sa.inspect(connection)
                return {
                    name: {index["name"] for index in inspector.get_indexes(name)}
                    for name in inspector.get_table_names()
                    if name.startswith("metrology_")
                }
        finally:
            engine.dispose()

    to_revision(empty_url, "0023")
    before = tables()
    assert "metrology_campaign_finding" not in before
    to_revision(empty_url, "0024")
    assert tables()["metrology_campaign_finding"] >= {
        "ix_metrology_campaign_finding_dossier_id",
        "ix_metrology_campaign_finding_instrument_id",
        "ix_metrology_campaign_finding_result",
    }
    with migrating(empty_url) as connection:
        command.downgrade(alembic_config(connection), "0023")
    assert tables() == before


def test_an_owner_s_instruments_are_kept_and_indexed_by_status(empty_url):
    """Migration 0025: the instruments registered before are untouched, and an owner's are found
    by status through ``ix_metrology_instrument_owner_status`` (the owner's page at scale)."""
    to_revision(empty_url, "0022")
    instruments = sa.table(
        "metrology_instrument",
        *map(sa.column, ("kind", "model", "serial_number", "owner_type", "owner_tax_code", "owner_name")),
        *map(sa.column, ("commune", "approval_mark", "measuring_range", "accuracy_class", "address")),
        sa.column("purpose"),
        sa.column("registered_at", sa.DateTime(timezone=True)),
        sa.column("current_result"),
        sa.column("current_valid_until", sa.Date()),
    )
    row = {
        "kind": "taximeter", "model": "TX-200", "serial_number": "SN-1", "owner_type": "business",
        "owner_tax_code": "3200765001", "owner_name": "Công ty TNHH Taxi", "commune": "Phường Đông Hà",
        "approval_mark": "", "measuring_range": "", "accuracy_class": "", "address": "", "purpose": "",
        "registered_at": datetime(2026, 5, 4, 2, 0, tzinfo=UTC), "current_result": "pass",
        "current_valid_until": date(2027, 5, 3),
    }  # fmt: skip
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(instruments.insert(), row)
        to_revision(empty_url, "0025")
        indexes = {
            i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("metrology_instrument")
        }
        assert indexes["ix_metrology_instrument_owner_status"] == [
            "owner_tax_code", "current_result", "current_valid_until", "current_verification_id", "id",
        ]  # fmt: skip
        with engine.connect() as connection:
            found = connection.execute(
                sa.text(
                    "SELECT serial_number, current_valid_until FROM metrology_instrument"
                    " WHERE owner_tax_code = '3200765001' AND current_result = 'pass'"
                    " ORDER BY current_valid_until, id"
                )
            ).all()
        assert [(serial, str(until)) for serial, until in found] == [("SN-1", "2027-05-03")]
    finally:
        engine.dispose()


def test_0026_keeps_the_inquiry_counts_under_the_general_request_limits(empty_url):
    """Migration 0026: the TBT inquiry point's counts of the hour carry over into ``request_event``
    with their purpose in the key (an inquirer limited before the upgrade is still limited after),
    and the downgrade gives them back as they were, dropping the other purposes' counts."""
    to_revision(empty_url, "0025")
    at = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    old = sa.table("tbt_rate_event", sa.column("key"), sa.column("at", sa.DateTime(timezone=True)))
    new = sa.table("request_event", sa.column("key"), sa.column("at", sa.DateTime(timezone=True)))
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                old.insert(), [{"key": "ip:203.0.113.5", "at": at}, {"key": "email:a@b.vn", "at": at}]
            )
        to_revision(empty_url, "0026")
        with engine.begin() as connection:
            assert sorted(connection.execute(sa.select(new.c.key)).scalars()) == [
                "tbt_inquiry:address:203.0.113.5",
                "tbt_inquiry:email:a@b.vn",
            ]
            connection.execute(new.insert(), {"key": "password_reset:email:a@b.vn", "at": at})
        assert "ix_request_event_key_at" in {
            i["name"] for i in sa.inspect(engine).get_indexes("request_event")
        }
        with migrating(empty_url) as connection:
            command.downgrade(alembic_config(connection), "0025")
        with engine.connect() as connection:
            assert sorted(connection.execute(sa.select(old.c.key)).scalars()) == [
                "email:a@b.vn",
                "ip:203.0.113.5",
            ]
    finally:
        engine.dispose()


def test_0027_indexes_the_instrument_search_on_postgresql_only(empty_url):
    """Migration 0027: PostgreSQL gets the trigram index that serves the officers' "words anywhere"
    instrument search; SQLite is left as it was; the downgrade takes the index away again."""
    to_revision(empty_url, "0026")
    engine = make_engine(empty_url)
    try:

        def indexes() -> set[str]:
            return {i["name"] for i in sa.inspect(engine).get_indexes("metrology_instrument")}

        before = indexes()
        to_revision(empty_url, "0027")
        added = indexes() - before
        if engine.dialect.name == "postgresql":
            assert added == {"ix_metrology_instrument_search_trgm"}
            with engine.connect() as connection:
                definition = connection.execute(
                    sa.text(
                        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_metrology_instrument_search_trgm'"
                    )
                ).scalar_one()
            assert "gin (search_text gin_trgm_ops)" in definition
        else:
            assert added == set()
        with migrating(empty_url) as connection:
            command.downgrade(alembic_config(connection), "0026")
        assert indexes() == before
    finally:
        engine.dispose()


def test_a_database_made_from_the_models_has_the_search_indexes_a_migrated_one_has(empty_url, tmp_path):
    """The trigram indexes PostgreSQL searches dossiers and instruments with (0016, 0027) come
    with ``create_all`` too: a database made from the models (a benchmark's, a throw-away one)
    searches as a migrated one does. SQLite's trigram FTS5 table of the dossiers likewise."""
    migrated_url = empty_url
    migrations.upgrade(migrated_url)
    models_url = f"sqlite:///{tmp_path / 'models.sqlite3'}" if empty_url.startswith("sqlite") else None
    if models_url is None:  # a second PostgreSQL database of the test's own
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with fresh_pg_database(pg_server_url(), f"tdcflow_models_{worker}") as url:
            _compare_search_indexes(migrated_url, url)
    else:
        _compare_search_indexes(migrated_url, models_url)


def _compare_search_indexes(migrated_url: str, models_url: str) -> None:
    made = make_engine(models_url)
    migrated = make_engine(migrated_url)
    try:
        create_schema(made)
        for table in ("dossier", "metrology_instrument"):
            names = [{i["name"] for i in sa.inspect(e).get_indexes(table)} for e in (migrated, made)]
            assert names[0] == names[1], table
        if made.dialect.name == "postgresql":
            assert "ix_metrology_instrument_search_trgm" in names[1]
    finally:
        made.dispose()
        migrated.dispose()


def test_the_migrations_make_exactly_the_models_tables(empty_url):
    """What ``make lint`` checks with ``alembic check`` on SQLite, here on both databases."""
    assert migrations.upgrade(empty_url).applied[0] == RELEASE
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "compare_server_default": True, "include_name": include_name},
            )
            assert compare_metadata(context, target_metadata()) == []
    finally:
        engine.dispose()


# --- databases made before migrations, and from the future ---------------------------------------


def test_a_release_database_made_by_create_all_is_stamped_then_upgraded(empty_url, cli):
    """Every install before migrations: the release's tables, no alembic_version. (Migration 0001
    makes the very tables the release's create_all made: compared by hand on both databases.)"""
    release = release_rows()
    to_revision(empty_url, RELEASE)
    execute(empty_url, f"DROP TABLE {VERSION_TABLE}")
    load(empty_url, release)
    assert migrations.status(empty_url).adoptable == RELEASE

    status, out, err = cli(empty_url, "migrate")
    assert status == 0, err
    assert f"made before migrations; stamped: {RELEASE}" in out
    assert f"from: {RELEASE}" in out and f"to:  {migrations.head()}" in out
    assert version_of(empty_url) == migrations.head()
    after = unpacked(dump(empty_url), like=release)
    for name, table in release.items():
        if (now_named := RENAMED_SINCE_RELEASE.get(name, name)) in after:
            assert _without(after[now_named], COLUMNS_SINCE_RELEASE.get(name, set())) == table, name
    assert cli(empty_url, "migrate", "--check")[0] == 0


def test_a_database_made_by_create_all_of_this_version_is_stamped_at_the_head(tmp_path, cli):
    url = f"sqlite:///{tmp_path / 'create_all.sqlite3'}"
    build_runtime(make_settings(tmp_path, url)).engine.dispose()  # an empty database: create_all
    assert version_of(url) is None
    status, out, err = cli(url, "demo", "--force")
    assert status == 0, out + err
    assert f"its tables match {migrations.head()}: stamped" in err
    assert version_of(url) == migrations.head()


def test_a_database_whose_tables_match_no_revision_is_refused_unchanged(empty_url, cli):
    """A release database that never served (``tdcflow demo`` alone made no notification tables)."""
    to_revision(empty_url, RELEASE)
    execute(empty_url, f"DROP TABLE {VERSION_TABLE}", "DROP TABLE notification", "DROP TABLE delivery")
    status, _, err = cli(empty_url, "migrate")
    assert status == 2
    assert "không khớp phiên bản nào" in err and "match no revision" in err
    assert "lacks tables delivery, notification" in err and RELEASE in err
    assert version_of(empty_url) is None and "notification" not in dump(empty_url)
    # tdcflow serve / worker / demo refuse it the same way.
    status, _, err = cli(empty_url, "demo", "--force")
    assert status == 2 and "match no revision" in err and "Traceback" not in err


def test_a_database_at_an_unknown_revision_is_refused(empty_url, cli):
    migrations.upgrade(empty_url)
    execute(empty_url, f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    with pytest.raises(migrations.DatabaseAhead, match="9999"):
        migrations.upgrade(empty_url)
    for args in (["migrate"], ["migrate", "--check"], ["demo", "--force"], ["check"]):
        status, _, err = cli(empty_url, *args)
        assert status == 2, args
        assert "9999" in err and "a newer tdcflow" in err and "Traceback" not in err, err
    assert version_of(empty_url) == "9999"


# --- tdcflow's commands -------------------------------------------------------------------------


def test_demo_migrates_a_database_behind_with_a_log_line_and_check_refuses_it(tmp_path, cli):
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    to_revision(url, RELEASE)
    status, out, err = cli(url, "check")
    assert status == 2 and "tdcflow migrate" in err and RELEASE in err

    status, out, err = cli(url, "migrate", "--check")
    assert status == 1 and f"to upgrade: {', '.join(migrations.status(url).pending)}" in out

    status, sql, err = cli(url, "migrate", "--sql")
    assert status == 0 and "CREATE TABLE scheduler_heartbeat" in sql and "UPDATE alembic_version" in sql
    assert version_of(url) == RELEASE  # --sql changes nothing

    status, out, err = cli(url, "demo", "--force")
    assert status == 0, err
    assert (
        "INFO tdcflow.migrations" in err and f"database upgraded from {RELEASE} to {migrations.head()}" in err
    )
    assert version_of(url) == migrations.head()
    assert cli(url, "check")[0] == 0


def test_processes_starting_together_migrate_once(empty_url):
    """A web app and workers started at once on an empty database: one migrates, the others wait
    for its lock, then find nothing to do."""
    results: list[migrations.Upgrade] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(migrations.upgrade(empty_url))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    every = len(migrations.status(empty_url).pending)
    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(len(r.applied) for r in results) == [0, 0, every]
    assert version_of(empty_url) == migrations.head()


def test_instruments_already_reported_are_found_without_tones_and_warnings_may_have_no_verification(
    empty_url,
):
    """Migration 0023: the instruments of 0022 get their folded search text and version 1; their
    warnings keep their verification, and an ``unverified`` warning needs none (one per instrument)."""
    to_revision(empty_url, "0022")
    at = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
    instrument = {
        "id": 1, "kind": "spring_scale", "model": "NHƠN HOÀ 30KG", "approval_mark": "", "serial_number": "A-77",
        "measuring_range": "", "accuracy_class": "", "owner_type": "household", "owner_tax_code": None,
        "owner_name": "Trần Thị Bé", "commune": "Xã Cam Lộ", "address": "Sạp 14 chợ Đông Hà", "purpose": "",
        "registered_at": at,
    }  # fmt: skip
    warning = {
        "id": 1, "instrument_id": 1, "cause": "failed", "verification_id": None, "since": date(2026, 5, 20),
        "state": "open", "version": 1, "note": "", "closed_reason": "", "opened_at": at, "updated_at": at,
    }  # fmt: skip
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.table("metrology_instrument", *(sa.column(name) for name in instrument)).insert(),
                instrument,
            )
    finally:
        engine.dispose()
    to_revision(empty_url, "0023")
    [upgraded] = _records(dump(empty_url)["metrology_instrument"])
    assert upgraded["search_text"] == "a-77 nhon hoa 30kg tran thi be xa cam lo sap 14 cho dong ha"
    assert upgraded["version"] == 1 and upgraded["owner_name"] == "Trần Thị Bé"
    table = sa.table("metrology_warning", *(sa.column(name) for name in warning))
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(table.insert(), {**warning, "cause": "unverified"})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(table.insert(), {**warning, "id": 2, "cause": "unverified"})
        with engine.begin() as connection:  # another cause is no "unverified" twice
            connection.execute(table.insert(), {**warning, "id": 3, "cause": "stamp_lost"})
    finally:
        engine.dispose()
    assert [w["cause"] for w in _records(dump(empty_url)["metrology_warning"])] == [
        "unverified",
        "stamp_lost",
    ]
