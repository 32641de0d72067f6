"""The knowledge base: published questions and answers, and their full-text search.

Both spellings of Vietnamese find an entry ("thép không gỉ" and "thep khong gi"): the searchable
text and the query are folded the same way (``folding.fold``). SQLite searches an FTS5 table
written in the same transaction as the entry; PostgreSQL a GIN index on
``to_tsvector('simple', search_text)``. Words match as prefixes ("thep" finds "thép", "7219" finds
"7219.33").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from workflows import audit, permissions
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import FieldProblem, InvalidInput, not_found
from workflows.folding import fold, highlight, terms
from workflows.locking import lock_dossier
from workflows.models import User
from workflows.procedures.tbt import actions
from workflows.procedures.tbt.models import KnowledgeEntry

if TYPE_CHECKING:
    from workflows.runtime import Runtime

PAGE_SIZE = 10


def searchable_text(entry: KnowledgeEntry) -> str:
    parts = [
        entry.subject,
        entry.product,
        entry.hs_code,
        entry.hs_code.replace(".", ""),
        entry.market,
        entry.question,
        entry.answer,
        *entry.references,
    ]
    return fold(" ".join(p for p in parts if p))


def save_entry(session: Session, entry: KnowledgeEntry) -> KnowledgeEntry:
    """Insert or update an entry and its search index, in the caller's transaction."""
    entry.search_text = searchable_text(entry)
    session.add(entry)
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM tbt_kb_fts WHERE rowid = :id"), {"id": entry.id})
        session.execute(
            text("INSERT INTO tbt_kb_fts (rowid, search_text) VALUES (:id, :t)"),
            {"id": entry.id, "t": entry.search_text},
        )
    return entry


def delete_entry(session: Session, entry: KnowledgeEntry) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM tbt_kb_fts WHERE rowid = :id"), {"id": entry.id})
    session.delete(entry)


@dataclass(frozen=True)
class Hit:
    entry: KnowledgeEntry
    subject: list[tuple[str, bool]]
    snippet: list[tuple[str, bool]]


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def search(rt: Runtime, query: str, page: int = 1, page_size: int = PAGE_SIZE) -> Results:
    """Ranked entries matching every word of ``query`` (newest first when the query is empty)."""
    page = max(1, page)
    words = terms(query)
    offset = (page - 1) * page_size
    with reading(rt.engine) as session:
        if not words:
            total = session.exec(select(func.count()).select_from(KnowledgeEntry)).one()
            entries = list(
                session.exec(
                    select(KnowledgeEntry)
                    .order_by(KnowledgeEntry.published_at.desc(), KnowledgeEntry.id.desc())
                    .offset(offset)
                    .limit(page_size)
                ).all()
            )
        elif session.get_bind().dialect.name == "sqlite":
            match = " ".join(f'"{w}"*' for w in words)
            total = session.execute(
                text("SELECT count(*) FROM tbt_kb_fts WHERE tbt_kb_fts MATCH :q"), {"q": match}
            ).scalar_one()
            ids = [
                row[0]
                for row in session.execute(
                    text(
                        "SELECT rowid FROM tbt_kb_fts WHERE tbt_kb_fts MATCH :q "
                        "ORDER BY bm25(tbt_kb_fts), rowid DESC LIMIT :n OFFSET :o"
                    ),
                    {"q": match, "n": page_size, "o": offset},
                )
            ]
            entries = _in_order(session, ids)
        else:
            tsquery = " & ".join(f"{w}:*" for w in words)
            where = "to_tsvector('simple', search_text) @@ to_tsquery('simple', :q)"
            total = session.execute(
                text(f"SELECT count(*) FROM tbt_kb_entry WHERE {where}"), {"q": tsquery}
            ).scalar_one()
            ids = [
                row[0]
                for row in session.execute(
                    text(
                        f"SELECT id FROM tbt_kb_entry WHERE {where} ORDER BY "
                        "ts_rank(to_tsvector('simple', search_text), to_tsquery('simple', :q)) DESC, "
                        "id DESC LIMIT :n OFFSET :o"
                    ),
                    {"q": tsquery, "n": page_size, "o": offset},
                )
            ]
            entries = _in_order(session, ids)
    hits = [
        Hit(
            entry=e,
            subject=highlight(e.subject, words),
            snippet=highlight(_snippet_source(e, words), words, width=260),
        )
        for e in entries
    ]
    return Results(query=query, hits=hits, total=int(total), page=page, page_size=page_size)


def _snippet_source(entry: KnowledgeEntry, words: list[str]) -> str:
    """The answer, unless only the question mentions the words."""
    answer = fold(entry.answer)
    if not words or any(w in answer for w in words):
        return entry.answer
    return entry.question


def _in_order(session: Session, ids: list[int]) -> list[KnowledgeEntry]:
    if not ids:
        return []
    found = {e.id: e for e in session.exec(select(KnowledgeEntry).where(KnowledgeEntry.id.in_(ids))).all()}
    return [found[i] for i in ids if i in found]


def get_entry(rt: Runtime, entry_id: int) -> KnowledgeEntry:
    with reading(rt.engine) as session:
        entry = session.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise not_found("câu hỏi đã công bố", "Published answer")
    return entry


def entry_json(entry: KnowledgeEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "subject": entry.subject,
        "product": entry.product,
        "hs_code": entry.hs_code,
        "market": entry.market,
        "topic": entry.topic,
        "question": entry.question,
        "answer": entry.answer,
        "references": list(entry.references),
        "published_at": entry.published_at.isoformat() if entry.published_at else None,
        "url": f"/tbt/kb/{entry.id}",
    }


# --- the officer's corrections ------------------------------------------------------------------


def _officer_only(actor: User) -> None:
    permissions.require(actor, actions.KB_EDIT)


@command("edit_knowledge_entry")
def edit_entry(rt: Runtime, actor: User, entry_id: int, changes: dict[str, Any]) -> KnowledgeEntry:
    """Correct a published entry (subject, question, answer); the search index follows."""
    _officer_only(actor)
    limits = {"subject": (5, 300), "question": (10, 8000), "answer": (10, 12000)}
    problems = []
    cleaned: dict[str, str] = {}
    for field, (low, high) in limits.items():
        if field not in changes:
            continue
        value = str(changes[field] or "").strip()
        if not low <= len(value) <= high:
            problems.append(
                FieldProblem(
                    field, f"Từ {low} đến {high} ký tự.", f"Between {low} and {high} characters.", "length"
                )
            )
        cleaned[field] = value
    if problems:
        raise InvalidInput(
            "Nội dung sửa chưa hợp lệ.", "The correction is not valid.", "validation_error", problems
        )
    with transaction(rt.engine) as session:
        entry = _locked_entry(session, entry_id)
        before = {k: getattr(entry, k) for k in cleaned}
        for field, value in cleaned.items():
            setattr(entry, field, value)
        save_entry(session, entry)
        audit.record(
            session,
            f"dossier:{entry.dossier_id}",
            "tbt_entry_edited",
            actor,
            {"entry_id": entry.id, "before": before, "after": cleaned},
            dossier_id=entry.dossier_id,
        )
        return entry


def _locked_entry(session: Session, entry_id: int) -> KnowledgeEntry:
    """The entry, read after locking its dossier (whose audit stream records the change)."""
    dossier_id = session.exec(select(KnowledgeEntry.dossier_id).where(KnowledgeEntry.id == entry_id)).first()
    if dossier_id is None:
        raise not_found("câu hỏi đã công bố", "Published answer")
    lock_dossier(session, dossier_id)
    entry = session.get(KnowledgeEntry, entry_id, populate_existing=True)
    if entry is None:  # unpublished by the command that held the lock
        raise not_found("câu hỏi đã công bố", "Published answer")
    return entry


@command("unpublish_knowledge_entry")
def unpublish(rt: Runtime, actor: User, entry_id: int, reason: str) -> None:
    """Take an entry out of the knowledge base (e.g. the regulation it cites was replaced)."""
    _officer_only(actor)
    if len(reason.strip()) < 5:
        raise InvalidInput(
            "Nêu lý do gỡ bỏ.",
            "Give the reason for taking it down.",
            "validation_error",
            [FieldProblem("reason", "Ít nhất 5 ký tự.", "At least 5 characters.", "minLength")],
        )
    with transaction(rt.engine) as session:
        entry = _locked_entry(session, entry_id)
        audit.record(
            session,
            f"dossier:{entry.dossier_id}",
            "tbt_entry_unpublished",
            actor,
            {"entry_id": entry.id, "subject": entry.subject, "reason": reason.strip()},
            dossier_id=entry.dossier_id,
        )
        delete_entry(session, entry)
