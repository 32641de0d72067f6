"""Ending an account's sessions

``app_user.session_epoch``: every access token and session cookie carries the value it was issued
with, and is refused once the account's value moved on. A password change, a logout and an
administrator's lock raise it, so a copied token or cookie stops working at once (until now a token
stayed valid for its whole lifetime). Existing accounts start at 0, as the tokens issued before this
revision carry none (read as 0): they stay valid until the account's first change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
