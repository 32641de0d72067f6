"""One page of a list and how many the whole list holds: what every list page shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import Select
from sqlmodel import Session


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int


def paginate(session: Session, query: Select[Any], page: int, page_size: int) -> Page:
    """The ``page``-th ``page_size`` rows of the ordered ``query`` (1-based) and its total count.
    Rows of one entity come back as that entity, rows of several as tuples."""
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    result = session.exec(query.offset((page - 1) * page_size).limit(page_size))  # type: ignore[call-overload]
    return Page(items=list(result.all()), total=int(total), page=page, page_size=page_size)
