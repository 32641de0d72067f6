"""The metrology database's alerts and warnings (issue 18)

``metrology_reminder``: one row per verification whose owner was reminded of its end (the sweep's
memory); ``metrology_warning``: the violation warnings officers handle (``workflows.metrology.alerts``).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metrology_reminder",
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instrument_id"], ["metrology_instrument.id"]),
        sa.ForeignKeyConstraint(["verification_id"], ["metrology_verification.id"]),
        sa.PrimaryKeyConstraint("verification_id"),
    )
    with op.batch_alter_table("metrology_reminder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metrology_reminder_instrument_id"), ["instrument_id"], unique=False
        )

    op.create_table(
        "metrology_warning",
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
    )
    with op.batch_alter_table("metrology_warning", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metrology_warning_instrument_id"), ["instrument_id"], unique=False
        )
        batch_op.create_index("ix_metrology_warning_state", ["state", "since", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("metrology_warning", schema=None) as batch_op:
        batch_op.drop_index("ix_metrology_warning_state")
        batch_op.drop_index(batch_op.f("ix_metrology_warning_instrument_id"))
    op.drop_table("metrology_warning")
    with op.batch_alter_table("metrology_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metrology_reminder_instrument_id"))
    op.drop_table("metrology_reminder")
