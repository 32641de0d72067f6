"""Deploying a procedure version and moving running dossiers onto it (workflows.deployments,
workflows.instance_migration).

The version deployed here (``tests/fixtures/deployments/declaration_2027``) renames the
declaration's examination step ``examine`` → ``appraise`` and adds a specialist's cross-check
(``cross_check``, with a form of its own) before the leader's approval. SpiffWorkflow's diff
guesses ``examine`` → ``cross_check`` (the added step takes the removed one's place between the
same neighbours), which is wrong: the administrator's mapping ``examine`` → ``appraise`` decides.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlmodel import select

from tests.conftest import make_settings
from tests.restarts.drivers import START, CommandDriver, World, make_world
from tests.restarts.explorer import TIMER, Choice
from tests.restarts.samples import SampleContext, count, payload
from tests.test_migrations import cli  # noqa: F401  (the fixture)
from workflows import deployments, instance_migration
from workflows.audit import verify_stream
from workflows.clock import now, to_local
from workflows.config import get_settings
from workflows.db import reading
from workflows.errors import Conflict, InvalidInput
from workflows.instance_migration import Selection
from workflows.models import AuditEvent, Dossier, InstanceMigration, ProcessInstance, WorkTask
from workflows.runtime import Runtime, build_runtime

BUNDLE = Path(__file__).parent / "fixtures" / "deployments" / "declaration_2027"
DECLARATION = "cong-bo-hop-chuan-hop-quy"
RENAME = {"examine": "appraise"}
# 200 dossiers on SQLite (as the issue asks), 10 on PostgreSQL, where the same code runs on another
# database. All of them are moved and checked where they stand; a few of each standing are then
# driven to their end on the new version (the dossiers of one standing were made alike and moved
# alike, and driving each to its end, rendering its documents, cost most of the test's minute).
DOSSIERS = {"sqlite": 200, "postgresql": 10}
FINISHED_PER_STANDING = 4
# Where each dossier stands when the new version arrives: the decisions taken so far.
STANDINGS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "check_completeness": [],
    "provide_supplement": [("check_completeness", {"completeness_decision": "supplement"})],
    "recheck_completeness": [
        ("check_completeness", {"completeness_decision": "supplement"}),
        ("provide_supplement", {}),
    ],
    "examine": [("check_completeness", {"completeness_decision": "receive"})],
    "approve": [
        ("check_completeness", {"completeness_decision": "receive"}),
        ("examine", {"examination_conclusion": "accept"}),
    ],
}


def _choice(driver: CommandDriver, spec_name: str, wanted: dict[str, Any]) -> Choice:
    """The sample payload of the task's form that holds ``wanted`` (e.g. the decision to ask for a
    supplement)."""
    task = next(t for t in driver._open_tasks() if t.spec_name == spec_name)
    form = driver.rt.forms.get(task.form)
    for variant in range(count(form)):
        sample = payload(form, _context(driver), variant)
        if all(sample.get(k) == v for k, v in wanted.items()):
            return Choice(spec_name, 0, variant)
    raise AssertionError(f"no sample of {task.form} with {wanted}")


def _context(driver: CommandDriver) -> SampleContext:
    return SampleContext(
        tax_code=driver.applicant.tax_code,
        email=driver.applicant.email,
        today=to_local(now()).date(),
        attachment=lambda: "unused",
    )


def _stand(world: World, standing: str) -> CommandDriver:
    driver = CommandDriver(world, DECLARATION, START)
    assert driver.take(Choice("<submit>", 0, 0))
    for spec_name, wanted in STANDINGS[standing]:
        assert driver.take(_choice(driver, spec_name, wanted))
    assert [t.spec_name for t in driver._open_tasks()] == [standing]
    return driver


def _finish(driver: CommandDriver) -> list[str]:
    """Act on the dossier until it ends, taking the first payload of each step (receive, accept,
    approve); returns the steps taken."""
    taken = []
    for _ in range(30):
        if driver.finished():
            return taken
        options = [o for o in driver.options() if not o.spec_name.startswith(TIMER)]
        if not options:
            options = driver.options()
        option = options[0]
        choice = Choice(option.spec_name, option.ordinal, 0)
        if option.spec_name in ("check_completeness", "recheck_completeness"):
            choice = _choice(driver, option.spec_name, {"completeness_decision": "receive"})
        assert driver.take(choice), f"{option.spec_name} refused"
        taken.append(option.spec_name)
    raise AssertionError(f"dossier {driver.dossier_id} did not end: {taken}")


def _deploy(rt: Runtime, admin: Any) -> str:
    row = deployments.deploy(rt, admin, deployments.read_folder(BUNDLE), note="thử nghiệm")
    return f"d{row.id}"


def _selection(target: str, **kw: Any) -> Selection:
    return Selection(procedure=DECLARATION, source="", target=target, **kw)


def test_two_hundred_dossiers_at_every_step_move_to_a_version_that_renames_and_adds_a_step(rt: Runtime):
    dossiers = DOSSIERS[rt.engine.dialect.name]
    with time_machine.travel(START, tick=False) as traveller:
        world = make_world(rt, traveller)
        admin = world.officers["admin"]
        drivers = {standing: [] for standing in STANDINGS}
        for number in range(dossiers):
            standing = list(STANDINGS)[number % len(STANDINGS)]
            drivers[standing].append(_stand(world, standing))
            traveller.move_to(START)
        supplement_timers = {
            d.dossier_id: _instance(rt, d.dossier_id).next_timer_at for d in drivers["provide_supplement"]
        }
        target = _deploy(rt, admin)

        # The dry run without a mapping: the dossiers that reached "examine" need one (and see the
        # diff's guess); the others move as they are.
        unmapped = instance_migration.dry_run(rt, _selection(target), {})
        reached_examine = len(drivers["examine"]) + len(drivers["approve"])
        assert unmapped.counts == {
            "as_is": dossiers - reached_examine,
            "needs_mapping": reached_examine,
            "impossible": 0,
        }
        assert unmapped.proposed_mapping == {"examine": "cross_check"}

        planned = instance_migration.dry_run(rt, _selection(target), RENAME)
        assert planned.counts == {"as_is": dossiers, "needs_mapping": 0, "impossible": 0}
        report = instance_migration.run(rt, admin, _selection(target), RENAME, planned.seen_versions)
        assert report.count("migrated") == planned.counts["as_is"] == dossiers
        assert report.count("moved") == report.count("impossible") == 0

        with reading(rt.engine) as session:
            on_target = session.exec(select(Dossier).where(Dossier.rules_version == target)).all()
            assert len(on_target) == dossiers
            open_steps = {
                t.dossier_id: t.spec_name
                for t in session.exec(select(WorkTask).where(WorkTask.status == "open"))
            }
            events = session.exec(select(AuditEvent).where(AuditEvent.action == "model_migrated")).all()
        # The step renamed keeps its task (and claim); the others are where they were.
        for standing, group in drivers.items():
            expected = RENAME.get(standing, standing)
            assert {open_steps[d.dossier_id] for d in group} == {expected}, standing
            # The dossiers of one standing, made alike, were moved alike: each shows its people
            # the same step, tasks, deadlines and documents as the first.
            assert all(d.observe() == group[0].observe() for d in group), standing
        assert len(events) == dossiers and events[0].details["from"]["rules_version"] == ""
        assert events[0].details["to"]["rules_version"] == target
        # A waiting supplement keeps the deadline it was given (15 working days from the request).
        for dossier_id, due in supplement_timers.items():
            assert _instance(rt, dossier_id).next_timer_at == due

        # The dossiers then complete on the new version; those not yet approved pass the new step.
        finished = []
        for standing, group in drivers.items():
            for driver in group[:: max(1, len(group) // FINISHED_PER_STANDING)]:
                steps = _finish(driver)
                if standing != "approve":
                    assert "cross_check" in steps, (standing, steps)
                assert "examine" not in steps
                finished.append(driver.dossier_id)
        with reading(rt.engine) as session:
            ended = [session.get(Dossier, dossier_id) for dossier_id in finished]
            assert all(d.completed_at is not None and d.rules_version == target for d in ended)
            streams = {e.stream for e in events}
            for stream in list(streams)[:10]:
                assert verify_stream(session, stream) is None


def test_a_dossier_that_moved_after_the_dry_run_is_reported_not_forced_and_undo_restores_the_old_version(
    rt: Runtime,
):
    with time_machine.travel(START, tick=False) as traveller:
        world = make_world(rt, traveller)
        admin = world.officers["admin"]
        waiting = _stand(world, "examine")
        moving = _stand(world, "examine")
        target = _deploy(rt, admin)
        planned = instance_migration.dry_run(rt, _selection(target, step="examine"), RENAME)
        assert planned.counts["as_is"] == 2
        before = _open_task(rt, waiting.dossier_id)
        moving.take(Choice("examine", 0, 0))  # the specialist finishes it meanwhile

        report = instance_migration.run(
            rt, admin, _selection(target, step="examine"), RENAME, planned.seen_versions
        )
        assert report.outcomes[moving.dossier_id][0] == "moved"
        assert report.outcomes[waiting.dossier_id] == ("migrated", "")
        with reading(rt.engine) as session:
            assert session.get(Dossier, moving.dossier_id).rules_version == ""
        after = _open_task(rt, waiting.dossier_id)
        assert (after.id, after.spec_name, after.form) == (before.id, "appraise", before.form)

        migration = _migration_of(rt, waiting.dossier_id)
        instance_migration.undo(rt, admin, migration.id)
        with reading(rt.engine) as session:
            assert session.get(Dossier, waiting.dossier_id).rules_version == ""
            assert _instance(rt, waiting.dossier_id).model_version_id == rt.model_version_of(
                rt.catalogue.version(DECLARATION, "")
            )
        assert _open_task(rt, waiting.dossier_id).spec_name == "examine"
        with pytest.raises(Conflict):
            instance_migration.undo(rt, admin, migration.id)
        # Moved again and then worked on: the undo is refused.
        again = instance_migration.run(
            rt, admin, _selection(target, step="examine"), RENAME,
            instance_migration.dry_run(rt, _selection(target, step="examine"), RENAME).seen_versions,
        )  # fmt: skip
        assert again.count("migrated") == 1
        waiting.take(Choice("appraise", 0, 0))
        with pytest.raises(Conflict) as refused:
            instance_migration.undo(rt, admin, _migration_of(rt, waiting.dossier_id).id)
        assert refused.value.code == "moved_since"
        assert "cross_check" in _finish(waiting)


def test_a_deployed_version_is_seen_by_another_process_and_pins_new_dossiers_from_its_date(rt: Runtime):
    with time_machine.travel(START, tick=False) as traveller:
        world = make_world(rt, traveller)
        target = _deploy(rt, world.officers["admin"])
        other = build_runtime(rt.settings, create_tables=False)  # another process's view
        versions = [p.version_key for p in other.catalogue.versions[DECLARATION]]
        assert versions == ["", target]
        assert other.catalogue.version(DECLARATION, target).effective_until is None
        assert rt.catalogue.version(DECLARATION, "").effective_until.isoformat() == "2026-12-31"
        late = CommandDriver(world, DECLARATION, START + timedelta(days=310))  # 06/01/2027
        assert late.procedure.version_key == target
        assert late.take(Choice("<submit>", 0, 0))
        with reading(rt.engine) as session:
            assert session.get(Dossier, late.dossier_id).rules_version == target


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"declaration_2027/{name}", text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            lambda f: f.update(
                {
                    "declaration_of_conformity_2027.bpmn": f["declaration_of_conformity_2027.bpmn"].replace(
                        'name="specialist"', 'name="reviewer"'
                    )
                }
            ),
            "bpmn:userTask appraise",
        ),
        (lambda f: f.update({"forms/examine.schema.json": "{}"}), "forms/examine.schema.json"),
        (
            lambda f: f.update({"procedure.toml": f["procedure.toml"].replace("2027-01-01", "2026-01-01")}),
            "effective_from",
        ),
        (
            lambda f: f.update(
                {"procedure.toml": f["procedure.toml"].replace("appraise = 1", "examine = 1")}
            ),
            "step_budgets",
        ),
        (lambda f: f.pop("forms/cross_check.schema.json"), "cross_check.schema.json"),
        (lambda f: f.update({"../evil.toml": ""}), "../evil.toml"),
    ],
    ids=["unknown-role", "form-shadowed", "past-date", "budget-of-no-task", "missing-form", "path"],
)
def test_a_faulty_bundle_is_refused_naming_the_file_and_element_and_nothing_is_deployed(
    rt: Runtime, change: Any, named: str
):
    with time_machine.travel(START, tick=False) as traveller:
        admin = make_world(rt, traveller).officers["admin"]
        files = deployments.read_folder(BUNDLE)
        change(files)
        with pytest.raises(InvalidInput) as refused:
            deployments.deploy(
                rt, admin, deployments.read_zip(_zip(files)) if "../evil.toml" not in files else files
            )
        assert named in refused.value.fields[0].message_en
        assert [p.version_key for p in rt.catalogue.versions[DECLARATION]] == [""]
        # The same bundle, whole, deploys once; twice is refused.
        _deploy(rt, admin)
        with pytest.raises(Conflict):
            _deploy(rt, admin)


def _instance(rt: Runtime, dossier_id: int) -> ProcessInstance:
    with reading(rt.engine) as session:
        return session.exec(select(ProcessInstance).where(ProcessInstance.dossier_id == dossier_id)).one()


def _open_task(rt: Runtime, dossier_id: int) -> WorkTask:
    with reading(rt.engine) as session:
        return session.exec(
            select(WorkTask).where(WorkTask.dossier_id == dossier_id, WorkTask.status == "open")
        ).one()


def _migration_of(rt: Runtime, dossier_id: int) -> InstanceMigration:
    with reading(rt.engine) as session:
        return session.exec(
            select(InstanceMigration)
            .where(InstanceMigration.dossier_id == dossier_id)
            .order_by(InstanceMigration.id.desc())
        ).first()


def test_tdcflow_deploy_checks_then_deploys_a_folder_as_the_administrator_named(tmp_path, cli):  # noqa: F811
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    with time_machine.travel(START, tick=False):
        assert cli(url, "migrate")[0] == 0
        status, out, _ = cli(url, "deploy", str(BUNDLE), "--check")
        assert status == 0 and "not deployed" in out
        assert cli(url, "deploy", str(BUNDLE))[0] == 2  # who deploys is required
        assert cli(url, "deploy", str(BUNDLE), "--by", "nobody@so-khcn.gov.vn")[0] == 2
        rt = build_runtime(get_settings(), create_tables=False)
        admin = make_world(rt, None).officers["admin"]
        status, out, err = cli(url, "deploy", str(BUNDLE), "--by", admin.email, "--note", "QĐ 1/QĐ-SKHCN")
        assert status == 0, err
        assert "version d1" in out and "01/01/2027" in out
        status, _, err = cli(url, "deploy", str(BUNDLE), "--by", admin.email)
        assert status == 2 and "already deployed" in err


WATCHER = """
import json, sys
from workflows.clock import now
from workflows.runtime import build_runtime
rt = build_runtime(create_tables=False)
print(json.dumps([p.version_key for p in rt.catalogue.versions[sys.argv[1]]]), flush=True)
sys.stdin.readline()  # the other process deploys meanwhile
chosen = rt.procedure_for_new_dossier(sys.argv[1], now())
print(json.dumps([chosen.version_key, rt.forms.file_of("cross_check.schema.json") is not None]), flush=True)
"""


def test_a_version_deployed_by_one_process_is_used_by_another_already_running(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
):
    """Two app processes on one database, each with its own data folder: one (this test's) deploys
    a version in force today, the other, started before, starts new dossiers on it and has its
    forms. (``tdcflow deploy`` itself is the test above; the database is the migrated one every
    SQLite test starts from.)"""
    import json
    import shutil
    import subprocess
    import sys

    from tests.conftest import sqlite_template
    from tests.deployment_support import clean_environment
    from workflows.catalogue import office_day

    shared = tmp_path / "shared.sqlite3"
    shutil.copyfile(sqlite_template(tmp_path_factory), shared)
    url = f"sqlite:///{shared}"
    second = clean_environment(
        {
            "TDCFLOW_DATABASE_URL": url,
            "TDCFLOW_SECRET_KEY": "test-secret-key-not-for-production-0123456789",
            "TDCFLOW_SCHEDULER": "0",
            "TDCFLOW_ARGON2_TIME_COST": "1",
            "TDCFLOW_ARGON2_MEMORY_KIB": "1024",
            "TDCFLOW_DATA_DIR": str(tmp_path / "node-2"),
        }
    )
    rt = build_runtime(make_settings(tmp_path / "node-1", url), create_tables=False)
    from workflows import accounts

    admin = accounts.create_officer(
        rt,
        None,
        email="qt@so-khcn.gov.vn",
        password="mat-khau-an-toan-2026",
        full_name="Quản trị",
        roles=["admin"],
    )
    bundle = {
        name: text.replace("2027-01-01", office_day(now()).isoformat())
        for name, text in deployments.read_folder(BUNDLE).items()
    }
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, DECLARATION],
        env=second,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    try:
        assert json.loads(watcher.stdout.readline()) == [""]
        assert deployments.deploy(rt, admin, bundle).id == 1
        watcher.stdin.write("\n")
        watcher.stdin.flush()
        assert json.loads(watcher.stdout.readline()) == ["d1", True]
    finally:
        watcher.kill()
        watcher.wait()
        rt.engine.dispose()
