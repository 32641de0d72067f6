"""The officers' instrument search served by an index on PostgreSQL (issue 18, at scale)

``/work/instruments`` finds words anywhere in an instrument's folded ``search_text`` (migration
0023) with ``LIKE '%word%'``, which no B-tree serves: at 100,000 instruments every search read the
whole table (bench/metrology_scale.py). On PostgreSQL a trigram GIN index (``pg_trgm``, a trusted
extension shipped with the server, as the dossiers' search has since 0016) serves it; where the
extension cannot be created the column is searched without it (a note in the log). SQLite has no
such index: nothing changes there.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import context, op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

INDEX = "ix_metrology_instrument_search_trgm"
log = logging.getLogger("tdcflow.migrations")


def _extension_ready() -> bool:
    if context.is_offline_mode():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return True
    bind = op.get_bind()
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    if available is None:
        log.warning("pg_trgm is not installed on this server: instrument search runs without its index")
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        log.warning("pg_trgm could not be created here: instrument search runs without its index")
        return False
    return True


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql" and _extension_ready():
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON metrology_instrument USING GIN (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
