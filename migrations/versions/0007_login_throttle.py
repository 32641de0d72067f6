"""Login throttling

``login_counter``: failed logins counted per login text (the e-mail or tax code typed, normalised,
``kind`` "account") and per client address (``kind`` "address"), with the first and last failure
and until when further attempts are refused (a growing delay, then a lock-out). Kept in the
database so that every app process counts the same. Empty at first: nobody starts locked.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key", name="login_counter_kind_key_key"),
    )
    with op.batch_alter_table("login_counter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_counter_last_failure_at"), ["last_failure_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_login_counter_locked_until"), ["locked_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_counter_locked_until"))
        batch_op.drop_index(batch_op.f("ix_login_counter_last_failure_at"))

    op.drop_table("login_counter")
