"""Every procedure of the catalogue, walked on every path through the commands, once in one
process and once with a restart before every single command — on SQLite and PostgreSQL.

A restart here is what a new ``tdcflow serve`` or ``tdcflow worker`` process has: the stored
rows and a model cache that has parsed nothing yet, so every command parses the model version its
dossier is pinned to afresh and restores the instance onto it. (The parsed models are the only
state a process keeps between commands; ``test_server_restart.py`` checks the same across real
processes.) The walks choose among every waiting task, with every distinct payload its form
allows (enums, booleans, numbers at both ends), and the next timer firing; they go on until
every element of the model was reached.
"""

from __future__ import annotations

import pytest
import time_machine

from tests.restarts.drivers import START, CommandDriver, make_world
from tests.restarts.explorer import explore, first_difference, replay
from workflows.runtime import Runtime

PROCEDURES = [
    "cong-bo-hop-chuan-hop-quy",
    "kiem-tra-chat-luong-hang-nhap-khau",
    "giai-thuong-chat-luong-quoc-gia",
    "hoi-dap-tbt",
]


def test_every_procedure_of_the_catalogue_is_walked(rt: Runtime):
    assert sorted(rt.catalogue.procedures) == sorted(PROCEDURES)


@pytest.mark.parametrize("procedure_code", PROCEDURES)
def test_every_path_survives_a_restart_before_every_command(rt: Runtime, procedure_code: str):
    with time_machine.travel(START, tick=False) as traveller:
        world = make_world(rt, traveller)
        elements = rt.procedure(procedure_code).model.element_ids()
        walks, covered = explore(lambda: CommandDriver(world, procedure_code), elements, max_walks=30)
        assert covered == elements, f"never reached: {sorted(elements - covered)}"
        for walk in walks:
            again = replay(lambda: CommandDriver(world, procedure_code), walk.choices, restart=True)
            difference = first_difference(walk, again)
            assert difference is None, f"walk {[str(c) for c in walk.choices]} differs {difference}"
