"""Document templates: the uploaded versions of a document kind's .docx template

``document_template`` holds each version an administrator uploaded (after it passed the check):
the kind, the procedure it is for (none: every procedure), the day it takes effect, the file's
SHA-256 in the content-addressed store, the deciding document, who uploaded it and when, the
check's report, and when and by whom it was withdrawn.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("procedure_code", sa.String(length=120), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("decided_by", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_report", sa.JSON(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_document_template_kind_effective", "document_template", ["kind", "effective_from"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_document_template_kind_effective", table_name="document_template")
    op.drop_table("document_template")
