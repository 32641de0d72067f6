"""Bringing a database to this version's schema with Alembic, and saying why when it cannot.

* An empty database gets every table (all migrations from the baseline).
* A database behind is upgraded; the stamp (if any) and every step run in one transaction, under a
  lock (PostgreSQL: an advisory lock; SQLite: the write lock) so that a web app and workers
  starting together migrate once, the others waiting and then finding nothing to do.
* A database made by ``create_all`` before tdcflow had migrations (no ``alembic_version`` table)
  is recognised by its tables and columns, stamped with the revision they match, then upgraded.
  What its tables match is learnt by replaying the migrations on a scratch in-memory SQLite
  database, so a future migration needs nothing here.
* A database at a revision this version does not know (made by a newer tdcflow) is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from io import StringIO
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import StaticPool

from migrations.tables import VERSION_TABLE, is_auxiliary
from workflows.config import Settings
from workflows.db import make_engine, writing

log = logging.getLogger("tdcflow.migrations")

SCRIPTS = Path(__file__).resolve().parent
# The key of the PostgreSQL advisory lock every tdcflow process takes while it migrates.
_PG_MIGRATION_LOCK = 0x7464_6366_6D69_67  # "tdcfmig"

# table name -> its column names
Tables = Mapping[str, frozenset[str]]


class MigrationRefused(Exception):
    """The database cannot be brought to this version's schema without a person deciding how."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi}\n{message_en}")
        self.message_vi = message_vi
        self.message_en = message_en


class DatabaseAhead(MigrationRefused):
    """The database is at a revision this version does not know: a newer tdcflow migrated it."""


class UnknownSchema(MigrationRefused):
    """A database without ``alembic_version`` whose tables match no revision."""


class DatabaseBehind(MigrationRefused):
    """The database needs ``tdcflow migrate`` (raised by commands that do not migrate)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made here rather than read from alembic.ini: an installed tdcflow
    has its scripts as package data and no ini file."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    """The migration scripts (read once: they do not change while tdcflow runs)."""
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    revision = scripts().get_current_head()
    assert revision is not None, "migrations/versions holds no migration"
    return revision


def describe(revision: str | None) -> str:
    """``0002 (the scheduler heartbeat, …)``: a revision and the first line of its message."""
    if revision is None:
        return "(trống / empty)"
    script = scripts().get_revision(revision)
    message = (script.doc or "").strip().splitlines()[0] if script is not None and script.doc else ""
    return f"{revision} ({message})" if message else revision


def database_url() -> str:
    """The database of this environment (``TDCFLOW_DATABASE_URL``), for the alembic command line."""
    return Settings().database_url


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class Status:
    """Where a database stands against this version's migrations."""

    url: str
    current: str | None  # its alembic_version (None: none)
    head: str
    adoptable: str | None  # made before migrations: the revision its tables match
    pending: tuple[str, ...]  # what an upgrade would run, oldest first

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def start(self) -> str | None:
        """The revision an upgrade starts from (the stamp of a database made before migrations)."""
        return self.current or self.adoptable


@dataclass(frozen=True)
class Upgrade:
    """What an upgrade did."""

    before: str | None  # the revision found (None: an empty database)
    after: str
    adopted: str | None  # made before migrations: stamped with this revision first
    applied: tuple[str, ...]  # the migrations run, oldest first


@contextmanager
def migrating(url: str) -> Iterator[Connection]:
    """A connection in a transaction holding the migration lock; committed when the block ends.

    SQLite: foreign keys are not enforced while tables are rebuilt (a rebuild drops and renames
    the old table), then ``PRAGMA foreign_key_check`` must find nothing before the commit.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Only outside a transaction does this pragma take effect.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            writing(connection)
            with connection.begin():
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:10]}")
    finally:
        engine.dispose()


def status(url: str) -> Status:
    """Where the database at ``url`` stands; DatabaseAhead or UnknownSchema when nothing can be done."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return _status(connection, url)
    finally:
        engine.dispose()


def _status(connection: Connection, url: str) -> Status:
    found = _current(connection, url)
    adoptable = None
    if found is None:
        present = _known_tables(connection)
        if present:
            adoptable = _identify(present, url)
    start = found or adoptable
    return Status(url=url, current=found, head=head(), adoptable=adoptable, pending=_pending(start))


def upgrade(url: str) -> Upgrade:
    """Bring the database at ``url`` to the head revision (see the module's docstring)."""
    with migrating(url) as connection:
        state = _status(connection, url)
        if state.adoptable is not None:
            command.stamp(alembic_config(connection), state.adoptable)
        if state.pending:
            command.upgrade(alembic_config(connection), "head")
    return Upgrade(before=state.current, after=state.head, adopted=state.adoptable, applied=state.pending)


def upgrade_on_start(url: str) -> Upgrade:
    """``tdcflow serve``, ``worker`` and ``demo``: upgrade the database when it is behind, saying so."""
    done = upgrade(url)
    where = _where(url)
    if done.adopted is not None:
        log.warning(
            "Cơ sở dữ liệu %s được tạo trước khi có migration; các bảng khớp phiên bản %s: đã đánh dấu / "
            "the database was made before migrations; its tables match %s: stamped",
            where,
            done.adopted,
            done.adopted,
        )
    if done.applied:
        start = done.adopted or done.before
        log.info(
            "Cơ sở dữ liệu %s: nâng cấp từ %s lên %s / database upgraded from %s to %s (%s)",
            where,
            start or "trống",
            done.after,
            start or "empty",
            done.after,
            ", ".join(done.applied),
        )
    else:
        log.debug("database %s at %s", where, done.after)
    return done


def require_current(url: str) -> Status:
    """Refuse (DatabaseBehind) a database that ``tdcflow migrate`` has not brought to the head."""
    state = status(url)
    if not state.up_to_date:
        where = _where(url)
        if state.adoptable:
            at_vi = f"được tạo trước khi có migration (khớp phiên bản {state.adoptable})"
            at_en = f"was made before migrations (its tables match {state.adoptable})"
        elif state.current:
            at_vi, at_en = f"đang ở phiên bản {state.current}", f"is at revision {state.current}"
        else:
            at_vi, at_en = "chưa có bảng nào của tdcflow", "has none of tdcflow's tables"
        raise DatabaseBehind(
            f"Cơ sở dữ liệu {where} {at_vi}; phiên bản này cần {state.head}. "
            "Hãy sao lưu rồi chạy 'tdcflow migrate'.",
            f"The database {where} {at_en}; this version needs {state.head}. "
            "Back it up, then run 'tdcflow migrate'.",
        )
    return state


def offline_sql(url: str) -> str:
    """The SQL an upgrade of the database at ``url`` would run, for a person to read or run."""
    state = status(url)
    output = StringIO()
    config = alembic_config()
    config.attributes.update(url=url, output=output)
    if state.adoptable is not None:
        command.stamp(config, state.adoptable, sql=True)
    if state.pending:
        span = f"{state.start}:head" if state.start else "head"
        command.upgrade(config, span, sql=True)
    return output.getvalue()


# --- what the database holds ---------------------------------------------------------------------


def _current(connection: Connection, url: str) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    known = {script.revision for script in scripts().walk_revisions()}
    unknown = [revision for revision in heads if revision not in known]
    if unknown or len(heads) > 1:
        where = _where(url)
        raise DatabaseAhead(
            f"Cơ sở dữ liệu {where} ở phiên bản {', '.join(heads)}, phiên bản tdcflow này không biết "
            f"(nó biết đến {head()}): có lẽ một bản tdcflow mới hơn đã nâng cấp nó. Không thay đổi gì; "
            "hãy chạy bản tdcflow mới hơn đó, hoặc khôi phục bản sao lưu.",
            f"The database {where} is at revision {', '.join(heads)}, which this version of tdcflow "
            f"does not know (it knows up to {head()}): a newer tdcflow probably upgraded it. Nothing was "
            "changed; run that newer tdcflow, or restore a backup.",
        )
    return heads[0] if heads else None


def _tables(connection: Connection) -> dict[str, frozenset[str]]:
    inspector = inspect(connection)
    return {
        name: frozenset(column["name"] for column in inspector.get_columns(name))
        for name in inspector.get_table_names()
        if name != VERSION_TABLE and not is_auxiliary(name)
    }


def _known_tables(connection: Connection) -> dict[str, frozenset[str]]:
    """The tables of the database that some revision makes (anything else is not tdcflow's)."""
    present = _tables(connection)
    if not present:
        return {}
    known = {name for _, tables in _replayed() for name in tables}
    return {name: columns for name, columns in present.items() if name in known}


@lru_cache(maxsize=1)
def _replayed() -> tuple[tuple[str, Tables], ...]:
    """Each revision, oldest first, with the tables and columns a database has at it: the
    migrations run one by one on an in-memory SQLite database."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    steps: list[tuple[str, Tables]] = []
    try:
        with engine.connect() as connection:
            for script in reversed(list(scripts().walk_revisions())):
                with connection.begin():
                    command.upgrade(alembic_config(connection), script.revision)
                    steps.append((script.revision, _tables(connection)))
    finally:
        engine.dispose()
    return tuple(steps)


def _identify(present: Tables, url: str) -> str:
    """The latest revision whose tables and columns are exactly ``present``; else UnknownSchema
    naming what differs from the nearest revision."""
    steps = _replayed()
    for revision, tables in reversed(steps):
        if dict(tables) == dict(present):
            return revision
    # The nearest revision: fewest differences either way, the later one on a tie.
    revision, tables = min(reversed(steps), key=lambda step: _distance(step[1], present))
    lacks_tables, lacks_columns = _differences(tables, present)
    more_tables, more_columns = _differences(present, tables)
    vi = _listing(
        ("thiếu bảng", lacks_tables),
        ("thiếu cột", lacks_columns),
        ("có thêm bảng", more_tables),
        ("có thêm cột", more_columns),
    )
    en = _listing(
        ("lacks tables", lacks_tables),
        ("lacks columns", lacks_columns),
        ("has other tables", more_tables),
        ("has other columns", more_columns),
    )
    where = _where(url)
    raise UnknownSchema(
        f"Cơ sở dữ liệu {where} được tạo trước khi có migration (không có bảng {VERSION_TABLE}) nhưng các "
        f"bảng không khớp phiên bản nào. So với phiên bản gần nhất {describe(revision)}, nó {vi}. "
        "Không thay đổi gì. Hãy khôi phục bản sao lưu của bản phát hành đã tạo nó, hoặc chạy bản đó "
        "('tdcflow serve') một lần để nó tạo đủ bảng, rồi chạy lại 'tdcflow migrate'. "
        "Cơ sở dữ liệu demo: xóa nó rồi chạy lại 'make run'.",
        f"The database {where} was made before migrations (no {VERSION_TABLE} table) but its tables "
        f"match no revision. Against the nearest, {describe(revision)}, it {en}. Nothing was changed. "
        "Restore a backup of the release that made it, or run that release ('tdcflow serve') once so "
        "that it creates its tables, then 'tdcflow migrate' again. "
        "A demo database: delete it and run 'make run' again.",
    )


def _differences(expected: Tables, present: Tables) -> tuple[list[str], list[str]]:
    """What ``expected`` has that ``present`` lacks: whole tables, and the ``table.column`` of the
    tables both have."""
    tables = sorted(set(expected) - set(present))
    columns = [
        f"{name}.{column}"
        for name in sorted(set(expected) & set(present))
        for column in sorted(expected[name] - present[name])
    ]
    return tables, columns


def _distance(one: Tables, other: Tables) -> int:
    return sum(len(names) for names in (*_differences(one, other), *_differences(other, one)))


def _listing(*parts: tuple[str, list[str]]) -> str:
    return "; ".join(f"{label} {', '.join(names)}" for label, names in parts if names)


def _pending(start: str | None) -> tuple[str, ...]:
    """The revisions after ``start`` up to the head, oldest first."""
    steps = scripts().iterate_revisions("heads", start or "base")
    return tuple(reversed([script.revision for script in steps]))
