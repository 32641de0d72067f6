"""The administrator's lists of accounts: officers, businesses and TBT visitors apart, each
searchable and paged.

Which list an account is in follows from what it holds: a business account holds the role
``business`` (and a tax code); a TBT visitor holds no password (nor any role); every other account
is an officer's. The search folds case, Vietnamese diacritics and đ/Đ ("dong ha" finds "Đông Hà")
over e-mail, name, organisation, tax code and job title. It runs over the rows of one list in
Python: a province has some thousands of accounts, and the folding is the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlmodel import select

from workflows.accounts import has_password
from workflows.db import reading
from workflows.models import User

if TYPE_CHECKING:
    from workflows.runtime import Runtime

Kind = Literal["officers", "businesses", "visitors"]
KINDS: tuple[Kind, ...] = ("officers", "businesses", "visitors")


def kind_of(user: User) -> Kind:
    if "business" in user.roles:
        return "businesses"
    if not has_password(user) and not user.roles:
        return "visitors"
    return "officers"


def fold(text: str) -> str:
    """Lower case without diacritics, đ → d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _haystack(user: User) -> str:
    parts = (user.email, user.full_name, user.organisation_name, user.tax_code, user.job_title)
    return fold(" ".join(p for p in parts if p))


@dataclass(frozen=True)
class AccountPage:
    kind: Kind
    query: str
    accounts: list[User]
    total: int  # accounts of the list matching the query
    page: int
    pages: int
    counts: dict[Kind, int]  # every list's size, whatever the query


def account_page(rt: Runtime, kind: Kind, query: str = "", page: int = 1, per_page: int = 25) -> AccountPage:
    """One page of one list, active accounts first, then by e-mail; a page past the last shows
    the last."""
    with reading(rt.engine) as session:
        users = list(session.exec(select(User).order_by(User.is_active.desc(), User.email)).all())
    counts: dict[Kind, int] = dict.fromkeys(KINDS, 0)
    listed: list[User] = []
    words = fold(query).split()
    for user in users:
        user_kind = kind_of(user)
        counts[user_kind] += 1
        if user_kind == kind and all(word in _haystack(user) for word in words):
            listed.append(user)
    pages = max(1, -(-len(listed) // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return AccountPage(kind, query, listed[start : start + per_page], len(listed), page, pages, counts)
