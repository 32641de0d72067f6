"""Audit anchors: a signed checkpoint per stream and the daily roots

``audit_checkpoint``: each audit stream's head (events counted, head event id, head hash), written
with every append and signed with an HMAC under a key derived from the secret key, so that deleting
a stream's last events, or the whole stream, shows. ``audit_root``: one root hash a day over every
stream's head, chained and signed, with the result of that day's full verification.

The streams that exist get their checkpoint here, from the events found (their last event); the
secret key is not the migration's to read, so these are left unsigned and the first start of
tdcflow signs them (``workflows.audit_anchor.sign_unsigned``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("head_event_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("stream"),
    )
    op.create_table(
        "audit_root",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("streams", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verify_ok", sa.Boolean(), nullable=True),
        sa.Column("verify_report", sa.String(length=4000), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.execute(
        "INSERT INTO audit_checkpoint (stream, events, head_event_id, head_hash, updated_at, mac) "
        "SELECT e.stream, e.seq, e.id, e.hash, e.at, NULL FROM audit_event e "
        "JOIN (SELECT stream, max(seq) AS seq FROM audit_event GROUP BY stream) head "
        "ON head.stream = e.stream AND head.seq = e.seq"
    )


def downgrade() -> None:
    op.drop_table("audit_root")
    op.drop_table("audit_checkpoint")
