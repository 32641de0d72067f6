"""The provincial metrology database (issue 18)

``metrology_body`` and ``metrology_api_key``: the verification bodies and their API keys (only a
key's SHA-256 is kept); ``metrology_instrument``: the measuring instruments in use, with their
latest verification repeated for status queries; ``metrology_verification``: one row per
certificate as its body reported it (``workflows.metrology``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metrology_instrument",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("approval_mark", sa.String(length=60), nullable=False),
        sa.Column("serial_number", sa.String(length=60), nullable=False),
        sa.Column("measuring_range", sa.String(length=100), nullable=False),
        sa.Column("accuracy_class", sa.String(length=30), nullable=False),
        sa.Column("owner_type", sa.String(length=12), nullable=False),
        sa.Column("owner_tax_code", sa.String(length=14), nullable=True),
        sa.Column("owner_name", sa.String(length=300), nullable=False),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_verification_id", sa.Integer(), nullable=True),
        sa.Column("current_verified_on", sa.Date(), nullable=True),
        sa.Column("current_result", sa.String(length=8), nullable=True),
        sa.Column("current_valid_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial_number", "kind", "model", name="uq_metrology_instrument_identity"),
    )
    with op.batch_alter_table("metrology_instrument", schema=None) as batch_op:
        batch_op.create_index("ix_metrology_instrument_owner", ["owner_tax_code", "id"], unique=False)
        batch_op.create_index("ix_metrology_instrument_valid_until", ["current_valid_until"], unique=False)

    op.create_table(
        "metrology_body",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("designation", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "metrology_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["metrology_body.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("metrology_api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metrology_api_key_body_id"), ["body_id"], unique=False)

    op.create_table(
        "metrology_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("certificate_number", sa.String(length=60), nullable=False),
        sa.Column("stamp_number", sa.String(length=60), nullable=True),
        sa.Column("stamp_token", sa.String(length=32), nullable=False),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["metrology_api_key.id"],
        ),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["metrology_body.id"],
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["metrology_instrument.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("certificate_number"),
        sa.UniqueConstraint("stamp_number"),
        sa.UniqueConstraint("stamp_token"),
    )
    with op.batch_alter_table("metrology_verification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metrology_verification_body_id"), ["body_id"], unique=False)
        batch_op.create_index(
            "ix_metrology_verification_instrument", ["instrument_id", "verified_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("metrology_verification", schema=None) as batch_op:
        batch_op.drop_index("ix_metrology_verification_instrument")
        batch_op.drop_index(batch_op.f("ix_metrology_verification_body_id"))

    op.drop_table("metrology_verification")
    with op.batch_alter_table("metrology_api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metrology_api_key_body_id"))

    op.drop_table("metrology_api_key")
    op.drop_table("metrology_body")
    with op.batch_alter_table("metrology_instrument", schema=None) as batch_op:
        batch_op.drop_index("ix_metrology_instrument_valid_until")
        batch_op.drop_index("ix_metrology_instrument_owner")

    op.drop_table("metrology_instrument")
