"""Tax codes are verified, not taken by whoever registers first

``app_user`` gains the tax code's verification: ``tax_code_status`` (unverified / verified /
rejected; NULL for an account without a tax code), who decided (``tax_code_decided_by_id``), when
(``tax_code_decided_at``) and what the decision rests on (``tax_code_note``: the evidence checked,
or the reason of a rejection). The unique index on ``tax_code`` goes: several accounts may hold a
tax code while it is unverified, and the officer decides. The partial unique index
``uq_app_user_verified_tax_code`` keeps the guarantee that matters: at most one *verified* account
per tax code, on SQLite and PostgreSQL alike.

``tax_code_contest`` holds the claims to a tax code another account holds verified, with the
business registration certificate attached, until a clerk or the administrator decides.

Existing accounts. Until now the first registration took the tax code, unchecked, so a holder is
not verified merely by holding it: every business account becomes ``unverified``, except those
with a dossier the one-stop desk has received (``dossier.received_at``). Receiving a dossier meant
a clerk had its applicant's papers in hand (the business registration is among the documents the
procedures require), which is the check this revision asks for; those accounts become
``verified``, decided at their first receipt, by nobody (the system), with a note that says so.
The unique index held until now, so no two of them share a tax code. No audit event is written
(the audit chain is the application's to extend); the note is the record.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VERIFIED_ONLY = "tax_code_status = 'verified'"
BY_MIGRATION = (
    "Đã tiếp nhận hồ sơ của tài khoản trước khi có xác minh mã số thuế (bản cập nhật 0009). / "
    "A dossier of the account was received before tax codes were verified (upgrade 0009)."
)


def upgrade() -> None:
    op.create_table(
        "tax_code_contest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tax_code", sa.String(length=14), nullable=False),
        sa.Column("organisation_name", sa.String(length=300), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=30), nullable=False),
        sa.Column("statement", sa.String(length=2000), nullable=False),
        sa.Column("certificate_filename", sa.String(length=255), nullable=False),
        sa.Column("certificate_type", sa.String(length=120), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("certificate_size", sa.Integer(), nullable=False),
        sa.Column("contester_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["contester_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["handled_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tax_code_contest", schema=None) as batch_op:
        batch_op.create_index("ix_tax_code_contest_open", ["status", "filed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tax_code_contest_tax_code"), ["tax_code"], unique=False)

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_code_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("tax_code_decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("tax_code_note", sa.String(length=500), nullable=True))
    if op.get_context().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place (no copy of the table, so that
        # ``tdcflow migrate --sql`` can write it without reading the database).
        op.execute("ALTER TABLE app_user ADD COLUMN tax_code_decided_by_id INTEGER REFERENCES app_user (id)")
    else:
        op.add_column("app_user", sa.Column("tax_code_decided_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "app_user_tax_code_decided_by_id_fkey", "app_user", "app_user", ["tax_code_decided_by_id"], ["id"]
        )

    received = "FROM dossier WHERE dossier.applicant_id = app_user.id AND dossier.received_at IS NOT NULL"
    op.execute("UPDATE app_user SET tax_code_status = 'unverified' WHERE tax_code IS NOT NULL")
    op.execute(
        sa.text(
            "UPDATE app_user SET tax_code_status = 'verified', "
            f"tax_code_decided_at = (SELECT min(dossier.received_at) {received}), tax_code_note = :note "
            f"WHERE tax_code IS NOT NULL AND EXISTS (SELECT 1 {received})"
        ).bindparams(note=BY_MIGRATION)
    )

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_user_tax_code"))
        batch_op.create_index(batch_op.f("ix_app_user_tax_code"), ["tax_code"], unique=False)
        batch_op.create_index(
            "uq_app_user_verified_tax_code",
            ["tax_code"],
            unique=True,
            sqlite_where=sa.text(VERIFIED_ONLY),
            postgresql_where=sa.text(VERIFIED_ONLY),
        )


def downgrade() -> None:
    # Back to one account per tax code: fails while several accounts share one (decide them first).
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_app_user_verified_tax_code",
            sqlite_where=sa.text(VERIFIED_ONLY),
            postgresql_where=sa.text(VERIFIED_ONLY),
        )
        batch_op.drop_index(batch_op.f("ix_app_user_tax_code"))
        batch_op.create_index(batch_op.f("ix_app_user_tax_code"), ["tax_code"], unique=True)
        if op.get_context().dialect.name != "sqlite":  # SQLite's copy of the table drops it
            batch_op.drop_constraint("app_user_tax_code_decided_by_id_fkey", type_="foreignkey")
        batch_op.drop_column("tax_code_note")
        batch_op.drop_column("tax_code_decided_by_id")
        batch_op.drop_column("tax_code_decided_at")
        batch_op.drop_column("tax_code_status")

    with op.batch_alter_table("tax_code_contest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tax_code_contest_tax_code"))
        batch_op.drop_index("ix_tax_code_contest_open")

    op.drop_table("tax_code_contest")
