"""One page of a list and how many the whole list holds: what every list page shows.

A list that can grow without bound (the dossier lists, the inbox) counts at most ``COUNT_CAP``
rows: past that it says "more than 1,000" (``Page.more``) instead of counting a million rows on
every page it shows. Pages stay reachable one after the other ("next" while a page is full).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import Select
from sqlmodel import Session

COUNT_CAP = 1000


@dataclass(frozen=True)
class Page:
    items: list[Any]
    # How many the list holds; with ``more``, at least this many (the count stopped at the cap).
    total: int
    page: int
    page_size: int
    more: bool = False

    @property
    def has_next(self) -> bool:
        """Whether a next page exists (known from a full page past the counted rows)."""
        if self.more:
            return len(self.items) == self.page_size
        return self.page * self.page_size < self.total


def count(session: Session, query: Select[Any], cap: int | None = None) -> tuple[int, bool]:
    """How many rows ``query`` gives (at most ``cap``) and whether there are more than ``cap``."""
    unordered = query.order_by(None)
    if cap is not None:
        unordered = unordered.limit(cap + 1)
    total = int(session.execute(select(func.count()).select_from(unordered.subquery())).scalar_one())
    if cap is not None and total > cap:
        return cap, True
    return total, False


def paginate(session: Session, query: Select[Any], page: int, page_size: int, cap: int | None = None) -> Page:
    """The ``page``-th ``page_size`` rows of the ordered ``query`` (1-based) and its total count
    (at most ``cap``: see ``Page.more``). Rows of one entity come back as that entity, rows of
    several as tuples."""
    total, more = count(session, query, cap)
    result = session.exec(query.offset((page - 1) * page_size).limit(page_size))  # type: ignore[call-overload]
    return page_of(list(result.all()), total, more, page, page_size)


def page_of(items: list[Any], total: int, more: bool, page: int, page_size: int) -> Page:
    """The page of ``items`` of a list counted ``total`` (``more``: past the cap). A page past
    the cap tells more: a part-full page ends the list (its count is exact again), a full one
    shows at least how many there are so far."""
    if more:
        seen = (page - 1) * page_size + len(items)
        if 0 < len(items) < page_size:
            return Page(items, seen, page, page_size)
        total = max(total, seen)
    return Page(items=items, total=total, page=page, page_size=page_size, more=more)
