"""Dossier search that finds: a folded search column

``dossier.search_text`` holds the dossier's code, applicant, tax code and subject in lower case,
tones and đ/Đ folded ("Công ty TNHH Thép Đông Hà" → "cong ty tnhh thep dong ha"), so that the
dossier lists find "Đông Hà" as "dong ha" on SQLite too (whose ``lower()`` folds ASCII only).
With a subject that is the first of a list (a shipment's first goods), the other items' same field
is added (``workflows.models.subject_siblings``). The application writes it with every dossier
(``workflows.models``); the dossiers that exist are filled here, by a frozen copy of that code and
of ``workflows.folding.search_key`` (a migration never imports the application). On PostgreSQL a trigram GIN index (``pg_trgm``, a trusted extension
shipped with the server) serves the ``LIKE '%word%'`` searches; where the extension cannot be
created the column is searched without it (a note in the log).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import logging
import re
import unicodedata

import sqlalchemy as sa
from alembic import context, op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEX = "ix_dossier_search_trgm"
BATCH = 500
log = logging.getLogger("tdcflow.migrations")

dossier = sa.table(
    "dossier",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("applicant_name", sa.String()),
    sa.column("applicant_tax_code", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("search_text", sa.Text()),
)


def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    lower = base.lower()
    return lower if len(lower) == 1 else base


def search_key(text: str) -> str:
    folded = "".join(_fold_char(ch) for ch in unicodedata.normalize("NFC", text))
    kept = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", kept).strip()


def subject_siblings(subject: str, data: object) -> list[str]:
    if not subject or not isinstance(data, dict):
        return []
    for value in data.values():
        if isinstance(value, list) and len(value) > 1 and isinstance(value[0], dict):
            key = next((k for k, v in value[0].items() if v == subject), None)
            if key is not None:
                return [str(item[key]) for item in value[1:] if isinstance(item, dict) and item.get(key)]
    return []


def _text(row: sa.Row) -> str:
    parts = (row.code, row.applicant_name, row.applicant_tax_code, row.subject)
    return search_key(" ".join(p for p in (*parts, *subject_siblings(row.subject, row.data)) if p))


def _fill() -> None:
    if context.is_offline_mode():
        op.execute("-- dossier.search_text of the existing dossiers: filled by 'tdcflow migrate' (online)")
        return
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                dossier.c.id,
                dossier.c.code,
                dossier.c.applicant_name,
                dossier.c.applicant_tax_code,
                dossier.c.subject,
                dossier.c.data,
            )
            .where(dossier.c.id > last)
            .order_by(dossier.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            dossier.update()
            .where(dossier.c.id == sa.bindparam("row_id"))
            .values(search_text=sa.bindparam("text")),
            [{"row_id": row.id, "text": _text(row)} for row in rows],
        )
        last = rows[-1].id


def _trigram_index() -> None:
    if context.is_offline_mode():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    else:
        bind = op.get_bind()
        available = bind.execute(
            sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        ).first()
        if available is None:
            log.warning("pg_trgm is not installed on this server: dossier search runs without its index")
            return
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError:
            log.warning("pg_trgm could not be created here: dossier search runs without its index")
            return
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON dossier USING GIN (search_text gin_trgm_ops)")


def upgrade() -> None:
    op.add_column(
        "dossier", sa.Column("search_text", sa.Text(), server_default=sa.text("''"), nullable=False)
    )
    _fill()
    if op.get_context().dialect.name == "postgresql":
        _trigram_index()


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    with op.batch_alter_table("dossier") as batch_op:
        batch_op.drop_column("search_text")
