"""An owner's instruments by status, from one index (issue 18, the database at scale)

A business's page counts its instruments per status and lists them the most urgent first; the
status is computed from ``current_result``, ``current_valid_until`` and
``current_verification_id``. With only ``ix_metrology_instrument_owner`` (tax code, id), a business
owning 10,000 of 100,000 instruments had each of its rows read from the table, about one page of
the table per row: 30 ms for the counts and 46 ms for the first page on PostgreSQL
(bench/metrology_scale.py). ``ix_metrology_instrument_owner_status`` holds those columns: 11 ms
and 6 ms, read from the index alone.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

COLUMNS = ["owner_tax_code", "current_result", "current_valid_until", "current_verification_id", "id"]


def upgrade() -> None:
    op.create_index("ix_metrology_instrument_owner_status", "metrology_instrument", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_metrology_instrument_owner_status", table_name="metrology_instrument")
