"""Lists of instruments for the pages: a business's own, the most urgent first, and the
department's search. The status rules are the registry's (:mod:`workflows.metrology.registry`);
here they only order and filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, bindparam, case
from sqlmodel import col, func, select

from workflows import permissions
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.db import reading
from workflows.folding import search_key
from workflows.metrology import registry
from workflows.metrology.models import Instrument
from workflows.models import User
from workflows.runtime import Runtime

# The order of urgency: no valid verification first (overdue, failed, never verified), then the
# ones ending soon, then the rest. Within a rank, the earliest end first.
URGENCY = (registry.OVERDUE, registry.FAILED, registry.NEVER, registry.EXPIRING, registry.VERIFIED_STATUS)


@dataclass(frozen=True)
class InstrumentList:
    items: list[Instrument]
    total: int
    page: int
    page_size: int
    today: date
    counts: dict[str, int]


def _urgency(today: date):  # type: ignore[no-untyped-def]
    return case(
        *[(registry._status_filter(s, today), rank) for rank, s in enumerate(URGENCY)],
        else_=len(URGENCY),
    )


def own_by_urgency(rt: Runtime, actor: User, page: int = 1, page_size: int = 50) -> InstrumentList:
    """A business's instruments, the most urgent first, with a count per status. Who may see them
    (a business whose tax code the department verified) is the registry's rule: it is asked first
    and raises ``Forbidden`` (code ``tax_code_unverified``) as the API does."""
    registry.may_see_own(actor)
    assert actor.tax_code is not None
    today = office_day(now())
    mine = col(Instrument.owner_tax_code) == actor.tax_code
    rank = _urgency(today)
    # Counted and ordered from ix_metrology_instrument_owner_status alone (the page's ids), then
    # only the page's rows read: an owner's instruments are spread over the table.
    with reading(rt.engine) as session:
        by_rank = dict(
            session.exec(select(rank, func.count()).where(mine).group_by(rank)).all()  # type: ignore[call-overload]
        )
        ids = session.exec(
            select(Instrument.id)
            .where(mine)
            .order_by(rank, col(Instrument.current_valid_until), col(Instrument.id))
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        found = {i.id: i for i in session.exec(select(Instrument).where(col(Instrument.id).in_(ids)))}
    items = [found[i] for i in ids]
    counts = {s: int(by_rank.get(i, 0)) for i, s in enumerate(URGENCY)}
    return InstrumentList(list(items), sum(counts.values()), page, page_size, today, counts)


def search(
    rt: Runtime,
    actor: User,
    q: str = "",
    status: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> InstrumentList:
    """The department's search: by serial number, model, approval mark, owner (name or tax code),
    commune or address (words anywhere, case and tones ignored); optionally one status; the most
    urgent first."""
    permissions.require(actor, permissions.METROLOGY_READ)
    today = office_day(now())
    where = []
    for word in search_key(q).split()[:6]:
        # The folded column (migration 0023): "dong ha" finds "Đông Hà" on every database. The
        # typed word is text, never a pattern: its % and _ match themselves.
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # The pattern is written into the statement (safely quoted), not bound: a prepared
        # statement's generic plan cannot tell a rare word (the trigram index, migration 0027)
        # from one most instruments hold (a scan of the table), and took the index for both.
        pattern = bindparam(None, f"%{escaped}%", type_=String, literal_execute=True)
        where.append(col(Instrument.search_text).like(pattern, escape="\\"))
    if status in registry.STATUSES:
        where.append(registry._status_filter(status, today))
    rank = _urgency(today)
    with reading(rt.engine) as session:
        total = session.exec(select(func.count()).select_from(Instrument).where(*where)).one()
        items = session.exec(
            select(Instrument)
            .where(*where)
            .order_by(rank, col(Instrument.current_valid_until), col(Instrument.id))
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    return InstrumentList(list(items), int(total), page, page_size, today, {})
