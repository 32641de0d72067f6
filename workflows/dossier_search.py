"""What a dossier list's search box matches: every word typed, anywhere in the dossier's code,
applicant, tax code or subject, whatever the case, the tones or đ/Đ.

Both sides are folded the same way (``workflows.folding.search_key``): the dossier's copy is
``dossier.search_text`` (kept by ``workflows.models`` on every write), the words here. Each word is
a "contains" match (``LIKE '%word%'``), so "thep" finds "Thép", "dong ha" finds "Đông Hà" and
"0123" finds a tax code. PostgreSQL answers from a trigram index (``ix_dossier_search_trgm``,
migration 0016); SQLite reads the column of every dossier the other filters leave, which stays
in milliseconds at a province's volume (tens of thousands of dossiers).
"""

from __future__ import annotations

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement

from workflows.folding import search_key
from workflows.models import Dossier

MAX_WORDS = 8
_ESCAPE = "\\"


def search_words(query: str) -> list[str]:
    """The distinct folded words of ``query`` (at most ``MAX_WORDS``)."""
    return list(dict.fromkeys(search_key(query).split()))[:MAX_WORDS]


def matches(query: str) -> ColumnElement[bool] | None:
    """The condition a dossier meets when it holds every word of ``query``; None for no word."""
    words = search_words(query)
    if not words:
        return None
    return and_(*(Dossier.search_text.like(f"%{_escaped(w)}%", escape=_ESCAPE) for w in words))


def _escaped(word: str) -> str:
    # "%" and "_" typed by a user are letters, not wildcards.
    return word.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
