"""Moving running dossiers from one version of their procedure to another, in batches.

The administrator picks the dossiers on version A (all, or those at one step or in one status)
and a version B of the same procedure. The dry run tells, per dossier, what SpiffWorkflow's diff
says (``workflows.engine_migration``): migratable as is, needs a mapping (which step of A becomes
which of B), or impossible (why). Running it moves each dossier in its own transaction:

* only if its instance is still at the version the dry run saw (a dossier that moved meanwhile is
  reported, never forced);
* its open tasks follow B (name, role, form; a claim is kept while the role is the same), their
  due times and the dossier's deadlines are computed again with B's budgets and limits from the
  instants they started (never from the migration), and its timers keep their instants;
* the state it had is kept (``instance_migration``) and an audit event names both versions.

A migration is undone, dossier by dossier, while the dossier has not moved since.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import update
from sqlmodel import Session, select

from workflows import audit, calendar_entries
from workflows.alarms import drop_task_alarms, schedule_task_alarms
from workflows.catalogue import Procedure
from workflows.clock import as_utc, now
from workflows.commands import stale
from workflows.context import CommandContext
from workflows.db import reading, transaction
from workflows.effects import refresh_deadlines
from workflows.engine import EngineError, RunningProcess, UserTaskView
from workflows.engine_migration import MigrationCheck, MigrationImpossible, check_migration, migrate
from workflows.engine_runs import project_run, script_functions
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.locking import lock_dossier
from workflows.models import Dossier, InstanceMigration, ProcessInstance, User, WorkTask
from workflows.runtime import Runtime
from workflows.sla import add_budget

log = logging.getLogger("tdcflow.migration")

Outcome = Literal["migrated", "moved", "impossible", "needs_mapping"]


@dataclass(frozen=True)
class Selection:
    """Which dossiers: the open ones of ``procedure`` on version ``source`` (a version key), at
    ``step`` (a BPMN id of an open task) and in ``status`` when given, or exactly ``dossier_ids``."""

    procedure: str
    source: str
    target: str
    step: str | None = None
    status: str | None = None
    dossier_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class DossierCheck:
    dossier_id: int
    code: str
    status: str
    current_step: str | None
    instance_version: int
    check: MigrationCheck


@dataclass
class DryRun:
    source: Procedure
    target: Procedure
    mapping: dict[str, str]
    items: list[DossierCheck]

    @property
    def counts(self) -> dict[str, int]:
        counts = {"as_is": 0, "needs_mapping": 0, "impossible": 0}
        for item in self.items:
            counts[item.check.verdict] += 1
        return counts

    @property
    def proposed_mapping(self) -> dict[str, str]:
        """The structural guesses SpiffWorkflow made for the dossiers that need a mapping."""
        proposed: dict[str, str] = {}
        for item in self.items:
            proposed.update(item.check.guesses)
        return proposed

    @property
    def unmatched(self) -> list[str]:
        return sorted({step for item in self.items for step in item.check.unmatched})

    @property
    def seen_versions(self) -> dict[int, int]:
        """Dossier id -> instance version, for the dossiers the run may move."""
        return {i.dossier_id: i.instance_version for i in self.items if i.check.verdict == "as_is"}


@dataclass
class RunReport:
    batch: str
    outcomes: dict[int, tuple[Outcome, str]] = field(default_factory=dict)  # dossier id -> (outcome, why)
    codes: dict[int, str] = field(default_factory=dict)  # dossier id -> its code

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o, _ in self.outcomes.values() if o == outcome)


# --- choosing ------------------------------------------------------------------------------------


def versions_of(rt: Runtime, selection: Selection) -> tuple[Procedure, Procedure]:
    rt.deployments.refresh(rt, force=True)
    source = rt.catalogue.version(selection.procedure, selection.source)
    target = rt.catalogue.version(selection.procedure, selection.target)
    problems = []
    if source is None:
        problems.append(
            FieldProblem("source", "Không có phiên bản nguồn này.", "No such source version.", "enum")
        )
    if target is None:
        problems.append(
            FieldProblem("target", "Không có phiên bản đích này.", "No such target version.", "enum")
        )
    if not problems and source.version_key == target.version_key:
        problems.append(
            FieldProblem(
                "target",
                "Phiên bản đích phải khác phiên bản nguồn.",
                "The target must differ from the source.",
                "const",
            )
        )
    if problems:
        raise InvalidInput(
            "Lựa chọn phiên bản không hợp lệ.",
            "The versions chosen are not valid.",
            "validation_error",
            problems,
        )
    return source, target


def check_mapping(target: Procedure, mapping: Mapping[str, str]) -> dict[str, str]:
    clean = {str(k).strip(): str(v).strip() for k, v in mapping.items() if str(k).strip() and str(v).strip()}
    known = target.model.spec.task_specs
    wrong = [v for v in clean.values() if v not in known]
    if wrong:
        raise InvalidInput(
            "Ánh xạ bước không hợp lệ.",
            "The step mapping is not valid.",
            "validation_error",
            [
                FieldProblem(
                    "mapping",
                    f"Phiên bản đích không có bước: {', '.join(wrong)}.",
                    f"The target version has no step: {', '.join(wrong)}.",
                    "enum",
                )
            ],
        )
    return clean


def _selected(rt: Runtime, session: Session, selection: Selection, source: Procedure) -> list[Dossier]:
    query = select(Dossier).where(
        Dossier.procedure_code == selection.procedure, Dossier.completed_at.is_(None)
    )
    if selection.dossier_ids is not None:
        query = query.where(Dossier.id.in_(selection.dossier_ids))
    if selection.status:
        query = query.where(Dossier.status == selection.status)
    if selection.step:
        at_step = select(WorkTask.dossier_id).where(
            WorkTask.status == "open", WorkTask.spec_name == selection.step
        )
        query = query.where(Dossier.id.in_(at_step))
    dossiers = session.exec(query.order_by(Dossier.id)).all()
    return [d for d in dossiers if rt.procedure_of(d).version_key == source.version_key]


# --- the dry run ---------------------------------------------------------------------------------


def dry_run(rt: Runtime, selection: Selection, mapping: Mapping[str, str]) -> DryRun:
    """What running the migration would do to each selected dossier; nothing is written."""
    source, target = versions_of(rt, selection)
    clean = check_mapping(target, mapping)
    functions = script_functions(rt, target)
    items = []
    with reading(rt.engine) as session:
        dossiers = _selected(rt, session, selection, source)
        instances = (
            {
                i.dossier_id: i
                for i in session.exec(
                    select(ProcessInstance).where(ProcessInstance.dossier_id.in_([d.id for d in dossiers]))
                ).all()
            }
            if dossiers
            else {}
        )
        for dossier in dossiers:
            instance = instances[dossier.id]
            try:
                process = RunningProcess.restore(
                    rt.models.get(instance.model_version_id), instance.state, functions
                )
                check = check_migration(process, target.model, clean, functions)
            except EngineError as exc:
                check = MigrationCheck("impossible", reason_vi=str(exc), reason_en=str(exc))
            items.append(
                DossierCheck(
                    dossier.id, dossier.code, dossier.status, dossier.current_step, instance.version, check
                )
            )
    return DryRun(source=source, target=target, mapping=clean, items=items)


# --- running ------------------------------------------------------------------------------------


def run(
    rt: Runtime,
    admin: User,
    selection: Selection,
    mapping: Mapping[str, str],
    seen_versions: Mapping[int, int],
) -> RunReport:
    """Move each dossier of ``seen_versions`` (dossier id -> the instance version the dry run saw)
    that the selection still picks, each in its own transaction."""
    source, target = versions_of(rt, selection)
    clean = check_mapping(target, mapping)
    report = RunReport(batch=uuid.uuid4().hex[:16])
    with reading(rt.engine) as session:
        still = {d.id for d in _selected(rt, session, selection, source)}
        ids = list(seen_versions)
        report.codes = (
            dict(session.exec(select(Dossier.id, Dossier.code).where(Dossier.id.in_(ids))).all())
            if ids
            else {}
        )
    for dossier_id, seen in sorted(seen_versions.items()):
        if dossier_id not in still:
            report.outcomes[dossier_id] = ("moved", "Hồ sơ không còn ở phiên bản/bước đã chọn.")
            continue
        try:
            _migrate_one(rt, admin, dossier_id, seen, source, target, clean, report.batch)
            report.outcomes[dossier_id] = ("migrated", "")
        except MigrationImpossible as exc:
            report.outcomes[dossier_id] = ("impossible", exc.reason_vi)
        except Conflict as exc:
            report.outcomes[dossier_id] = ("moved", exc.message)
    log.info(
        "Migration %s of %s %s -> %s: %d migrated, %d moved meanwhile, %d impossible",
        report.batch, source.code, source.version_key, target.version_key,
        report.count("migrated"), report.count("moved"), report.count("impossible"),
    )  # fmt: skip
    return report


def _migrate_one(
    rt: Runtime,
    admin: User,
    dossier_id: int,
    seen: int,
    source: Procedure,
    target: Procedure,
    mapping: dict[str, str],
    batch: str,
) -> None:
    functions = script_functions(rt, target)
    with transaction(rt.engine) as session:
        instance = lock_dossier(session, dossier_id)
        calendar_entries.refresh(rt, session)  # as a command does once it holds the dossier
        dossier = session.get(Dossier, dossier_id, populate_existing=True)
        if instance.version != seen or dossier.completed_at is not None:
            raise Conflict(
                "Hồ sơ đã thay đổi sau khi chạy thử.", "The dossier changed after the dry run.", "conflict"
            )
        process = RunningProcess.restore(rt.models.get(instance.model_version_id), instance.state, functions)
        try:
            moved, check = migrate(process, target.model, mapping, functions)
        except EngineError as exc:
            raise MigrationImpossible(str(exc), str(exc)) from exc
        at = now()
        before = {"rules_version": dossier.rules_version, "model_version_id": instance.model_version_id}
        dossier.rules_version = target.version_key
        ctx = CommandContext(rt=rt, session=session, actor=admin, dossier=dossier, procedure=target, at=at)
        target_version_id = rt.model_version_of(target)
        result_version = _write_instance(session, instance, moved, target_version_id)
        follow_model(ctx, moved)
        session.add(
            InstanceMigration(
                dossier_id=dossier.id,
                batch=batch,
                from_model_version_id=before["model_version_id"],
                to_model_version_id=target_version_id,
                from_rules_version=before["rules_version"],
                to_rules_version=target.version_key,
                mapping=mapping,
                previous_state=instance.state,
                previous_version=instance.version,
                result_version=result_version,
                migrated_by_id=admin.id,
                migrated_at=at,
            )
        )
        audit.record(
            session,
            ctx.stream,
            "model_migrated",
            admin,
            {
                "batch": batch,
                "from": {"rules_version": source.version_key, "model_version_id": before["model_version_id"]},
                "to": {"rules_version": target.version_key, "model_version_id": target_version_id},
                "mapping": mapping,
                "steps": {m.old: m.new for m in check.moves},
                "restarted_timers": list(check.restarted_timers),
            },
            dossier_id=dossier.id,
            at=at,
        )


def _write_instance(
    session: Session, instance: ProcessInstance, process: RunningProcess, model_version_id: int
) -> int:
    result = session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == instance.id, ProcessInstance.version == instance.version)
        .values(
            state=process.serialize(),
            version=instance.version + 1,
            model_version_id=model_version_id,
            completed=process.completed,
            next_timer_at=process.next_timer_at(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise stale()
    return instance.version + 1


def follow_model(ctx: CommandContext, process: RunningProcess) -> None:
    """After the instance changed version: its open tasks take the new version's names, roles,
    forms and budgets (from the instant each became available), the engine's consequences are
    applied, and the dossier's deadlines are computed again with the version's limits."""
    ready = {task.id: task for task in process.ready_user_tasks()}
    rows = ctx.session.exec(
        select(WorkTask).where(WorkTask.dossier_id == ctx.dossier.id, WorkTask.status == "open")
    ).all()
    for row in rows:
        view = ready.get(row.id)
        if view is not None and _differs(row, view):
            _retarget(ctx, row, view)
    project_run(ctx, process)
    refresh_deadlines(ctx)


def _differs(row: WorkTask, view: UserTaskView) -> bool:
    return (row.spec_name, row.name, row.candidate_role, row.form) != (
        view.spec_name,
        view.name,
        view.candidate_role or "",
        view.form,
    )


def _retarget(ctx: CommandContext, row: WorkTask, view: UserTaskView) -> None:
    role_changed = row.candidate_role != (view.candidate_role or "")
    row.spec_name = view.spec_name
    row.name = view.name
    row.name_en = view.name_en
    row.candidate_role = view.candidate_role or ""
    row.form = view.form
    row.ui_form = view.ui_form
    if role_changed and row.candidate_role != "business":
        row.assignee_id = None
        row.claimed_at = None
    budget = ctx.procedure.step_budgets.get(view.spec_name)
    if budget:
        row.due_at = add_budget(ctx.rt.calendar, as_utc(row.created_at), budget)
    drop_task_alarms(ctx.session, row.id)
    ctx.session.add(row)
    ctx.session.flush()
    schedule_task_alarms(ctx, row)


# --- undoing ------------------------------------------------------------------------------------


def undo(rt: Runtime, admin: User, migration_id: int) -> InstanceMigration:
    """Put the dossier back as it was before the migration, if it has not moved since."""
    with transaction(rt.engine) as session:
        migration = session.get(InstanceMigration, migration_id)
        if migration is None:
            raise not_found("lần chuyển phiên bản", "Migration")
        instance = lock_dossier(session, migration.dossier_id)
        calendar_entries.refresh(rt, session)
        session.refresh(migration)
        if migration.undone_at is not None:
            raise Conflict(
                "Lần chuyển này đã được hoàn tác.", "This migration was already undone.", "already_undone"
            )
        if instance.version != migration.result_version:
            raise Conflict(
                "Hồ sơ đã được xử lý tiếp sau khi chuyển phiên bản nên không thể hoàn tác.",
                "The dossier has moved on since the migration, so it cannot be undone.",
                "moved_since",
            )
        dossier = session.get(Dossier, migration.dossier_id, populate_existing=True)
        dossier.rules_version = migration.from_rules_version
        procedure = rt.procedure_of(dossier)
        model = rt.models.get(migration.from_model_version_id)
        process = RunningProcess.restore(model, migration.previous_state, script_functions(rt, procedure))
        at = now()
        ctx = CommandContext(rt=rt, session=session, actor=admin, dossier=dossier, procedure=procedure, at=at)
        _write_instance(session, instance, process, migration.from_model_version_id)
        follow_model(ctx, process)
        migration.undone_at = at
        migration.undone_by_id = admin.id
        session.add(migration)
        audit.record(
            session,
            ctx.stream,
            "model_migration_undone",
            admin,
            {
                "batch": migration.batch,
                "back_to": {
                    "rules_version": migration.from_rules_version,
                    "model_version_id": migration.from_model_version_id,
                },
                "from": {
                    "rules_version": migration.to_rules_version,
                    "model_version_id": migration.to_model_version_id,
                },
            },
            dossier_id=dossier.id,
            at=at,
        )
        session.flush()
        session.expunge(migration)
        return migration


def undo_batch(rt: Runtime, admin: User, batch: str) -> dict[int, tuple[bool, str]]:
    """Undo every dossier of a batch that can be; dossier id -> (undone, why not)."""
    with reading(rt.engine) as session:
        rows = session.exec(
            select(InstanceMigration.id, InstanceMigration.dossier_id).where(
                InstanceMigration.batch == batch, InstanceMigration.undone_at.is_(None)
            )
        ).all()
    result: dict[int, tuple[bool, str]] = {}
    for migration_id, dossier_id in rows:
        try:
            undo(rt, admin, migration_id)
            result[dossier_id] = (True, "")
        except Conflict as exc:
            result[dossier_id] = (False, exc.message)
    return result


def batches(rt: Runtime, limit: int = 50) -> list[dict[str, Any]]:
    """The latest migration batches: when, who, how many dossiers, how many undone."""
    with reading(rt.engine) as session:
        rows = session.exec(select(InstanceMigration).order_by(InstanceMigration.id.desc()).limit(5000)).all()
        people = {r.migrated_by_id for r in rows if r.migrated_by_id}
        names = {u.id: u.full_name for u in session.exec(select(User).where(User.id.in_(people))).all()}
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = grouped.setdefault(
            row.batch,
            {
                "batch": row.batch,
                "at": row.migrated_at,
                "by": names.get(row.migrated_by_id or 0, ""),
                "from": row.from_rules_version,
                "to": row.to_rules_version,
                "dossiers": 0,
                "undone": 0,
            },
        )
        item["dossiers"] += 1
        item["undone"] += 1 if row.undone_at is not None else 0
    return list(grouped.values())[:limit]
