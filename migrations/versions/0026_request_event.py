"""Limits on public requests, counted in one table for every purpose

The TBT inquiry point's rate limit (``tbt_rate_event``, keys ``ip:<address>`` and
``email:<address>``) becomes the general ``request_event``, which also counts password reset
requests, verification links sent again and tax code contests (``workflows.request_limits``). The
table is renamed and its rows kept, their keys prefixed with their purpose
(``tbt_inquiry:address:…``, ``tbt_inquiry:email:…``), so an inquirer's count of the hour carries
over the upgrade. Downgrading keeps the inquiries' rows only, as they were.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

OLD_TABLE, OLD_INDEX = "tbt_rate_event", "ix_tbt_rate_event_key_at"
TABLE, INDEX = "request_event", "ix_request_event_key_at"


def upgrade() -> None:
    op.drop_index(OLD_INDEX, table_name=OLD_TABLE)
    op.rename_table(OLD_TABLE, TABLE)
    op.execute(f"UPDATE {TABLE} SET key = 'tbt_inquiry:address:' || substr(key, 4) WHERE key LIKE 'ip:%'")
    op.execute(f"UPDATE {TABLE} SET key = 'tbt_inquiry:' || key WHERE key LIKE 'email:%'")
    op.create_index(INDEX, TABLE, ["key", "at"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name=TABLE)
    # ("_" in a LIKE pattern matches any one character: only the inquiries' keys begin so.)
    op.execute(f"DELETE FROM {TABLE} WHERE key NOT LIKE 'tbt_inquiry:%'")
    op.execute(f"UPDATE {TABLE} SET key = 'ip:' || substr(key, 21) WHERE key LIKE 'tbt_inquiry:address:%'")
    op.execute(f"UPDATE {TABLE} SET key = substr(key, 13) WHERE key LIKE 'tbt_inquiry:email:%'")
    op.rename_table(TABLE, OLD_TABLE)
    op.create_index(OLD_INDEX, OLD_TABLE, ["key", "at"], unique=False)
