"""The version of its procedure's rules a dossier follows

A procedure's rules now have dated versions (``[[procedure.versions]]`` in the catalogue): a
dossier keeps the one in force when it was received, as ``dossier.rules_version`` (the ISO date
the version took effect). Dossiers from before stay empty: tdcflow reads them as following the
version in force on the day they were received (or submitted), which is what they followed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rules_version", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.drop_column("rules_version")
