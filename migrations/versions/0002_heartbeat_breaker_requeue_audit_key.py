"""Scheduler heartbeat, channel breaker, delivery re-queue tables; the audit chain key named

What the release (0001) lacks: the tables ``scheduler_heartbeat`` (each scheduler's last tick, for
the readiness checks), ``channel_breaker`` (each notification channel's circuit breaker) and
``delivery_requeue`` (when an administrator last put a dead delivery back), and the name
``audit_event_stream_seq_key`` of the unique (stream, seq) constraint of the audit chain, which
tdcflow tells a lost race by. PostgreSQL gave the release's unnamed constraint that very name
(its default), so only SQLite changes there: SQLite cannot rename a constraint, so the table is
rebuilt with it named, its rows and indexes kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AUDIT_CHAIN_KEY = "audit_event_stream_seq_key"


def _audit_event(key_name: str | None) -> sa.Table:
    """The audit_event table as both revisions have it, its (stream, seq) key named ``key_name``:
    what a rebuild copies the rows into (given, not reflected, so that ``--sql`` can write it)."""
    table = sa.Table(
        "audit_event",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stream", "seq", name=key_name),
    )
    sa.Index("ix_audit_event_dossier_id", table.c.dossier_id)
    sa.Index("ix_audit_event_stream", table.c.stream)
    return table


def _rebuild_audit_event(key_name: str | None) -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("audit_event", recreate="always", copy_from=_audit_event(key_name)):
            pass


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("tick_seconds", sa.Float(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_tick_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "channel_breaker",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("next_probe_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "delivery_requeue",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("requeued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requeued_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"]),
        sa.ForeignKeyConstraint(["requeued_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    _rebuild_audit_event(AUDIT_CHAIN_KEY)


def downgrade() -> None:
    _rebuild_audit_event(None)
    op.drop_table("delivery_requeue")
    op.drop_table("channel_breaker")
    op.drop_table("scheduler_heartbeat")
