"""The metrology inspection campaign's findings (issue 18)

``metrology_campaign_finding``: one row per instrument an inspection campaign's team found at a
site, its result and how a violation was handled (``workflows.procedures.metrology_campaign``).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metrology_campaign_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("site_no", sa.Integer(), nullable=False),
        sa.Column("finding_no", sa.Integer(), nullable=False),
        sa.Column("site_owner", sa.String(length=300), nullable=False),
        sa.Column("site_address", sa.String(length=300), nullable=False),
        sa.Column("site_commune", sa.String(length=120), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=True),
        sa.Column("stamp_number", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("serial_number", sa.String(length=60), nullable=False),
        sa.Column("result", sa.String(length=24), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("action_note", sa.String(length=1000), nullable=False),
        sa.Column("action_due", sa.Date(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.ForeignKeyConstraint(["handled_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["instrument_id"], ["metrology_instrument.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["warning_id"], ["metrology_warning.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "site_no", "finding_no", name="uq_metrology_campaign_finding"),
    )
    with op.batch_alter_table("metrology_campaign_finding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metrology_campaign_finding_dossier_id"), ["dossier_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_metrology_campaign_finding_instrument_id"), ["instrument_id"], unique=False
        )
        batch_op.create_index("ix_metrology_campaign_finding_result", ["result", "visited_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("metrology_campaign_finding", schema=None) as batch_op:
        batch_op.drop_index("ix_metrology_campaign_finding_result")
        batch_op.drop_index(batch_op.f("ix_metrology_campaign_finding_instrument_id"))
        batch_op.drop_index(batch_op.f("ix_metrology_campaign_finding_dossier_id"))
    op.drop_table("metrology_campaign_finding")
