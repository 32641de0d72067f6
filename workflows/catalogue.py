"""The procedure catalogue: ``bpmn/catalogue.toml`` plus the models and forms it points at.

Everything is parsed and cross-checked once at start-up; anything wrong stops start-up with a
``CatalogueError`` that names the file and the element at fault.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic import Field as PydanticField

from forms.registry import FormLibrary, FormNotFound, FormSchemaError
from workflows.documents import DOCUMENT_KINDS
from workflows.documents.slips import ONE_STOP_KINDS
from workflows.engine import (
    OPERATOR_PREFIX,
    ModelError,
    ProcessModel,
    parse_model,
    service_operator_params,
    service_operators,
)
from workflows.models import known_roles
from workflows.operator_params import CORE_OPERATORS, check_operator_params
from workflows.plugins import NO_PLUGIN, PluginError, ProcedurePlugin, load
from workflows.start_windows import StartWindow


class CatalogueError(Exception):
    """The catalogue, a model or a form it names cannot be used."""


@dataclass(frozen=True)
class Procedure:
    code: str
    name_vi: str
    name_en: str
    summary_vi: str
    summary_en: str
    field_vi: str
    field_en: str
    legal_basis: tuple[str, ...]
    process_id: str
    bpmn_files: tuple[str, ...]
    start_form: str
    start_ui_form: str | None
    subject_field: str
    applicant_name_field: str
    applicant_tax_code_field: str
    legal_days: int
    committed_days: int
    step_budgets: dict[str, float]
    required_documents: tuple[dict[str, str], ...]
    fees: tuple[dict[str, Any], ...]
    outputs: tuple[str, ...]
    model: ProcessModel = field(repr=False)
    # The procedure's own code (workflows.plugins): operators, statuses, facts, window…
    plugin: ProcedurePlugin = NO_PLUGIN
    # Where people start the procedure when it has a page of its own (the TBT question form, which
    # visitors without an account use too); else the generic new-dossier page.
    start_page: str | None = None

    @property
    def start_window(self) -> StartWindow | None:
        """The registration window that gates starting the procedure, if any."""
        return self.plugin.start_window

    @property
    def start_url(self) -> str:
        return self.start_page or f"/my/dossiers/new/{self.code}"

    def subject_of(self, data: dict[str, Any]) -> str:
        return str(value_at(data, self.subject_field) or "")[:500]

    def applicant_name_of(self, data: dict[str, Any]) -> str:
        return str(value_at(data, self.applicant_name_field) or "")[:300]

    def applicant_section_of(self, data: dict[str, Any]) -> dict[str, Any]:
        """The start form's section about the applicant (``applicant``, ``importer``,
        ``organisation``, ``asker``…): the object holding ``applicant_name_field``."""
        parent = self.applicant_name_field.rpartition(".")[0]
        section = value_at(data, parent) if parent else data
        return section if isinstance(section, dict) else {}

    def tax_code_of(self, data: dict[str, Any]) -> str | None:
        value = value_at(data, self.applicant_tax_code_field)
        return str(value) if value is not None else None


def value_at(data: Any, dotted: str) -> Any:
    """The value at a dotted path (``product.name``, ``goods.0.name``) of form data, or None."""
    for part in dotted.split(".") if dotted else []:
        if isinstance(data, list) and part.isdigit():
            data = data[int(part)] if int(part) < len(data) else None
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


@dataclass(frozen=True)
class Catalogue:
    procedures: dict[str, Procedure]
    source: Path

    def get(self, code: str) -> Procedure | None:
        return self.procedures.get(code)

    def by_process_id(self, process_id: str) -> Procedure | None:
        return next((p for p in self.procedures.values() if p.process_id == process_id), None)


class _Entry(BaseModel):
    """One [[procedure]] table as written in catalogue.toml; types are checked, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = PydanticField(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name_vi: str = PydanticField(min_length=1)
    name_en: str = PydanticField(min_length=1)
    summary_vi: str = ""
    summary_en: str = ""
    field: str = ""
    field_en: str = ""
    start_page: str | None = PydanticField(default=None, pattern=r"^/[a-z0-9/_-]*$")
    legal_basis: list[str] = []
    process_id: str = PydanticField(min_length=1)
    bpmn_files: list[str] = PydanticField(min_length=1)
    start_form: str
    start_ui_form: str | None = None
    subject_field: str = ""
    applicant_name_field: str = ""
    applicant_tax_code_field: str = ""
    legal_days: int = PydanticField(gt=0)
    committed_days: int = PydanticField(gt=0)
    outputs: list[str] = []
    plugin: str | None = PydanticField(default=None, pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
    step_budgets: dict[str, float] = {}
    required_documents: list[dict[str, str]] = []
    fees: list[dict[str, str | int]] = []

    @field_validator("step_budgets", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        # TOML gives ints for "1" and floats for "1.5": both are budgets in days.
        if isinstance(value, dict):
            return {
                k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in value.items()
            }
        return value


def load_catalogue(bpmn_dir: Path, forms: FormLibrary) -> Catalogue:
    path = bpmn_dir / "catalogue.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: the catalogue file is missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc
    entries = raw.get("procedure", [])
    if not isinstance(entries, list):
        raise CatalogueError(f"{path}: procedure: write each procedure as a [[procedure]] table")
    procedures: dict[str, Procedure] = {}
    for index, entry in enumerate(entries):
        procedure = _load_procedure(path, index, entry, bpmn_dir, forms)
        if procedure.code in procedures:
            raise CatalogueError(f"{path}: procedure '{procedure.code}' is listed twice")
        procedures[procedure.code] = procedure
    if not procedures:
        raise CatalogueError(f"{path}: no [[procedure]] entries")
    return Catalogue(procedures=procedures, source=path)


def _parse_entry(where: str, raw: Any) -> _Entry:
    try:
        return _Entry.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'entry'}: {error['msg']}" for error in exc.errors()
        )
        raise CatalogueError(f"{where}: {problems}") from exc


def _load_procedure(path: Path, index: int, raw: Any, bpmn_dir: Path, forms: FormLibrary) -> Procedure:
    code = raw.get("code", "?") if isinstance(raw, dict) else "?"
    where = f"{path}: procedure #{index + 1} ({code})"
    entry = _parse_entry(where, raw)
    if entry.committed_days > entry.legal_days:
        raise CatalogueError(f"{where}: committed_days must not be more than legal_days")

    try:
        plugin = load(entry.plugin) if entry.plugin else NO_PLUGIN
        if plugin.forms is not None:
            forms.add_folder(plugin.forms)
    except (PluginError, FormSchemaError) as exc:
        raise CatalogueError(f"{where}: {exc}") from exc

    sources: dict[str, str] = {}
    for name in entry.bpmn_files:
        file = bpmn_dir / name
        if not file.is_file():
            raise CatalogueError(f"{where}: model file {file} does not exist")
        sources[name] = file.read_text(encoding="utf-8")
    try:
        model = parse_model(entry.process_id, sources)
    except ModelError as exc:
        raise CatalogueError(f"{where}: {exc}") from exc

    _check_form(forms, where, "start_form", entry.start_form)
    if entry.start_ui_form:
        _check_form(forms, where, "start_ui_form", entry.start_ui_form, ui=True)
    check_model(model, forms, where, plugin)
    for kind in entry.outputs:
        if kind not in DOCUMENT_KINDS or (kind not in ONE_STOP_KINDS and kind not in plugin.document_kinds):
            raise CatalogueError(f"{where}: output '{kind}' is not a known document kind")
    for spec_name in entry.step_budgets:
        if spec_name not in model.user_tasks:
            raise CatalogueError(
                f"{where}: step_budgets names '{spec_name}', which is no user task of the model"
            )

    return Procedure(
        code=entry.code,
        name_vi=entry.name_vi,
        name_en=entry.name_en,
        summary_vi=entry.summary_vi,
        summary_en=entry.summary_en,
        field_vi=entry.field,
        field_en=entry.field_en or entry.field,
        legal_basis=tuple(entry.legal_basis),
        process_id=entry.process_id,
        bpmn_files=tuple(entry.bpmn_files),
        start_form=entry.start_form,
        start_ui_form=entry.start_ui_form,
        subject_field=entry.subject_field,
        applicant_name_field=entry.applicant_name_field,
        applicant_tax_code_field=entry.applicant_tax_code_field,
        legal_days=entry.legal_days,
        committed_days=entry.committed_days,
        step_budgets=dict(entry.step_budgets),
        required_documents=tuple(entry.required_documents),
        fees=tuple(entry.fees),
        outputs=tuple(entry.outputs),
        model=model,
        plugin=plugin,
        start_page=entry.start_page,
    )


def check_model(
    model: ProcessModel, forms: FormLibrary, where: str, plugin: ProcedurePlugin = NO_PLUGIN
) -> None:
    """Every user task names a known role and existing forms; every service task an operator of
    the core or of the procedure's own plug-in, with parameters it accepts."""
    files = ", ".join(sorted(model.sources))
    for task in model.user_task_specs():
        element = f"{files}, element bpmn:userTask {task.spec_name}"
        if task.candidate_role not in known_roles():
            raise CatalogueError(
                f"{where}: {element}: lane/candidateRole '{task.candidate_role}' is not one of {', '.join(known_roles())}"
            )
        if not task.form:
            raise CatalogueError(f"{where}: {element}: no formJsonSchemaFilename property")
        _check_form(forms, f"{where}: {element}", "formJsonSchemaFilename", task.form)
        if task.ui_form:
            _check_form(forms, f"{where}: {element}", "formUiSchemaFilename", task.ui_form, ui=True)
    for spec_name, operator in service_operators(model):
        name = operator.removeprefix(OPERATOR_PREFIX)
        if not operator.startswith(OPERATOR_PREFIX) or (
            name not in CORE_OPERATORS and name not in plugin.operators
        ):
            raise CatalogueError(
                f"{where}: {files}, element bpmn:serviceTask {spec_name}: unknown operator '{operator}'"
            )
    for spec_name, operator, params in service_operator_params(model):
        for problem in check_operator_params(operator.removeprefix(OPERATOR_PREFIX), params, plugin):
            raise CatalogueError(f"{where}: {files}, element bpmn:serviceTask {spec_name}: {problem}")


def _check_form(forms: FormLibrary, where: str, key: str, name: str, ui: bool = False) -> None:
    if ui:
        schema_name = name.replace(".uischema.json", ".schema.json")
        try:
            form = forms.get(schema_name)
        except (FormNotFound, FormSchemaError) as exc:
            raise CatalogueError(f"{where}: {key} '{name}': {exc}") from exc
        if not form.ui_schema:
            raise CatalogueError(f"{where}: {key} '{name}' does not exist")
        return
    try:
        forms.get(name)
    except (FormNotFound, FormSchemaError) as exc:
        raise CatalogueError(f"{where}: {key} '{name}': {exc}") from exc
