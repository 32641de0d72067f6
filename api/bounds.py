"""Bounds on the numbers and days requests carry, in one place: a page past any the database can
count to, a day in year 1 or 9999, an id past 64 bits is a field error (422, or a 400 page), never
an overflow in SQLite or in ``datetime`` (the ranges are forms.limits')."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import Field

from forms.limits import FIRST_DAY, LARGEST_INTEGER, LAST_DAY

# No list is read that far: 10,000 pages of the largest page size is two million rows.
LAST_PAGE = 10_000
LARGEST_PAGE_SIZE = 200

PageNumber = Annotated[int, Query(ge=1, le=LAST_PAGE, description="Trang / page, from 1")]
PageSize = Annotated[int, Query(ge=1, le=LARGEST_PAGE_SIZE, description="Số mục mỗi trang / items per page")]

# A calendar day from a query or a body: 01/01/1900..31/12/2999.
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]

# A row id in a body (a council member, a user): a number the database can hold.
RowIdValue = Annotated[int, Field(ge=1, le=LARGEST_INTEGER)]


def offset_of(page: int, page_size: int) -> int:
    return (page - 1) * page_size
