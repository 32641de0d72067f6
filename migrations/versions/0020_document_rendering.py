"""Documents rendered after the command that issues them

``document_rendering`` holds, for an issued document whose .docx is not yet rendered, what the
document says (its context as JSON) and the template chosen on its issue day; the row is deleted
when the file is stored (``workflows.document_rendering``). Until then the document's ``sha256``
is empty. Documents issued before this revision were rendered when issued: no row.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_rendering",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("procedure_code", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("document_id"),
    )


def downgrade() -> None:
    op.drop_table("document_rendering")
