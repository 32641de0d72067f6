"""Dossiers already stuck by the restart fault are found and resumed by an administrator.

Before the engine adapter wired loop completions at parse time, a process that restored an award
application's scoring step without having created its sheets never counted them: the sheets
scored after a restart were completed, the scoring step waited for ever. ``_UnwiredModels`` is
such a process (the completion wiring taken off a fresh parse), so these tests make the stuck
dossiers exactly as the old tdcflow left them in databases.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from tests.restarts.drivers import START, START_CHOICE, CommandDriver, World, make_world
from tests.restarts.explorer import Choice
from workflows.db import reading
from workflows.engine import ProcessModel, parse_model
from workflows.errors import Conflict, Forbidden
from workflows.models import AuditEvent, Dossier, WorkTask
from workflows.runtime import ModelCache, Runtime
from workflows.stuck_instances import LOST_JOIN, find_stuck, resume

AWARD = "giai-thuong-chat-luong-quoc-gia"


class _UnwiredModels(ModelCache):
    """The models of a process as an older tdcflow parsed them: multi-instance steps not wired to
    their instances' completion (SpiffWorkflow wires them only when it creates the instances)."""

    def get(self, version_id: int) -> ProcessModel:
        model = super().get(version_id)
        fresh = parse_model(model.process_id, model.sources)
        for process_spec in (fresh.spec, *fresh.subprocess_specs.values()):
            for task_spec in process_spec.task_specs.values():
                if hasattr(task_spec, "merge_child"):
                    inner = process_spec.task_specs[task_spec.task_spec]
                    inner.completed_event.disconnect(task_spec.merge_child)
        return fresh


def _stuck_award(world: World) -> CommandDriver:
    """An application scored by member 1, then (after a restart of the old tdcflow) by 2 and 3."""
    driver = CommandDriver(world, AWARD)
    assert driver.take(Choice(START_CHOICE))
    assert driver.take(Choice("check_completeness"))  # received
    assert driver.take(Choice("score_application", 0))
    driver.rt = dataclasses.replace(world.rt, models=_UnwiredModels(world.rt.engine))
    assert driver.take(Choice("score_application", 0))
    assert driver.take(Choice("score_application", 0))
    driver.rt = world.rt
    return driver


def _open_steps(rt: Runtime, dossier_id: int) -> list[str]:
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(WorkTask.spec_name).where(WorkTask.dossier_id == dossier_id, WorkTask.status == "open")
            ).all()
        )


def test_a_stuck_award_application_is_listed_and_resumed_once(rt: Runtime):
    with time_machine.travel(START, tick=False) as traveller:
        world = make_world(rt, traveller)
        healthy = CommandDriver(world, AWARD)
        healthy.take(Choice(START_CHOICE))
        driver = _stuck_award(world)
        assert _open_steps(rt, driver.dossier_id) == []
        with reading(rt.engine) as session:
            code = session.get(Dossier, driver.dossier_id).code

        [stuck] = find_stuck(rt)
        assert (stuck.code, stuck.reason, stuck.status) == (code, LOST_JOIN, "processing")
        assert [join.instances for join in stuck.lost_joins] == [2]

        with pytest.raises(Forbidden):
            resume(rt, world.officers["clerk"], code)
        counted = resume(rt, world.officers["admin"], code)
        assert [(join.element, join.instances) for join in counted] == [("council_scoring", 2)]
        # The three sheets are counted: the application goes on to the site visit.
        assert _open_steps(rt, driver.dossier_id) == ["site_visit"]
        with reading(rt.engine) as session:
            dossier = session.get(Dossier, driver.dossier_id)
            assert dossier.data["aggregation"]["scored_count"] == 3
            event = session.exec(
                select(AuditEvent).where(
                    AuditEvent.dossier_id == dossier.id, AuditEvent.action == "instance_resumed"
                )
            ).one()
            assert event.actor_id == world.officers["admin"].id
        assert find_stuck(rt) == []
        with pytest.raises(Conflict) as refused:
            resume(rt, world.officers["admin"], code)
        assert refused.value.code == "not_stuck"
        # The healthy dossier, waiting for the clerk, was never listed nor touched.
        assert _open_steps(rt, healthy.dossier_id) == ["check_completeness"]


def _tdcflow(rt: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    settings = rt.settings
    env = {
        **os.environ,
        "TDCFLOW_DATABASE_URL": settings.database_url,
        "TDCFLOW_DATA_DIR": str(settings.data_dir),
        "TDCFLOW_SECRET_KEY": settings.secret_key,
        "TDCFLOW_BPMN_DIR": str(settings.bpmn_dir),
    }
    command = [str(Path(sys.executable).with_name("tdcflow")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_administrator_finds_and_resumes_stuck_dossiers_from_the_command_line(rt: Runtime):
    with time_machine.travel(START, tick=False) as traveller:
        world = make_world(rt, traveller)
        driver = _stuck_award(world)
    with reading(rt.engine) as session:
        code = session.get(Dossier, driver.dossier_id).code

    listed = _tdcflow(rt, "check", "--instances")
    assert listed.returncode == 1, listed.stderr
    assert f"STUCK  {code}  {AWARD}  status=processing  [resumable]" in listed.stdout

    # Each call is a new process (most of its cost the start); the command's refusals and its
    # empty listing are the same code on either database and are run on SQLite only: on
    # PostgreSQL, the listing and the resumption (what reads and writes the dossiers) are run.
    on_sqlite = rt.engine.dialect.name == "sqlite"
    if on_sqlite:
        refused = _tdcflow(rt, "resume", "--by", world.officers["clerk"].email)
        assert refused.returncode == 2
        assert "not an active administrator" in refused.stderr

    resumed = _tdcflow(rt, "resume", "--by", world.officers["admin"].email)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed  {code}" in resumed.stdout
    assert _open_steps(rt, driver.dossier_id) == ["site_visit"]

    if on_sqlite:
        again = _tdcflow(rt, "check", "--instances")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "no stuck dossier" in again.stdout
    else:
        assert find_stuck(rt) == []
