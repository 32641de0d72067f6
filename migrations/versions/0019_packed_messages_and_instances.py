"""Messages and process instances kept packed; deliveries not indexed by event

A finished declaration took about 57 KB of database, more than half of it its deliveries' bodies
(each e-mail's text and HTML, 4 KB) and 8 KB its serialized instance. ``delivery.body_text``,
``delivery.body_html`` and ``process_instance.state`` become ``workflows.packed.PackedText``
(deflated, the messages against a preset dictionary of the e-mail layout): the same text read
back, about a tenth of the bytes. Every existing row is packed here, its text unchanged (an old
e-mail resent or shown is the one sent). ``ix_delivery_event_id`` goes: no query looks deliveries
up by their event; ``ix_outbox_pending`` holds only the events not dispatched yet (the fan-out's
queue, in its order), not every event ever emitted.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from notifications.models import MESSAGE_DICTIONARIES, MESSAGE_DICTIONARY
from workflows.packed import PLAIN, pack, unpack

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_MESSAGES = dict(MESSAGE_DICTIONARIES)
# (table, column, NOT NULL before, packed with this dictionary)
_COLUMNS = (
    ("delivery", "body_text", True, MESSAGE_DICTIONARY),
    ("delivery", "body_html", False, MESSAGE_DICTIONARY),
    ("process_instance", "state", True, PLAIN),
)
_BATCH = 500


def _convert(
    table: str, column: str, new_type: sa.types.TypeEngine, nullable: bool, change: Callable
) -> None:
    """Replace ``column`` by one of ``new_type`` holding ``change(value)`` of every row (a new
    column filled in batches, the old one dropped, the new one renamed: plain DDL on SQLite and
    PostgreSQL alike)."""
    temporary = f"{column}_0019"
    op.add_column(table, sa.Column(temporary, new_type, nullable=True))
    if context.is_offline_mode():
        op.execute(f"-- {table}.{temporary}: filled from {column} by 'tdcflow migrate' (online)")
    else:
        _fill(table, column, temporary, new_type, change)
    op.drop_column(table, column)
    op.execute(sa.text(f"ALTER TABLE {table} RENAME COLUMN {temporary} TO {column}"))
    if not nullable and op.get_context().dialect.name == "postgresql":
        op.alter_column(table, column, nullable=False)


def _fill(table: str, column: str, temporary: str, new_type: sa.types.TypeEngine, change: Callable) -> None:
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column(column), sa.column(temporary, new_type))
    last = 0
    while True:
        batch = bind.execute(
            sa.select(rows.c.id, rows.c[column]).where(rows.c.id > last).order_by(rows.c.id).limit(_BATCH)
        ).all()
        if not batch:
            break
        bind.execute(
            rows.update()
            .where(rows.c.id == sa.bindparam("row_id"))
            .values({temporary: sa.bindparam("value")}),
            [
                {"row_id": row_id, "value": None if value is None else change(value)}
                for row_id, value in batch
            ],
        )
        last = batch[-1][0]


def _pending_index(where: str | None) -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox_event")
    if where is None:
        op.create_index("ix_outbox_pending", "outbox_event", ["dispatched_at", "id"], unique=False)
    else:
        condition = sa.text(where)
        op.create_index(
            "ix_outbox_pending",
            "outbox_event",
            ["created_at", "id"],
            unique=False,
            sqlite_where=condition,
            postgresql_where=condition,
        )


def upgrade() -> None:
    op.drop_index("ix_delivery_event_id", table_name="delivery")
    _pending_index("dispatched_at IS NULL")
    for table, column, _, dictionary in _COLUMNS:
        _convert(
            table,
            column,
            sa.LargeBinary(),
            True,
            lambda value, dictionary=dictionary: pack(value, _MESSAGES, dictionary),
        )


def downgrade() -> None:
    for table, column, not_null, _ in _COLUMNS:
        _convert(table, column, sa.Text(), not not_null, lambda value: unpack(value, _MESSAGES))
    op.create_index("ix_delivery_event_id", "delivery", ["event_id"], unique=False)
    _pending_index(None)
