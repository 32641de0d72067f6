"""What changes between two versions of a procedure: steps, forms, rules and figures.

What the administrator reads before deploying or migrating: the user tasks added, removed and
changed (name, role, form, budget), the automatic steps (operators) added and removed, the forms
asked, the decision tables (DMN files) and the catalogue's figures (time limits, budgets, fees,
legal basis, required documents, parameters). A renamed step shows as one removed and one added,
with SpiffWorkflow's structural guess beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.catalogue import Procedure
from workflows.engine import service_operators
from workflows.engine_migration import guessed_renames


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class FieldChange:
    what: str  # e.g. "appraise: form", "legal_days"
    before: Any
    after: Any


@dataclass
class VersionDiff:
    steps_added: list[Step] = field(default_factory=list)
    steps_removed: list[Step] = field(default_factory=list)
    steps_changed: list[FieldChange] = field(default_factory=list)
    guessed_renames: dict[str, str] = field(default_factory=dict)
    operators_added: list[str] = field(default_factory=list)
    operators_removed: list[str] = field(default_factory=list)
    forms_added: list[str] = field(default_factory=list)
    forms_removed: list[str] = field(default_factory=list)
    rules_added: list[str] = field(default_factory=list)
    rules_removed: list[str] = field(default_factory=list)
    rules_changed: list[str] = field(default_factory=list)
    figures_changed: list[FieldChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(value for value in vars(self).values())


_FIGURES = (
    "legal_days",
    "committed_days",
    "fees",
    "legal_basis",
    "required_documents",
    "outputs",
    "parameters",
)


def diff_versions(a: Procedure, b: Procedure) -> VersionDiff:
    diff = VersionDiff()
    tasks_a, tasks_b = a.model.user_tasks, b.model.user_tasks
    for spec_name in sorted(set(tasks_b) - set(tasks_a)):
        task = tasks_b[spec_name]
        diff.steps_added.append(Step(spec_name, task.name, task.candidate_role or ""))
    for spec_name in sorted(set(tasks_a) - set(tasks_b)):
        task = tasks_a[spec_name]
        diff.steps_removed.append(Step(spec_name, task.name, task.candidate_role or ""))
    for spec_name in sorted(set(tasks_a) & set(tasks_b)):
        old, new = tasks_a[spec_name], tasks_b[spec_name]
        for what, before, after in (
            ("name", old.name, new.name),
            ("role", old.candidate_role, new.candidate_role),
            ("form", old.form, new.form),
            ("budget", a.step_budgets.get(spec_name), b.step_budgets.get(spec_name)),
        ):
            if before != after:
                diff.steps_changed.append(FieldChange(f"{spec_name}: {what}", before, after))
    diff.guessed_renames = {
        old: new
        for old, new in guessed_renames(a.model, b.model).items()
        if old in tasks_a and new in tasks_b
    }
    operators_a = {f"{spec}: {operator}" for spec, operator in service_operators(a.model)}
    operators_b = {f"{spec}: {operator}" for spec, operator in service_operators(b.model)}
    diff.operators_added = sorted(operators_b - operators_a)
    diff.operators_removed = sorted(operators_a - operators_b)
    forms_a, forms_b = _forms(a), _forms(b)
    diff.forms_added = sorted(forms_b - forms_a)
    diff.forms_removed = sorted(forms_a - forms_b)
    rules_a = {n: t for n, t in a.model.sources.items() if n.endswith(".dmn")}
    rules_b = {n: t for n, t in b.model.sources.items() if n.endswith(".dmn")}
    diff.rules_added = sorted(set(rules_b) - set(rules_a))
    diff.rules_removed = sorted(set(rules_a) - set(rules_b))
    diff.rules_changed = sorted(n for n in set(rules_a) & set(rules_b) if rules_a[n] != rules_b[n])
    for name in _FIGURES:
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            diff.figures_changed.append(FieldChange(name, before, after))
    return diff


def _forms(procedure: Procedure) -> set[str]:
    """The forms a version asks (a form's content never changes under its name)."""
    names = {procedure.start_form}
    names |= {task.form for task in procedure.model.user_task_specs() if task.form}
    return names
