"""Every procedure of the catalogue, walked on every path through the commands, once in one
process and once with a restart before every single command — on SQLite and PostgreSQL.

A restart here is what a new ``tdcflow serve`` or ``tdcflow worker`` process has: the stored
rows and a model cache that has parsed nothing yet, so every command parses the model version its
dossier is pinned to afresh and restores the instance onto it. (The parsed models are the only
state a process keeps between commands; ``test_server_restart.py`` checks the same across real
processes.) The walks choose among every waiting task, with every distinct payload its form
allows (enums, booleans, numbers at both ends), and the next timer firing; they go on until
every element of the model was reached.

On PostgreSQL the replays with restarts are those of a few walks that together reach every element
the walks reach (``covering``); SQLite replays every walk. What a restart reads back from the
database (the instance's packed state, the dossier's rows and their instants) is then read back
from PostgreSQL at every element too; the many orders in which the walks reach the same elements
are the engine's and the commands' concern, the same code on either database, and SQLite replays
them all.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from tests.restarts.drivers import START, CommandDriver, make_world
from tests.restarts.explorer import covering, explore, first_difference, replay
from tests.support import local
from workflows.runtime import Runtime

PROCEDURES = [
    "cong-bo-hop-chuan-hop-quy",
    "kiem-tra-chat-luong-hang-nhap-khau",
    "giai-thuong-chat-luong-quoc-gia",
    "hoi-dap-tbt",
    "kiem-tra-do-luong",
]


def test_every_procedure_of_the_catalogue_is_walked(rt: Runtime):
    assert sorted(rt.catalogue.procedures) == sorted(PROCEDURES)


# The TBT inquiry's elements reached only when the pause's ceiling comes before the first reminder.
TBT_CEILING_ONLY = frozenset({"pause_ceiling", "escalate_ceiling", "end_escalated"})

# Each procedure's versions of its rules, by a Monday 09:00 on which each is in force.
VERSIONS = [
    ("cong-bo-hop-chuan-hop-quy", START),
    ("kiem-tra-chat-luong-hang-nhap-khau", START),  # measures set by the goods' QCVN
    ("kiem-tra-chat-luong-hang-nhap-khau", local(2026, 7, 6, 9, 0)),  # by the goods' risk level
    ("giai-thuong-chat-luong-quoc-gia", START),
    ("hoi-dap-tbt", START),
    ("kiem-tra-do-luong", START),
]


def test_every_version_of_every_procedure_is_walked(rt: Runtime):
    walked = {(code, rt.procedure_for_new_dossier(code, start).version_key) for code, start in VERSIONS}  # type: ignore[union-attr]
    assert walked == {(p.code, p.version_key) for p in rt.catalogue.all_versions()}


@pytest.mark.parametrize(
    ("procedure_code", "start"), VERSIONS, ids=lambda v: v if isinstance(v, str) else f"{v:%Y-%m-%d}"
)
def test_every_path_survives_a_restart_before_every_command(
    rt: Runtime, procedure_code: str, start: datetime, monkeypatch: pytest.MonkeyPatch
):
    # The TBT inquiry's timers on a forwarded question, walked in two settings: a ceiling after two
    # reminders (5, 10 working days: the repeated reminder), and one before the first reminder
    # (the ceiling itself): a walk rarely lets three timers in a row fire before the reply comes.
    # The first setting's walks go on until they reached every element but the ceiling's own,
    # which it cannot reach (asked for them, it would walk on to its limit of walks, reaching
    # nothing new); the second's until they reached what is left.
    settings = (
        [("11", TBT_CEILING_ONLY), ("4", frozenset())]
        if procedure_code == "hoi-dap-tbt"
        else [("20", frozenset())]
    )
    covered: frozenset[str] = frozenset()
    replay_all = rt.engine.dialect.name == "sqlite"
    with time_machine.travel(start, tick=False) as traveller:
        world = make_world(rt, traveller)
        driver = lambda: CommandDriver(world, procedure_code, start)  # noqa: E731
        elements = driver().procedure.model.element_ids()
        for ceiling, left_for_later in settings:
            assert left_for_later <= elements, sorted(left_for_later - elements)
            monkeypatch.setenv("TDCFLOW_TBT_PAUSE_CEILING_DAYS", ceiling)
            walks, reached = explore(driver, elements - covered - left_for_later, max_walks=80)
            covered |= reached
            for walk in walks if replay_all else covering(walks):
                again = replay(driver, walk.choices, restart=True)
                difference = first_difference(walk, again)
                assert difference is None, f"walk {[str(c) for c in walk.choices]} differs {difference}"
    assert covered == elements, f"never reached: {sorted(elements - covered)}"
