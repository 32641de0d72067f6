"""What a dossier list's search box matches: every word typed, anywhere in the dossier's code,
applicant, tax code or subject, whatever the case, the tones or đ/Đ.

Both sides are folded the same way (``workflows.folding.search_key``): the dossier's copy is
``dossier.search_text`` (kept by ``workflows.models`` on every write), the words here. Each word is
a "contains" match (``LIKE '%word%'``), so "thep" finds "Thép", "dong ha" finds "Đông Hà" and
"0123" finds a tax code.

At a million dossiers neither database may read every row for it. Both first ask for at most
``PROBE`` + 1 dossiers holding the words: PostgreSQL through the LIKEs (its trigram index
``ix_dossier_search_trgm``, migration 0016, serves rare words), SQLite through its trigram FTS5
index (``dossier_search_fts``, 0018) for every word of three letters or more. When they are few,
the list reads just those (on SQLite the LIKEs still decide, so words of one or two letters count
too); when they are many, the words are common and the list reads the dossiers newest first until
a page is full, which a common word fills fast, and says "more than ``PROBE``" without counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from workflows.folding import search_key
from workflows.models import DOSSIER_SEARCH_FTS, Dossier
from workflows.paging import COUNT_CAP

MAX_WORDS = 8
PROBE = COUNT_CAP
_ESCAPE = "\\"
TRIGRAM = 3  # the FTS5 trigram index finds words of at least three characters
INDEXED_TAIL = 12
RECENT = 20_000  # PostgreSQL: the newest dossiers a common word is first looked for in


@dataclass(frozen=True)
class Found:
    """The condition a dossier meets to be found, and whether more than ``PROBE`` dossiers meet
    it (known from the index: the list need not count them)."""

    condition: ColumnElement[bool]
    many: bool = False
    # PostgreSQL: how many of the newest ``RECENT`` dossiers match (counted up to ``PROBE`` + 1,
    # only when that is more than ``PROBE``): the pages these cover are read from that window.
    recent: int = 0


def search_words(query: str) -> list[str]:
    """The distinct folded words of ``query`` (at most ``MAX_WORDS``)."""
    return list(dict.fromkeys(search_key(query).split()))[:MAX_WORDS]


def matches(query: str, indexed: bool = True) -> ColumnElement[bool] | None:
    """The condition a dossier meets when it holds every word of ``query``; None for no word.
    ``indexed=False``: the same test on an expression no index serves (``search_text || ''``),
    so that PostgreSQL reads a list of common words in its order instead of gathering every
    match through the trigram index to sort them."""
    words = search_words(query)
    if not words:
        return None
    column = Dossier.search_text if indexed else Dossier.search_text.concat("")
    return and_(*(column.like(f"%{_escaped(w)}%", escape=_ESCAPE) for w in words))


def find(session: Session, query: str) -> Found | None:
    """``matches``, narrowed by SQLite's trigram index where it helps (module docstring)."""
    condition = matches(query)
    if condition is None:
        return None
    if session.get_bind().dialect.name != "sqlite":
        return _postgres(session, query, condition)
    # A long word is asked of the index by its last characters: a superset the LIKEs then narrow,
    # and a cheap one (a dossier code's agency prefix is in every dossier's text; its end is not).
    indexed = [w[-INDEXED_TAIL:] for w in search_words(query) if len(w) >= TRIGRAM]
    if not indexed:
        return Found(condition)
    ids = (
        session.execute(
            text(f"SELECT rowid FROM {DOSSIER_SEARCH_FTS} WHERE {DOSSIER_SEARCH_FTS} MATCH :q LIMIT :n"),
            {"q": fts_query(indexed), "n": PROBE + 1},
        )
        .scalars()
        .all()
    )
    if len(ids) > PROBE:
        return Found(condition, many=True)
    return Found(and_(Dossier.id.in_(ids), condition))


def _postgres(session: Session, query: str, condition: ColumnElement[bool]) -> Found:
    """PostgreSQL's estimate of trigram matches is far too low for common words (tens of
    thousands of dossiers taken for hundreds): the newest ``RECENT`` dossiers are read first, and
    when they hold more than ``PROBE`` matches the words are common; otherwise the trigram index
    finds them (at most ``PROBE`` + 1)."""
    plain = matches(query, indexed=False)
    assert plain is not None
    recent = select(Dossier.id, Dossier.search_text).order_by(Dossier.submitted_at.desc(), Dossier.id.desc())
    newest = recent.limit(RECENT).subquery()
    in_recent = session.execute(
        select(func.count()).select_from(
            select(newest.c.id).where(_on(newest, query)).limit(PROBE + 1).subquery()
        )
    ).scalar_one()
    if in_recent > PROBE:
        return Found(plain, many=True, recent=in_recent)
    # Long words by their last characters, as on SQLite (a superset, narrowed by ``condition``).
    tails = and_(
        *(
            Dossier.search_text.like(f"%{_escaped(w[-INDEXED_TAIL:])}%", escape=_ESCAPE)
            for w in search_words(query)
        )
    )
    found = session.execute(select(Dossier.id).where(tails).limit(PROBE + 1)).scalars().all()
    if len(found) > PROBE:
        return Found(condition, many=True)
    return Found(and_(Dossier.id.in_(found), condition))


def newest_matching(query: str, offset: int, limit: int) -> Select[Any]:
    """A page of the dossiers among the newest ``RECENT`` holding every word of ``query``, newest
    first (``Found.recent``: the first pages of a common word's list)."""
    newest = (
        select(Dossier.id, Dossier.submitted_at, Dossier.search_text)
        .order_by(Dossier.submitted_at.desc(), Dossier.id.desc())
        .limit(RECENT)
        .subquery()
    )
    page = (
        select(newest.c.id)
        .where(_on(newest, query))
        .order_by(newest.c.submitted_at.desc(), newest.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return (
        select(Dossier).where(Dossier.id.in_(page)).order_by(Dossier.submitted_at.desc(), Dossier.id.desc())
    )


def _on(table: Any, query: str) -> ColumnElement[bool]:
    """``matches`` on another selectable's ``search_text`` column."""
    return and_(*(table.c.search_text.like(f"%{_escaped(w)}%", escape=_ESCAPE) for w in search_words(query)))


def fts_query(words: list[str]) -> str:
    """The words as an FTS5 query: each a quoted string (a substring with the trigram tokenizer),
    all of them required."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _escaped(word: str) -> str:
    # "%" and "_" typed by a user are letters, not wildcards.
    return word.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
