"""The working calendar's entries in the database

``calendar_entry`` holds the extra days off and make-up working days with their deciding
document, entered by an administrator or imported once from ``bpmn/calendar_overrides.toml`` at
the first start (``workflows.calendar_entries``); one entry in force per day (a partial unique
index); a removed entry keeps its row. The calendar's revision is a row of ``counter``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

IN_FORCE = "removed_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "calendar_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("decided_by", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removal_decided_by", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["removed_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_calendar_entry_day_in_force",
        "calendar_entry",
        ["day"],
        unique=True,
        sqlite_where=sa.text(IN_FORCE),
        postgresql_where=sa.text(IN_FORCE),
    )


def downgrade() -> None:
    op.drop_index("uq_calendar_entry_day_in_force", table_name="calendar_entry")
    op.drop_table("calendar_entry")
