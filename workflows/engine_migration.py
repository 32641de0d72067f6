"""Moving a running instance onto another version of its model (the engine adapter's second half).

SpiffWorkflow aligns the two versions (``SpiffWorkflow.bpmn.util.diff``): a task of version A
whose BPMN id exists in B is the same step; a step of A whose id is gone is matched *by structure*
when B has an added step between the same neighbours. That structural match is a guess — a
renamed step and a step inserted beside it look alike (``examine`` renamed ``appraise`` with
``cross_check`` added after it is guessed as ``examine`` → ``cross_check``) — so tdcflow never
applies a guess silently: it proposes it, and the administrator confirms it in a mapping
(A's step id → B's step id) or corrects it.

What the instance keeps: its history, its data, its ready steps (re-predicted on B, so a step B
adds after them is taken) and its waiting timers' due instants — a timer whose step did not change
keeps the instant it was set for (a supplement's 15 working days still count from the request);
one whose definition changed is set again from the migration instant, and the check says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException

from workflows.engine import _SERIALIZER, EngineError, ProcessModel, RunningProcess

Verdict = Literal["as_is", "needs_mapping", "impossible"]
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class MigrationImpossible(Exception):
    """The instance cannot be moved onto the target version (the check's reason says why)."""

    def __init__(self, reason_vi: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_vi = reason_vi
        self.reason_en = reason_en


@dataclass(frozen=True)
class StepMove:
    """Where one step of version A that this instance has reached goes in version B."""

    old: str  # A's BPMN id
    new: str | None  # B's BPMN id, None when nothing matches
    state: str  # the instance's task state there: READY, WAITING, COMPLETED…
    how: Literal["same", "mapped", "guessed", "unmatched"]


@dataclass(frozen=True)
class MigrationCheck:
    """What moving one instance onto version B would do."""

    verdict: Verdict
    moves: tuple[StepMove, ...] = ()  # the steps that change id (mapped, guessed, unmatched)
    guesses: Mapping[str, str] = field(default_factory=dict)  # A id -> B id proposed by structure
    unmatched: tuple[str, ...] = ()  # A ids reached by the instance that B lacks, unmapped
    restarted_timers: tuple[str, ...] = ()  # B ids of waiting timers set again from now
    reason_vi: str = ""
    reason_en: str = ""


def check_migration(
    process: RunningProcess,
    target: ProcessModel,
    mapping: Mapping[str, str],
    functions: Mapping[str, Callable[..., Any]] | None,
) -> MigrationCheck:
    """The dry run for one instance: migrate a copy, restore it on B, run it; nothing is kept."""
    try:
        _, check = _migrate(process, target, mapping, functions)
    except MigrationImpossible as exc:
        return MigrationCheck("impossible", reason_vi=exc.reason_vi, reason_en=exc.reason_en)
    return check


def migrate(
    process: RunningProcess,
    target: ProcessModel,
    mapping: Mapping[str, str],
    functions: Mapping[str, Callable[..., Any]] | None,
) -> tuple[RunningProcess, MigrationCheck]:
    """The instance moved onto ``target`` and run until it waits; MigrationImpossible when the
    check's verdict is not ``as_is`` with the mapping given."""
    moved, check = _migrate(process, target, mapping, functions)
    if check.verdict != "as_is":
        raise MigrationImpossible(
            "Cần ánh xạ bước: " + ", ".join(check.unmatched or tuple(check.guesses)),
            "A step mapping is needed: " + ", ".join(check.unmatched or tuple(check.guesses)),
        )
    return moved, check


def _migrate(
    process: RunningProcess,
    target: ProcessModel,
    mapping: Mapping[str, str],
    functions: Mapping[str, Callable[..., Any]] | None,
) -> tuple[RunningProcess, MigrationCheck]:
    if process.completed:
        raise MigrationImpossible("Hồ sơ đã kết thúc.", "The dossier has ended.")
    for old, new in mapping.items():
        if new not in target.spec.task_specs:
            raise MigrationImpossible(
                f"Ánh xạ {old} → {new}: phiên bản đích không có bước {new}.",
                f"Mapping {old} → {new}: the target version has no step {new}.",
            )
    # Work on a copy: the caller's instance is left as it was whatever happens.
    copy = RunningProcess.restore(process.model, process.serialize(), functions)
    workflow = copy._workflow
    spec_diff = SpecDiff(_SERIALIZER.registry, workflow.spec, target.spec)
    guesses: dict[str, str] = {}
    for old_spec, new_spec in list(spec_diff.alignment.items()):
        if old_spec.name in mapping:
            spec_diff.alignment[old_spec] = target.spec.task_specs[mapping[old_spec.name]]
        elif new_spec is not None and new_spec.name != old_spec.name:
            guesses[old_spec.name] = new_spec.name
    workflow_diff = WorkflowDiff(workflow, spec_diff)

    moves: dict[str, StepMove] = {}
    unmatched: list[str] = []
    used_guesses: dict[str, str] = {}
    for task in workflow.get_tasks(skip_subprocesses=True):
        if task.state & (TaskState.MAYBE | TaskState.LIKELY):
            continue  # predictions are made again on B
        old = task.task_spec.name
        new_spec = workflow_diff.alignment.get(task)
        state = TaskState.get_name(task.state)
        if old in mapping:
            how = "mapped"
        elif new_spec is None:
            how = "unmatched"
        elif new_spec.name != old:
            how = "guessed"
        else:
            continue
        if how == "unmatched" and task.state & TaskState.FUTURE and _under_reset(task):
            continue  # a step not yet reached, dropped with its ready parent's prediction
        if how == "unmatched":
            unmatched.append(old)
        if how == "guessed":
            used_guesses[old] = guesses[old]
        moves.setdefault(old, StepMove(old, new_spec.name if new_spec else None, state, how))
        if new_spec is not None and task.state & _LIVE and type(new_spec) is not type(task.task_spec):
            raise MigrationImpossible(
                f"Bước {old} đang mở không thể thành {new_spec.name} (loại bước khác).",
                f"The open step {old} cannot become {new_spec.name} (another kind of step).",
            )
    for sub_id, sub in workflow.subprocesses.items():
        if sub.spec.name not in target.subprocess_specs:
            raise MigrationImpossible(
                f"Hồ sơ đang ở trong quy trình con {sub.spec.name}, phiên bản đích không có.",
                f"The dossier is inside subprocess {sub.spec.name}, which the target version lacks.",
            )
        del sub_id  # subprocesses follow their parent: SpiffWorkflow re-creates them from B's specs
    check_moves = tuple(moves.values())
    if unmatched or used_guesses:
        return copy, MigrationCheck(
            "needs_mapping",
            moves=check_moves,
            guesses=used_guesses,
            unmatched=tuple(dict.fromkeys(unmatched)),
            reason_vi="Cần chỉ rõ bước tương ứng trong phiên bản đích.",
            reason_en="The matching step of the target version must be named.",
        )

    restarted = _move_tree(workflow, workflow_diff, spec_diff, target)
    try:
        moved = RunningProcess.restore(target, _SERIALIZER.serialize_json(workflow), functions)
        moved.run()
    except (EngineError, SpiffWorkflowException, KeyError, ValueError, TypeError) as exc:
        raise MigrationImpossible(
            f"Phiên bản đích không chạy được hồ sơ này: {exc}",
            f"The target version cannot run this dossier: {exc}",
        ) from exc
    return moved, MigrationCheck("as_is", moves=check_moves, restarted_timers=restarted)


def _under_reset(task: Any) -> bool:
    """Whether a not-yet-reached task hangs below a ready task (whose branch is predicted again)."""
    parent = task.parent
    while parent is not None:
        if parent.state & TaskState.READY:
            return True
        parent = parent.parent
    return False


def _move_tree(workflow: Any, workflow_diff: Any, spec_diff: Any, target: ProcessModel) -> tuple[str, ...]:
    """Point every task at B's spec; re-predict below ready steps and waiting events, keeping a
    waiting timer's instant when its definition did not change."""
    waiting = [
        (task, dict(task.internal_data), task.task_spec in spec_diff.changed)
        for task in workflow.get_tasks(state=TaskState.WAITING, skip_subprocesses=True)
    ]
    migrate_workflow(workflow_diff, workflow, target.spec, reset_mask=TaskState.READY)
    workflow.subprocess_specs = dict(target.subprocess_specs)
    restarted = []
    for task, internal, changed in waiting:
        if task.id not in workflow.tasks:
            continue  # dropped with a ready branch
        if changed:
            task.reset_branch(None)  # its definition changed: set again from now
            restarted.append(task.task_spec.name)
        elif any(t.task_spec is not target.spec.task_specs.get(t.task_spec.name) for t in task):
            # Same event, new steps after it: predict them again, keeping the instant it waits for.
            task._drop_children(force=True)
            task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
            task.internal_data = internal
    return tuple(restarted)


def guessed_renames(source: ProcessModel, target: ProcessModel) -> dict[str, str]:
    """The steps of ``source`` whose id ``target`` lacks but which SpiffWorkflow's diff matches by
    structure to a step of ``target`` (A id -> B id): proposals, not facts."""
    spec_diff = SpecDiff(_SERIALIZER.registry, source.spec, target.spec)
    return {
        old.name: new.name
        for old, new in spec_diff.alignment.items()
        if new is not None and new.name != old.name
    }
