"""The range of numbers and days any input may carry, whatever its field.

A day is between 01/01/1900 and 31/12/2999: a day outside is a typing mistake (0202 for 2025)
and, turned into the instants that bound a search in UTC, overflows Python's ``datetime``.
An integer fits a signed 64-bit column: anything larger cannot be a row id, a count or an
amount here, and the database refuses to bind it.
"""

from __future__ import annotations

from datetime import date

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
LARGEST_INTEGER = 2**63 - 1
SMALLEST_INTEGER = -(2**63)


def day_in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def integer_in_range(number: int) -> bool:
    return SMALLEST_INTEGER <= number <= LARGEST_INTEGER
