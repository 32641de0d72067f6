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

from sqlalchemy import and_, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from workflows.folding import search_key
from workflows.models import DOSSIER_SEARCH_FTS, Dossier
from workflows.paging import COUNT_CAP

MAX_WORDS = 8
PROBE = COUNT_CAP
_ESCAPE = "\\"
TRIGRAM = 3  # the FTS5 trigram index finds words of at least three characters
INDEXED_TAIL = 12


@dataclass(frozen=True)
class Found:
    """The condition a dossier meets to be found, and whether more than ``PROBE`` dossiers meet
    it (known from the index: the list need not count them)."""

    condition: ColumnElement[bool]
    many: bool = False


def search_words(query: str) -> list[str]:
    """The distinct folded words of ``query`` (at most ``MAX_WORDS``)."""
    return list(dict.fromkeys(search_key(query).split()))[:MAX_WORDS]


def matches(query: str) -> ColumnElement[bool] | None:
    """The condition a dossier meets when it holds every word of ``query``; None for no word."""
    words = search_words(query)
    if not words:
        return None
    return and_(*(Dossier.search_text.like(f"%{_escaped(w)}%", escape=_ESCAPE) for w in words))


def find(session: Session, query: str) -> Found | None:
    """``matches``, narrowed by SQLite's trigram index where it helps (module docstring)."""
    condition = matches(query)
    if condition is None:
        return None
    if session.get_bind().dialect.name != "sqlite":
        # PostgreSQL: the LIKEs themselves, at most PROBE + 1 (the trigram index for rare words,
        # a short scan for common ones: the planner's choice).
        found = session.execute(select(Dossier.id).where(condition).limit(PROBE + 1)).scalars().all()
        if len(found) > PROBE:
            return Found(condition, many=True)
        return Found(Dossier.id.in_(found))
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


def fts_query(words: list[str]) -> str:
    """The words as an FTS5 query: each a quoted string (a substring with the trigram tokenizer),
    all of them required."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _escaped(word: str) -> str:
    # "%" and "_" typed by a user are letters, not wildcards.
    return word.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
