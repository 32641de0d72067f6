"""Signed PDF documents: the official copy of every issued document is a PDF signed by the agency

``document`` gains the audit stream its issue was recorded on (where its signing is recorded
too), the signed PDF's SHA-256 and size, when it was signed and by which certificate, and an
index on the .docx's SHA-256 (the verify page finds an uploaded copy by its hash).
``document_signing`` holds the documents whose signed PDF is still to be made; a worker claims
each for a lease, renders and signs it, and deletes the row with the PDF stored.

Every document issued before this upgrade is queued too: its signed PDF is made by the first
worker that runs after the upgrade (signed then, which the signature's time shows).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Where issuing recorded each kind of subject's events (workflows.documents.issuing's ``stream``).
STREAM_OF_SUBJECT = {
    "dossier": "'dossier:' || dossier_id",
    "wto_notification": "'wto:' || issued_for_id",
    "award_round": "'award_round:' || issued_for_id",
}


def upgrade() -> None:
    op.create_table(
        "document_signing",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_document_signing_due", "document_signing", ["due_at"], unique=False)
    # Plain ALTER TABLE … ADD COLUMN (no copy of the table, so that ``tdcflow migrate --sql`` can
    # write it without reading the database); the defaults fill the rows already there.
    op.add_column(
        "document",
        sa.Column("audit_stream", sa.String(length=60), nullable=False, server_default=sa.text("''")),
    )
    op.add_column("document", sa.Column("pdf_sha256", sa.String(length=64), nullable=True))
    op.add_column("document", sa.Column("pdf_size", sa.Integer(), nullable=True))
    op.add_column("document", sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("document", sa.Column("signature", sa.JSON(), nullable=True))
    op.create_index("ix_document_pdf_sha256", "document", ["pdf_sha256"], unique=False)
    op.create_index("ix_document_sha256", "document", ["sha256"], unique=False)

    for subject, stream in STREAM_OF_SUBJECT.items():
        op.execute(f"UPDATE document SET audit_stream = {stream} WHERE issued_for = '{subject}'")
    op.execute(
        "INSERT INTO document_signing (document_id, due_at, attempts) SELECT id, issued_at, 0 FROM document"
    )


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_sha256"))
        batch_op.drop_index(batch_op.f("ix_document_pdf_sha256"))
        batch_op.drop_column("signature")
        batch_op.drop_column("signed_at")
        batch_op.drop_column("pdf_size")
        batch_op.drop_column("pdf_sha256")
        batch_op.drop_column("audit_stream")
    with op.batch_alter_table("document_signing", schema=None) as batch_op:
        batch_op.drop_index("ix_document_signing_due")
    op.drop_table("document_signing")
