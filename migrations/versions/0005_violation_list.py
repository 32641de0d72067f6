"""The violation list

What a model flags on a dossier (``tdcflow/flag``: an imported shipment's certificate not filed
within 15 working days of clearance…) stays on the officers' violation list until one of them
records how it was handled: the ``violation`` table (dossier, reason, when flagged, when and by
whom handled, what was done). Violations flagged before this revision were audit events only
(``flagged``): each is put on the list, open, with its reason and instant.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "violation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handling", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_violation_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index("ix_violation_open", ["handled_at", "flagged_at"], unique=False)
    sqlite = op.get_context().dialect.name == "sqlite"
    reason = "json_extract(details, '$.reason')" if sqlite else "(details->>'reason')"
    op.execute(
        "INSERT INTO violation (dossier_id, reason, flagged_at, handling) "
        f"SELECT dossier_id, substr(coalesce({reason}, 'violation'), 1, 60), at, '' FROM audit_event "
        "WHERE action = 'flagged' AND dossier_id IS NOT NULL ORDER BY at, id"
    )


def downgrade() -> None:
    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.drop_index("ix_violation_open")
        batch_op.drop_index(batch_op.f("ix_violation_dossier_id"))

    op.drop_table("violation")
