"""The TBT inquiry point's tables. Every instant is aware UTC; dates are calendar dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import DDL, JSON, Column, Date, DateTime, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from workflows.clock import now


def _created() -> Any:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False))


class KnowledgeEntry(SQLModel, table=True):
    """A published question and answer (edited and anonymised by the officer), for everyone."""

    __tablename__ = "tbt_kb_entry"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    subject: str = Field(max_length=300)
    product: str = Field(default="", max_length=300)
    hs_code: str = Field(default="", max_length=13)
    market: str = Field(default="", max_length=120)
    topic: str = Field(default="", max_length=40)
    question: str = Field(sa_column=Column(Text, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published_at: datetime = _created()
    published_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    # Everything searchable, folded (workflows.folding): both spellings of Vietnamese match.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))


# SQLite: an FTS5 index kept in step by workflows.procedures.tbt.knowledge in the writing transaction.
event.listen(
    KnowledgeEntry.__table__,
    "after_create",
    DDL("CREATE VIRTUAL TABLE IF NOT EXISTS tbt_kb_fts USING fts5(search_text)").execute_if(dialect="sqlite"),
)
event.listen(
    KnowledgeEntry.__table__,
    "after_drop",
    DDL("DROP TABLE IF EXISTS tbt_kb_fts").execute_if(dialect="sqlite"),
)
# PostgreSQL: full-text search over the folded column, 'simple' configuration (no stemming).
event.listen(
    KnowledgeEntry.__table__,
    "after_create",
    DDL(
        "CREATE INDEX IF NOT EXISTS ix_tbt_kb_fulltext ON tbt_kb_entry "
        "USING GIN (to_tsvector('simple', search_text))"
    ).execute_if(dialect="postgresql"),
)


class WtoNotification(SQLModel, table=True):
    """A WTO TBT notification (G/TBT/N/...) registered by the inquiry point."""

    __tablename__ = "tbt_wto_notification"

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=120)
    symbol: str = Field(max_length=60, unique=True, index=True)
    title: str = Field(max_length=500)
    products: str = Field(sa_column=Column(Text, nullable=False))
    hs_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    objective: str = Field(default="", sa_column=Column(Text, nullable=False))
    circulated_on: date = Field(sa_column=Column(Date, nullable=False))
    comment_deadline: date = Field(sa_column=Column(Date, nullable=False, index=True))
    registered_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _created()


class WtoSubscription(SQLModel, table=True):
    """A business's interest: alerted of notifications whose HS codes start with ``hs_prefix``
    and/or whose text contains ``keyword`` (both given: both must match)."""

    __tablename__ = "tbt_wto_subscription"
    __table_args__ = (UniqueConstraint("user_id", "hs_prefix", "keyword"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    hs_prefix: str = Field(default="", max_length=10)
    keyword: str = Field(default="", max_length=100)
    created_at: datetime = _created()


class WtoComment(SQLModel, table=True):
    """A business's comment on a notification, sent before the comment deadline."""

    __tablename__ = "tbt_wto_comment"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="tbt_wto_notification.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _created()
