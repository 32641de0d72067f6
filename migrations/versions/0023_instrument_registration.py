"""Instruments registered by their owners; warnings for instruments never verified; folded search

``metrology_instrument`` gains ``version`` (a correction of a registration made on a stale view is
refused) and ``search_text``: serial number, model, approval mark, owner, tax code, commune and
address in lower case, tones and đ/Đ folded, so that the officers' search finds "Đông Hà" as
"dong ha" on SQLite too. The application writes it with every instrument
(``workflows.metrology.models``); the instruments that exist are filled here, by a frozen copy of
that code and of ``workflows.folding.search_key`` (a migration never imports the application).

``metrology_warning.verification_id`` may now be empty: an ``unverified`` warning (a registered
instrument with no verification past its grace period) has no verification; a partial unique
index keeps it to one per instrument.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import context, op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BATCH = 500
SEARCHED = ("serial_number", "model", "approval_mark", "owner_name", "owner_tax_code", "commune", "address")
UNVERIFIED_INDEX = "uq_metrology_warning_unverified"

instrument = sa.table(
    "metrology_instrument",
    sa.column("id", sa.Integer()),
    *(sa.column(name, sa.String()) for name in SEARCHED),
    sa.column("search_text", sa.Text()),
)


# ``metrology_warning`` as 0022 made it: SQLite changes a column's nullability by copying the table,
# and ``tdcflow migrate --sql`` (offline: nothing to reflect) copies it from this.
warning_0022 = sa.Table(
    "metrology_warning",
    sa.MetaData(),
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("instrument_id", sa.Integer(), nullable=False),
    sa.Column("cause", sa.String(length=12), nullable=False),
    sa.Column("verification_id", sa.Integer(), nullable=False),
    sa.Column("since", sa.Date(), nullable=False),
    sa.Column("state", sa.String(length=20), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("note", sa.String(length=1000), nullable=False),
    sa.Column("closed_reason", sa.String(length=1000), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["instrument_id"], ["metrology_instrument.id"]),
    sa.ForeignKeyConstraint(["updated_by_id"], ["app_user.id"]),
    sa.ForeignKeyConstraint(["verification_id"], ["metrology_verification.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("cause", "verification_id", name="uq_metrology_warning_cause"),
    sa.Index("ix_metrology_warning_instrument_id", "instrument_id"),
    sa.Index("ix_metrology_warning_state", "state", "since", "id"),
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


def _fill() -> None:
    if context.is_offline_mode():
        op.execute("-- metrology_instrument.search_text: filled by 'tdcflow migrate' (online)")
        return
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(instrument.c.id, *(instrument.c[name] for name in SEARCHED))
            .where(instrument.c.id > last)
            .order_by(instrument.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            instrument.update()
            .where(instrument.c.id == sa.bindparam("row_id"))
            .values(search_text=sa.bindparam("text")),
            [
                {
                    "row_id": row.id,
                    "text": search_key(" ".join(str(getattr(row, n)) for n in SEARCHED if getattr(row, n))),
                }
                for row in rows
            ],
        )
        last = rows[-1].id


def upgrade() -> None:
    op.add_column(
        "metrology_instrument",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.add_column(
        "metrology_instrument",
        sa.Column("search_text", sa.Text(), server_default=sa.text("''"), nullable=False),
    )
    _fill()
    with op.batch_alter_table("metrology_warning", schema=None, copy_from=warning_0022) as batch_op:
        batch_op.alter_column("verification_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            UNVERIFIED_INDEX,
            ["instrument_id"],
            unique=True,
            sqlite_where=sa.text("cause = 'unverified'"),
            postgresql_where=sa.text("cause = 'unverified'"),
        )


def downgrade() -> None:
    op.execute("DELETE FROM metrology_warning WHERE verification_id IS NULL")
    with op.batch_alter_table("metrology_warning", schema=None) as batch_op:
        batch_op.drop_index(UNVERIFIED_INDEX)
        batch_op.alter_column("verification_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("metrology_instrument", schema=None) as batch_op:
        batch_op.drop_column("search_text")
        batch_op.drop_column("version")
