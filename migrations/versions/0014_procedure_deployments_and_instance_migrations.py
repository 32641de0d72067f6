"""Procedure versions deployed by an administrator, and dossiers moved from one version to another

The deployed bundle (its files, hash, effective date, who and when) and, per migrated dossier, the
instance state it had before, so that a migration can be undone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 14:56:48.748077
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure_deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_code", sa.String(length=60), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("label_vi", sa.String(length=500), nullable=False),
        sa.Column("label_en", sa.String(length=500), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("deployed_by_id", sa.Integer(), nullable=True),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployed_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("procedure_code", "bundle_sha256"),
    )
    with op.batch_alter_table("procedure_deployment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procedure_deployment_procedure_code"), ["procedure_code"], unique=False
        )

    op.create_table(
        "instance_migration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=40), nullable=False),
        sa.Column("from_model_version_id", sa.Integer(), nullable=False),
        sa.Column("to_model_version_id", sa.Integer(), nullable=False),
        sa.Column("from_rules_version", sa.String(length=10), nullable=True),
        sa.Column("to_rules_version", sa.String(length=10), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("previous_state", sa.Text(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=False),
        sa.Column("result_version", sa.Integer(), nullable=False),
        sa.Column("migrated_by_id", sa.Integer(), nullable=True),
        sa.Column("migrated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["from_model_version_id"],
            ["model_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["migrated_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_model_version_id"],
            ["model_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("instance_migration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instance_migration_batch"), ["batch"], unique=False)
        batch_op.create_index(batch_op.f("ix_instance_migration_dossier_id"), ["dossier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instance_migration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instance_migration_dossier_id"))
        batch_op.drop_index(batch_op.f("ix_instance_migration_batch"))

    op.drop_table("instance_migration")
    with op.batch_alter_table("procedure_deployment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedure_deployment_procedure_code"))

    op.drop_table("procedure_deployment")
