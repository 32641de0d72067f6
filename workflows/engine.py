"""The one adapter between tdcflow and SpiffWorkflow.

No other module imports SpiffWorkflow or touches its task objects: they see ``ProcessModel``,
``RunningProcess``, ``UserTaskView`` and ``Effect``.

Two things here go beyond SpiffWorkflow's defaults:

* **State, not the model** (DESIGN rule 11). The default serializer embeds the whole parsed spec in
  every instance. ``_StateOnlyWorkflowConverter`` writes only the instance state; the spec comes
  from the registered model version the dossier is pinned to.
* **Effects.** Service tasks name an operator (``tdcflow/receive``, ``tdcflow/issue_document`` ...)
  in the SpiffArena way (``spiffworkflow:serviceTaskOperator``). Running one only records an
  ``Effect``; the command that ran the engine applies the effects in the same database
  transaction. The model decides *when*; Python only knows *what* each operator means.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

OPERATOR_PREFIX = "tdcflow/"
# A user task's property naming, as an expression over the task's data, the id of the service task
# whose document its completion issues: "'issue_notice' if conclusion == 'accept' else
# 'issue_rejection'". The approval page shows that document as a draft (the model decides which).
PREVIEW_STEP = "previewStep"
_TIMER_RESOLUTION = timedelta(microseconds=1)
_TIMER_TYPES = frozenset(
    {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}
)
# An event-based gateway waits on all its events at once; SpiffWorkflow keeps the instant of its
# timer (if any) in the gateway task's internal data, where a timer keeps its own.
_MULTIPLE_EVENTS = "MultipleEventDefinition"
# Keys SpiffWorkflow writes into task data for service results; not part of the dossier's data.
_INTERNAL_KEY_PREFIX = "spiff__"


def _aware(value: Any) -> datetime | None:
    """A timer's instant (a datetime or an ISO string) as an aware datetime (naive: UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ModelError(Exception):
    """A BPMN/DMN model that cannot be used. The message names the file and the element."""


class EngineError(Exception):
    """The engine could not run a step (a script or expression failed in the model)."""


class TaskNotReady(Exception):
    """The task is not (or no longer) waiting for a person."""


@dataclass(frozen=True)
class Effect:
    """A side effect requested by a service task, applied by the command after the engine ran."""

    operation: str
    params: dict[str, Any]
    task_spec: str


@dataclass(frozen=True)
class UserTaskView:
    """What the rest of tdcflow may know about a user task that waits for a person."""

    id: str
    spec_name: str
    name: str
    lane: str | None
    properties: Mapping[str, str]
    # The user id this instance is assigned to, read from the task's data variable that the
    # ``assigneeVariable`` property names (e.g. each council member's scoring instance).
    assignee: str | None = None
    # When this instance is due (ISO 8601), read from the data variable ``dueVariable`` names
    # (e.g. the round's scoring deadline on each council member's sheet).
    due: str | None = None
    # The BPMN id of the task in the model (an instance of a multi-instance task has a spec name
    # of its own, e.g. 'review [child]', but the model's id).
    element: str = ""

    @property
    def candidate_role(self) -> str | None:
        return self.properties.get("candidateRole") or self.lane

    @property
    def form(self) -> str | None:
        return self.properties.get("formJsonSchemaFilename")

    @property
    def ui_form(self) -> str | None:
        return self.properties.get("formUiSchemaFilename")

    @property
    def name_en(self) -> str:
        return self.properties.get("nameEn") or self.name

    @property
    def dossier_status(self) -> str | None:
        return self.properties.get("dossierStatus")

    @property
    def previews_document(self) -> bool:
        """The model names the document step this task's completion leads to (``previewStep``)."""
        return bool(self.properties.get(PREVIEW_STEP))


@dataclass(frozen=True)
class LostJoin:
    """A loop or multi-instance step with finished instances it never counted."""

    element: str
    name: str
    instances: int


@dataclass(frozen=True)
class WaitingTimer:
    """A ``timeDate`` timer the process waits on: its expression (e.g. ``working_days(15)``), when
    it started waiting (when the expression was evaluated) and the instant it fires after."""

    task_id: str
    element: str
    name: str
    expression: str
    waiting_since: datetime
    instant: datetime


@dataclass(frozen=True)
class ProcessModel:
    """A parsed, immutable process model version: process id + hash of its source files."""

    process_id: str
    content_hash: str
    sources: Mapping[str, str]
    spec: Any = field(repr=False)
    subprocess_specs: Mapping[str, Any] = field(repr=False)
    user_tasks: Mapping[str, UserTaskView] = field(repr=False)

    def user_task_specs(self) -> list[UserTaskView]:
        return list(self.user_tasks.values())

    def element_ids(self) -> frozenset[str]:
        """The BPMN ids of every flow element (tasks, events, gateways, subprocesses) of the model."""
        return frozenset(
            task_spec.bpmn_id
            for task_spec in _all_task_specs(self.spec, self.subprocess_specs)
            if getattr(task_spec, "bpmn_id", None)
        )


def content_hash(sources: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(sources[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _describe(exc: ValidationException, fallback_file: str) -> str:
    where = getattr(exc, "file_name", "") or fallback_file
    parts = [f"{where}"]
    if getattr(exc, "line_number", ""):
        parts.append(f"line {exc.line_number}")
    element = " ".join(p for p in (getattr(exc, "tag", ""), getattr(exc, "id", "")) if p)
    if element:
        parts.append(f"element {element}")
    return f"{', '.join(parts)}: {exc}"


def parse_model(process_id: str, sources: Mapping[str, str]) -> ProcessModel:
    """Parse and validate BPMN (and DMN) sources; return the model of ``process_id``.

    ``sources`` maps file names to XML text. Files ending in ``.dmn`` are decision tables.
    """
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for filename in sorted(sources):
        text = sources[filename]
        try:
            if filename.endswith(".dmn"):
                parser.add_dmn_str(text.encode(), filename=filename)
            else:
                parser.add_bpmn_str(text.encode(), filename=filename)
        except ValidationException as exc:
            raise ModelError(_describe(exc, filename)) from exc
        except etree.XMLSyntaxError as exc:
            raise ModelError(f"{filename}: not well-formed XML: {exc}") from exc
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise ModelError(_describe(exc, ", ".join(sorted(sources)))) from exc
    if spec is None:
        raise ModelError(f"{', '.join(sorted(sources))}: no process with id '{process_id}'")
    _wire_loop_completions(spec, subprocess_specs)
    user_tasks: dict[str, UserTaskView] = {}
    for task_spec in _all_task_specs(spec, subprocess_specs):
        if getattr(task_spec, "manual", False):
            user_tasks[task_spec.name] = _view_of_spec(task_spec, task_id="")
    return ProcessModel(
        process_id=process_id,
        content_hash=content_hash(sources),
        sources=dict(sources),
        spec=spec,
        subprocess_specs=subprocess_specs,
        user_tasks=user_tasks,
    )


def _wire_loop_completions(spec: Any, subprocess_specs: Mapping[str, Any]) -> None:
    """Connect every loop and multi-instance step to the completion of its inner step, once.

    SpiffWorkflow makes that connection lazily, when a loop creates its first child in this
    process, and its spec deserializer makes it eagerly; a spec kept from the parser has neither.
    Without it, a restored instance whose children were created by another process never joins:
    its children complete, the loop waits for ever (an award application stuck after a restart
    during scoring). Wiring it here, when the model version is parsed, covers every process.
    """
    for process_spec in (spec, *subprocess_specs.values()):
        for task_spec in process_spec.task_specs.values():
            if not isinstance(task_spec, LoopTask):
                continue
            inner = process_spec.task_specs[task_spec.task_spec]
            if not inner.completed_event.is_connected(task_spec.merge_child):
                inner.completed_event.connect(task_spec.merge_child)


def _all_task_specs(spec: Any, subprocess_specs: Mapping[str, Any]) -> list[Any]:
    specs = list(spec.task_specs.values())
    for sub in subprocess_specs.values():
        specs.extend(sub.task_specs.values())
    return specs


def _view_of_spec(task_spec: Any, task_id: str, data: Mapping[str, Any] | None = None) -> UserTaskView:
    extensions = getattr(task_spec, "extensions", {}) or {}
    properties = dict(extensions.get("properties", {}))
    variable = properties.get("assigneeVariable")
    value = (data or {}).get(variable) if variable else None
    due_variable = properties.get("dueVariable")
    due = (data or {}).get(due_variable) if due_variable else None
    return UserTaskView(
        id=task_id,
        spec_name=task_spec.name,
        name=task_spec.bpmn_name or task_spec.name,
        lane=task_spec.lane,
        properties=properties,
        assignee=str(value) if value not in (None, "") else None,
        due=str(due) if due not in (None, "") else None,
        element=task_spec.bpmn_id or task_spec.name,
    )


def service_operators(model: ProcessModel) -> list[tuple[str, str]]:
    """(task spec name, operator name) of every service task in the model."""
    found = []
    for task_spec in _all_task_specs(model.spec, model.subprocess_specs):
        operator = getattr(task_spec, "operation_name", None)
        if operator:
            found.append((task_spec.name, operator))
    return found


def service_operator_params(model: ProcessModel) -> list[tuple[str, str, dict[str, str]]]:
    """(task spec name, operator name, {parameter: its expression as written}) of every service task."""
    found = []
    for task_spec in _all_task_specs(model.spec, model.subprocess_specs):
        operator = getattr(task_spec, "operation_name", None)
        if operator:
            params = getattr(task_spec, "operation_params", None) or {}
            found.append((task_spec.name, operator, {k: str(v.get("value", "")) for k, v in params.items()}))
    return found


# SpiffWorkflow evaluates decision-table entries as Python; a table written with DMN's own (FEEL)
# literals, as modellers and DMN editors write them, reads them as these.
FEEL_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> Any:
    return compile(expression, "<string>", "eval")


class _EffectRecorder(TaskDataEnvironment):
    """Script environment whose service calls are recorded as effects instead of performed.

    ``functions`` are offered to the model's expressions and scripts, e.g. ``working_days(15)``
    for a timer that waits fifteen working days.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__({**FEEL_LITERALS, **dict(functions or {})})
        self.effects: list[Effect] = []
        self.current_task_spec = ""

    def evaluate(self, expression: Any, context: dict, external_context: dict | None = None) -> Any:
        """As SpiffWorkflow evaluates (the same globals, the same errors), compiling each distinct
        expression once per process: a command evaluates about ten (gateways, timers, service
        parameters), and compiling was a millisecond each."""
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        code = _compiled(expression) if isinstance(expression, str) else expression
        return eval(code, my_globals)  # the model's own expressions, as SpiffWorkflow runs them

    def call_service(
        self, context: dict, operation_name: str = "", operation_params: dict | None = None, **_: Any
    ) -> str:
        if not operation_name.startswith(OPERATOR_PREFIX):
            raise EngineError(f"Unknown service operator '{operation_name}'")
        params = {name: spec.get("value") for name, spec in (operation_params or {}).items()}
        self.effects.append(Effect(operation_name[len(OPERATOR_PREFIX) :], params, self.current_task_spec))
        return "null"


class _ScriptEngine(PythonScriptEngine):
    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.recorder = _EffectRecorder(functions)
        super().__init__(environment=self.recorder)

    def call_service(self, task: Any, **kwargs: Any) -> str:
        # The base class passes only the task data on; the recorder wants the task's name too.
        self.recorder.current_task_spec = task.task_spec.name
        return self.recorder.call_service(task.data, **kwargs)


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its spec; restores it onto a spec supplied by the caller."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, model: ProcessModel | None = None) -> BpmnWorkflow:
        if model is None:
            raise EngineError("A stored instance can only be restored onto its model version")
        workflow = self.target_class(model.spec, dict(model.subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _make_serializer()


class RunningProcess:
    """One process instance loaded for one command."""

    def __init__(self, model: ProcessModel, workflow: BpmnWorkflow, script_engine: _ScriptEngine) -> None:
        self.model = model
        self._workflow = workflow
        self._script_engine = script_engine

    # --- life cycle -------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        model: ProcessModel,
        data: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> RunningProcess:
        engine = _ScriptEngine(functions)
        workflow = BpmnWorkflow(model.spec, dict(model.subprocess_specs), script_engine=engine)
        workflow.data.update(data)
        start_task = workflow.task_tree
        start_task.data.update(data)
        process = cls(model, workflow, engine)
        process.run()
        return process

    @classmethod
    def restore(
        cls, model: ProcessModel, state: str, functions: Mapping[str, Callable[..., Any]] | None = None
    ) -> RunningProcess:
        dct = json.loads(state)
        _SERIALIZER.migrate(dct)
        workflow = _SERIALIZER.from_dict(dct, model=model)
        engine = _ScriptEngine(functions)
        workflow.script_engine = engine
        return cls(model, workflow, engine)

    def serialize(self) -> str:
        return _SERIALIZER.serialize_json(self._workflow)

    def run(self) -> None:
        """Advance every automatic step until the process waits for people or timers (or ends).

        Timers that fell due are caught first; a caught timer makes more steps ready, so the
        engine runs until nothing automatic is left.
        """
        try:
            for _ in range(100):
                self._workflow.refresh_timers()
                self._workflow.do_engine_steps()
                if not self._workflow.get_tasks(state=TaskState.READY, manual=False):
                    break
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc

    # --- what it is waiting for -------------------------------------------------------------
    def ready_user_tasks(self) -> list[UserTaskView]:
        tasks = self._workflow.get_tasks(state=TaskState.READY, manual=True)
        return [_view_of_spec(task.task_spec, str(task.id), task.data) for task in tasks]

    def task_data(self, task_id: str) -> dict[str, Any]:
        return _public_data(self._ready_task(task_id).data)

    @property
    def completed(self) -> bool:
        return self._workflow.is_completed()

    @property
    def data(self) -> dict[str, Any]:
        """The process's current data: that of the last completed task, without engine internals."""
        last = self._workflow.last_task
        base = last.data if last is not None else self._workflow.task_tree.data
        merged = dict(self._workflow.data)
        merged.update(base)
        return _public_data(merged)

    def next_timer_at(self) -> datetime | None:
        """When the earliest waiting timer of the process falls due (None when none waits)."""
        instants = [instant for _, instant in self.waiting_timers()]
        # SpiffWorkflow fires a timer once the clock is strictly past its instant: due at the
        # instant itself, a scheduler tick would find nothing to fire (and claim it again).
        return min(instants) + _TIMER_RESOLUTION if instants else None

    def waiting_timers(self) -> list[tuple[str, datetime]]:
        """(BPMN id of the timer event, the instant it fires after) of every waiting timer."""
        found = []
        for task in list(self._workflow.event_manager.tasks.values()):
            event = task.task_spec.event_definition.details(task)
            if event.event_type in _TIMER_TYPES:
                value = event.value
            elif event.event_type == _MULTIPLE_EVENTS:
                value = task.internal_data.get("event_value")
            else:
                continue
            if isinstance(value, dict):
                value = value.get("next")
            try:
                instant = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                continue
            element = task.task_spec.bpmn_id or task.task_spec.name
            found.append((element, instant if instant.tzinfo else instant.replace(tzinfo=UTC)))
        return sorted(found, key=lambda pair: pair[1])

    def date_timers(self) -> list[WaitingTimer]:
        """The waiting ``timeDate`` timers with their expressions (what a calendar change
        re-evaluates, ``workflows.calendar_change``)."""
        found = []
        for task in list(self._workflow.event_manager.tasks.values()):
            definition = task.task_spec.event_definition
            if type(definition).__name__ != "TimeDateEventDefinition":
                continue
            instant = _aware(task._get_internal_data("event_value"))
            if instant is None or task._get_internal_data("event_fired", False):
                continue
            found.append(
                WaitingTimer(
                    task_id=str(task.id),
                    element=task.task_spec.bpmn_id or task.task_spec.name,
                    name=task.task_spec.bpmn_name or "",
                    expression=str(definition.expression),
                    waiting_since=datetime.fromtimestamp(task.last_state_change, UTC),
                    instant=instant,
                )
            )
        return sorted(found, key=lambda timer: timer.instant)

    def evaluate_timer(self, task_id: str) -> datetime | None:
        """The timer's expression evaluated now, with this process's functions (None if that fails
        or gives no instant)."""
        task = self._workflow.get_task_from_id(UUID(task_id))
        try:
            value = self._script_engine.evaluate(task, task.task_spec.event_definition.expression)
        except Exception:  # a model's expression: anything may go wrong
            return None
        return _aware(value)

    def move_timer(self, task_id: str, instant: datetime) -> None:
        """Make the waiting timer fire after ``instant`` instead."""
        task = self._workflow.get_task_from_id(UUID(task_id))
        task._set_internal_data(event_value=instant.isoformat())

    def reached_elements(self) -> frozenset[str]:
        """The BPMN ids of the elements this instance has completed so far (for path coverage)."""
        return frozenset(
            task.task_spec.bpmn_id
            for task in self._workflow.get_tasks(state=TaskState.COMPLETED)
            if getattr(task.task_spec, "bpmn_id", None)
        )

    def waits_for_something(self) -> bool:
        """Whether anything can still move this instance: a person's task, a timer or another event."""
        if self.completed:
            return True
        if self._workflow.get_tasks(state=TaskState.READY):
            return True
        return bool(self._workflow.waiting_events())

    def lost_joins(self) -> list[LostJoin]:
        """Loop and multi-instance steps whose finished instances were never counted.

        An instance saved by a tdcflow without the wiring of ``_wire_loop_completions`` (or by any
        process that restored a loop it had not created) has such steps: their instances are
        completed but the step still waits for them, for ever.
        """
        found = []
        for task in self._workflow.get_tasks(state=TaskState.STARTED):
            if not isinstance(task.task_spec, LoopTask):
                continue
            merged = set(task.internal_data.get("merged", []))
            pending = [
                child
                for child in task.children
                if child.task_spec.name == task.task_spec.task_spec
                and child.state == TaskState.COMPLETED
                and str(child.id) not in merged
            ]
            if pending:
                found.append(
                    LostJoin(
                        element=task.task_spec.bpmn_id or task.task_spec.name,
                        name=task.task_spec.bpmn_name or task.task_spec.name,
                        instances=len(pending),
                    )
                )
        return found

    def resume_lost_joins(self) -> list[LostJoin]:
        """Count the finished instances that ``lost_joins`` reports, in the order they finished,
        as the engine would have when each one finished; then run on. Returns what was counted."""
        repaired = self.lost_joins()
        if not repaired:
            return []
        try:
            for task in self._workflow.get_tasks(state=TaskState.STARTED):
                if not isinstance(task.task_spec, LoopTask):
                    continue
                merged = set(task.internal_data.get("merged", []))
                pending = sorted(
                    (
                        child
                        for child in task.children
                        if child.task_spec.name == task.task_spec.task_spec
                        and child.state == TaskState.COMPLETED
                        and str(child.id) not in merged
                    ),
                    key=lambda child: child.last_state_change,
                )
                for child in pending:
                    task.task_spec.merge_child(child.workflow, child)
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc
        self.run()
        return repaired

    def drain_effects(self) -> list[Effect]:
        effects = list(self._script_engine.recorder.effects)
        self._script_engine.recorder.effects.clear()
        return effects

    # --- commands ---------------------------------------------------------------------------
    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        task = self._ready_task(task_id)
        task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc
        self.run()

    def cancel(self) -> None:
        self._workflow.cancel()

    def previewed_effect(self, task_id: str) -> Effect | None:
        """The service step the ready user task ``task_id`` names as its outcome (``previewStep``),
        with its parameters evaluated in the task's data as they stand now, as the step would
        evaluate them if the task were completed without changing them; None when the task names
        none. ``EngineError`` when an expression fails or names no service task of the model."""
        task = self._ready_task(task_id)
        properties = (getattr(task.task_spec, "extensions", {}) or {}).get("properties", {})
        expression = properties.get(PREVIEW_STEP)
        if not expression:
            return None
        try:
            step = self._script_engine.evaluate(task, expression)
            specs = {
                spec.bpmn_id: spec
                for spec in _all_task_specs(self.model.spec, self.model.subprocess_specs)
                if getattr(spec, "operation_name", None)
            }
            spec = specs.get(step)
            if spec is None:
                raise EngineError(f"{PREVIEW_STEP} of {task.task_spec.bpmn_id}: {step!r} is no service task")
            params = {
                name: self._script_engine.evaluate(task, param.get("value"))
                for name, param in (spec.operation_params or {}).items()
            }
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc
        return Effect(spec.operation_name.removeprefix(OPERATOR_PREFIX), params, spec.name)

    def _ready_task(self, task_id: str) -> Any:
        try:
            task = self._workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException, TypeError):
            task = None
        if task is None or not task.task_spec.manual or task.state != TaskState.READY:
            raise TaskNotReady(task_id)
        return task


def _public_data(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith(_INTERNAL_KEY_PREFIX)}
