"""Dossier lists, search and the inbox at a million dossiers

The inbox chooses a page of open tasks from one covering index (``ix_work_task_open``: status,
role, due time, creation, holder, id; it replaces ``ix_work_task_inbox``).
The lists read a page off an index in their order (``ix_dossier_submitted``: newest first) and the
statistics find a period's received and resolved dossiers by index (``ix_dossier_received``,
``ix_dossier_completed``). On SQLite, a trigram FTS5 index of ``dossier.search_text``
(``dossier_search_fts``, external content: the text stays in ``dossier``) kept in step by triggers
in the writing transaction answers the search box (``workflows.dossier_search``); it is filled
here from the dossiers that exist. PostgreSQL has its trigram index since 0016. The statements are
a frozen copy of ``workflows.models``' (a migration never imports the application).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

FTS = "dossier_search_fts"
FTS_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5("
    "search_text, content='dossier', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_insert AFTER INSERT ON dossier BEGIN "
    f"INSERT INTO {FTS} (rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_delete AFTER DELETE ON dossier BEGIN "
    f"INSERT INTO {FTS} ({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_update AFTER UPDATE OF search_text ON dossier BEGIN "
    f"INSERT INTO {FTS} ({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS} (rowid, search_text) VALUES (new.id, new.search_text); END",
)


def upgrade() -> None:
    op.drop_index("ix_work_task_inbox", "work_task")
    op.create_index(
        "ix_work_task_open",
        "work_task",
        ["status", "candidate_role", "due_at", "created_at", "assignee_id", "id"],
    )
    op.create_index("ix_dossier_submitted", "dossier", ["submitted_at", "id"])
    op.create_index("ix_dossier_received", "dossier", ["received_at", "procedure_code", "id"])
    op.create_index(
        "ix_dossier_completed",
        "dossier",
        [
            "completed_at",
            "received_at",
            "outcome",
            "procedure_code",
            "timeliness_committed",
            "timeliness_legal",
            "id",
        ],
    )
    if op.get_context().dialect.name == "sqlite":
        for statement in FTS_DDL:
            op.execute(statement)
        op.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('rebuild')")
    # The planner's figures for the new indexes (SQLite keeps none until asked).
    op.execute("ANALYZE dossier")
    op.execute("ANALYZE work_task")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    op.drop_index("ix_dossier_completed", "dossier")
    op.drop_index("ix_dossier_received", "dossier")
    op.drop_index("ix_dossier_submitted", "dossier")
    op.drop_index("ix_work_task_open", "work_task")
    op.create_index("ix_work_task_inbox", "work_task", ["status", "candidate_role", "due_at"])
