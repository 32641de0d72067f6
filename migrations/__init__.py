"""The database schema under Alembic: the migrations (``versions/``), their environment
(``env.py``) and how tdcflow applies them (``runner``). Only ``api`` (the ``tdcflow`` command and
the app factory) imports this package.

``tdcflow migrate`` upgrades a database to the head; ``tdcflow serve``, ``worker`` and ``demo`` do
the same at start-up. ``0001`` is the schema of the last release made without migrations
(``create_all``, commit ffd92b5); every later change of a table is a migration.

Adding one, after changing a model (the revision ids are numbers, in order)::

    TDCFLOW_DATABASE_URL=sqlite:////tmp/m.sqlite3 .venv/bin/alembic upgrade head
    TDCFLOW_DATABASE_URL=sqlite:////tmp/m.sqlite3 .venv/bin/alembic revision --autogenerate \\
        --rev-id 0003 -m "what changes"

then read it (autogenerate misses renames and data moves, and SQLite alters a table by rebuilding
it: ``batch_alter_table``), try it on PostgreSQL too, and run ``make lint``: its ``alembic check``
fails while a model and the migrations differ. ``tests/test_migrations.py`` upgrades the release's
demo data through every migration on both databases.
"""

from migrations.runner import (
    DatabaseAhead,
    DatabaseBehind,
    MigrationRefused,
    Status,
    UnknownSchema,
    Upgrade,
    describe,
    head,
    offline_sql,
    require_current,
    status,
    upgrade,
    upgrade_on_start,
)

__all__ = [
    "DatabaseAhead",
    "DatabaseBehind",
    "MigrationRefused",
    "Status",
    "UnknownSchema",
    "Upgrade",
    "describe",
    "head",
    "offline_sql",
    "require_current",
    "status",
    "upgrade",
    "upgrade_on_start",
]
