"""The demo install (``make run``) shows a living system: every procedure with dossiers in several
states, and work waiting in the inbox of every kind of officer."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from workflows import queries
from workflows.clock import as_utc, now
from workflows.db import transaction
from workflows.demo import create_demo_accounts, create_demo_dossiers, demo_accounts
from workflows.models import Dossier, User

# The demo is loaded whenever someone runs it: in the office's first hour (its dossier due next was
# missed from 07:30 to 08:30), at night, on a Sunday.
LOAD_MOMENTS = {
    "monday-07:45": "2026-12-07T07:45:00+07:00",
    "sunday-22:00": "2026-12-06T22:00:00+07:00",
}


@pytest.mark.parametrize("moment", LOAD_MOMENTS.values(), ids=LOAD_MOMENTS.keys())
def test_every_procedure_has_dossiers_in_several_states_and_every_officer_has_work(rt, moment):
    with time_machine.travel(datetime.fromisoformat(moment), tick=True):
        _check_the_demo(rt)


def _check_the_demo(rt) -> None:
    create_demo_accounts(rt)
    create_demo_dossiers(rt)
    with transaction(rt.engine) as session:
        states: dict[str, set[str]] = defaultdict(set)
        for procedure, status in session.exec(select(Dossier.procedure_code, Dossier.status)).all():
            states[procedure].add(status)
        users = {u.email: u for u in session.exec(select(User)).all()}
        scoring = session.exec(select(Dossier).where(Dossier.status == "scoring")).all()
    assert set(states) == set(rt.catalogue.procedures)
    for procedure, seen in states.items():
        assert len(seen) >= 2, (procedure, seen)

    for account in demo_accounts(rt):
        if "business" in account.roles or "admin" in account.roles:
            continue
        if account.email == "hoidong@demo.tdcflow.vn":
            continue  # the council member who has already scored the dossier being scored
        waiting = queries.inbox(rt, users[account.email]).items
        assert waiting, f"{account.email} ({', '.join(account.roles)}) has nothing in the inbox"

    # Parallel score sheets name the current step once.
    assert scoring and all(d.current_step == "Chấm điểm 7 tiêu chí" for d in scoring), [
        d.current_step for d in scoring
    ]

    # Late and at-risk dossiers (one demo load serves both checks): the at-risk page lists one
    # past its appointment and one due within a working day; the statistics count a late one.
    risky = queries.at_risk(rt, 1)
    instant = now()
    overdue = [d for d in risky if as_utc(d.appointment_at) < instant]
    coming = [d for d in risky if as_utc(d.appointment_at) >= instant]
    assert overdue and coming, [(d.code, d.appointment_at) for d in risky]
    with transaction(rt.engine) as session:
        late = session.exec(select(Dossier).where(Dossier.timeliness_committed == "late")).all()
    assert late and all(d.timeliness_legal == "late" for d in late)
