"""Personal signing: a leader signs the results they approve with their own certificate

``signer_certificate`` holds each leader's registered signing certificate (the administrator
registers it; a fingerprint is unique while active) and whether they sign personally.
``document_signing`` gains who a queued document waits for (the agency's worker skips it while
set) and the SHA-256 of the prepared, unsigned PDF the leader downloaded.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ACTIVE = "revoked_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "signer_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signs_personally", sa.Boolean(), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["registered_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signer_certificate_user_id", "signer_certificate", ["user_id"], unique=False)
    op.create_index(
        "uq_signer_certificate_active_sha256",
        "signer_certificate",
        ["sha256"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    # Plain ALTER TABLE … ADD COLUMN: ``tdcflow migrate --sql`` writes it without a live database.
    # No foreign key on awaiting_user_id: SQLite adds none to an existing table without a copy.
    op.add_column("document_signing", sa.Column("awaiting_user_id", sa.Integer(), nullable=True))
    op.add_column("document_signing", sa.Column("prepared_sha256", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_document_signing_awaiting_user_id", "document_signing", ["awaiting_user_id"], unique=False
    )


def downgrade() -> None:
    with op.batch_alter_table("document_signing", schema=None) as batch_op:
        batch_op.drop_index("ix_document_signing_awaiting_user_id")
        batch_op.drop_column("prepared_sha256")
        batch_op.drop_column("awaiting_user_id")
    op.drop_index("uq_signer_certificate_active_sha256", table_name="signer_certificate")
    op.drop_index("ix_signer_certificate_user_id", table_name="signer_certificate")
    op.drop_table("signer_certificate")
