"""Loading the procedure catalogue: ``bpmn/catalogue.toml`` read into ``Catalogue`` and its dated
``Procedure`` versions, and an administrator's deployed version read against it.

Each ``[[procedure]]`` table and its ``[[procedure.versions]]`` are checked for types and unknown
keys, their versions dated contiguously (no overlap, no gap), and every model, form, operator and
output they name is cross-checked once at start-up; anything wrong is a ``CatalogueError`` that
names the file and the element at fault.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic import Field as PydanticField

from forms.registry import FormLibrary, FormNotFound, FormSchemaError
from workflows.catalogue import Catalogue, CatalogueError, Procedure
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

# The fields a version may change (``_Version``), as a Procedure names them.
_VERSIONED_FIELDS = (
    "legal_basis", "process_id", "bpmn_files", "start_form", "start_ui_form", "legal_days",
    "committed_days", "outputs", "step_budgets", "required_documents", "fees", "parameters",
)  # fmt: skip


def _as_entry_value(value: Any) -> Any:
    """A Procedure's field as catalogue.toml writes it (lists for tuples, plain dicts)."""
    if isinstance(value, tuple):
        return [dict(v) if isinstance(v, Mapping) else v for v in value]
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _budgets_as_floats(value: Any) -> Any:
    """TOML gives ints for "1" and floats for "1.5": both are budgets in days."""
    if isinstance(value, dict):
        return {
            k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in value.items()
        }
    return value


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
    # The national procedure code (mã TTHC) in the national database of administrative procedures;
    # left out until confirmed against it (never guessed).
    national_code: str = PydanticField(default="", max_length=40)
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
    parameters: dict[str, Any] | str = {}
    versions: list[dict[str, Any]] = []

    @field_validator("step_budgets", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return _budgets_as_floats(value)


class _Version(BaseModel):
    """One [[procedure.versions]] table: when it is in force, and what it changes."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Only the first version may leave it out: in force since before any other (an older text).
    effective_from: date | None = None
    effective_until: date | None = None
    label_vi: str = ""
    label_en: str = ""
    # What the version says differently from its procedure (None: as the procedure says).
    legal_basis: list[str] | None = None
    process_id: str | None = PydanticField(default=None, min_length=1)
    bpmn_files: list[str] | None = PydanticField(default=None, min_length=1)
    start_form: str | None = None
    start_ui_form: str | None = None
    legal_days: int | None = PydanticField(default=None, gt=0)
    committed_days: int | None = PydanticField(default=None, gt=0)
    outputs: list[str] | None = None
    step_budgets: dict[str, float] | None = None
    required_documents: list[dict[str, str]] | None = None
    fees: list[dict[str, str | int]] | None = None
    parameters: dict[str, Any] | str | None = None

    @field_validator("step_budgets", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return _budgets_as_floats(value)


def _parameters(where: str, value: dict[str, Any] | str | None, bpmn_dir: Path) -> dict[str, Any]:
    """A ``parameters`` table as written, or read from the TOML file it names (beside the catalogue)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    file = bpmn_dir / value
    if file.parent.resolve() != bpmn_dir.resolve() or not file.is_file():
        raise CatalogueError(f"{where}: parameters file {file} does not exist")
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{where}: parameters file {file} is not valid TOML: {exc}") from exc


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
    procedures: dict[str, tuple[Procedure, ...]] = {}
    bases: dict[str, tuple[dict[str, Any], ProcedurePlugin]] = {}
    for index, entry in enumerate(entries):
        versions = _load_procedure(path, index, entry, bpmn_dir, forms)
        code = versions[0].code
        if code in procedures:
            raise CatalogueError(f"{path}: procedure '{code}' is listed twice")
        procedures[code] = versions
        bases[code] = ({k: v for k, v in entry.items() if k != "versions"}, versions[0].plugin)
    if not procedures:
        raise CatalogueError(f"{path}: no [[procedure]] entries")
    return Catalogue(versions=procedures, source=path, entries=bases, installed=procedures)


def load_deployed_version(
    catalogue: Catalogue,
    code: str,
    raw_version: Any,
    bundle_dir: Path,
    forms: FormLibrary,
    deployment_id: int | None,
) -> Procedure:
    """A version of procedure ``code`` from an administrator's bundle: ``raw_version`` is its
    ``procedure.toml`` (the keys of a ``[[procedure.versions]]`` table; ``effective_from``
    required), its model files and parameters files are read from ``bundle_dir``, its forms from
    ``forms``. Checked as the installed catalogue is; CatalogueError names the file and element."""
    if code not in catalogue.entries:
        raise CatalogueError(f"procedure.toml: code '{code}' is no procedure of the catalogue")
    base, plugin = catalogue.entries[code]
    where = "procedure.toml"
    version = _parse_version(where, raw_version)
    if version.effective_from is None:
        raise CatalogueError(f"{where}: effective_from: the day the version takes effect is required")
    if version.effective_until is not None:
        raise CatalogueError(
            f"{where}: effective_until: a deployed version is in force until the next one takes effect"
        )
    installed = (catalogue.installed or catalogue.versions)[code]
    # The parameters of the installed version in force that day, under the bundle's own keys.
    inherited = next((p for p in installed if p.in_force_on(version.effective_from)), installed[-1])
    # What the bundle does not say is as the installed version in force that day says it.
    parsed = _parse_entry(where, base).model_dump(exclude={"versions"})
    parsed.update({key: _as_entry_value(getattr(inherited, key)) for key in _VERSIONED_FIELDS})
    procedure = _load_version(where, parsed, version, bundle_dir, forms, plugin)
    return replace(procedure, deployment_id=deployment_id)


def _parse_entry(where: str, raw: Any) -> _Entry:
    try:
        return _Entry.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'entry'}: {error['msg']}" for error in exc.errors()
        )
        raise CatalogueError(f"{where}: {problems}") from exc


def _load_procedure(
    path: Path, index: int, raw: Any, bpmn_dir: Path, forms: FormLibrary
) -> tuple[Procedure, ...]:
    code = raw.get("code", "?") if isinstance(raw, dict) else "?"
    where = f"{path}: procedure #{index + 1} ({code})"
    entry = _parse_entry(where, raw)
    try:
        plugin = load(entry.plugin) if entry.plugin else NO_PLUGIN
        if plugin.forms is not None:
            forms.add_folder(plugin.forms)
    except (PluginError, FormSchemaError) as exc:
        raise CatalogueError(f"{where}: {exc}") from exc

    base = entry.model_dump(exclude={"versions"})
    if not entry.versions:
        return (_load_version(where, base, None, bpmn_dir, forms, plugin),)
    versions: list[Procedure] = []
    for number, raw_version in enumerate(entry.versions):
        version = _parse_version(f"{where}: versions #{number + 1}", raw_version)
        if version.effective_from is None and number > 0:
            raise CatalogueError(
                f"{where}: versions #{number + 1}: effective_from is required but for the first"
            )
        since = f"{version.effective_from:%d/%m/%Y}" if version.effective_from else "the start"
        versions.append(
            _load_version(f"{where}: version from {since}", base, version, bpmn_dir, forms, plugin)
        )
    return _contiguous(where, versions)


def _parse_version(where: str, raw: Any) -> _Version:
    try:
        return _Version.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'entry'}: {error['msg']}" for error in exc.errors()
        )
        raise CatalogueError(f"{where}: {problems}") from exc


def _contiguous(where: str, versions: list[Procedure]) -> tuple[Procedure, ...]:
    """The versions in date order, each ending the day before the next begins (an open end is
    closed so); overlaps and gaps are refused with their dates."""
    ordered = sorted(versions, key=lambda p: p.effective_from or date.min)

    def span(p: Procedure) -> str:
        since = f"{p.effective_from:%d/%m/%Y}" if p.effective_from else "the start"
        return f"{since}–{p.effective_until:%d/%m/%Y}" if p.effective_until else since

    closed: list[Procedure] = []
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        if (
            current.effective_from is not None
            and current.effective_until is not None
            and current.effective_until < current.effective_from
        ):
            raise CatalogueError(
                f"{where}: the version from {current.effective_from:%d/%m/%Y} ends before it begins "
                f"({current.effective_until:%d/%m/%Y})"
            )
        if following is not None:
            assert following.effective_from is not None
            last_day = following.effective_from - timedelta(days=1)
            if current.effective_until is None:
                current = replace(current, effective_until=last_day)
            elif current.effective_until >= following.effective_from:
                raise CatalogueError(
                    f"{where}: versions overlap: {span(current)} and the one from "
                    f"{following.effective_from:%d/%m/%Y}"
                )
            elif current.effective_until < last_day:
                raise CatalogueError(
                    f"{where}: a gap between versions: none is in force from "
                    f"{current.effective_until + timedelta(days=1):%d/%m/%Y} to {last_day:%d/%m/%Y}"
                )
        closed.append(current)
    return tuple(closed)


def _load_version(
    where: str,
    base: dict[str, Any],
    version: _Version | None,
    bpmn_dir: Path,
    forms: FormLibrary,
    plugin: ProcedurePlugin,
) -> Procedure:
    """One version of a procedure: the procedure's fields with what ``version`` changes."""
    values = dict(base)
    parameters = _parameters(where, base.get("parameters"), bpmn_dir)
    if version is not None:
        parameters |= _parameters(where, version.parameters, bpmn_dir)
        values.update(
            {
                k: v
                for k, v in version.model_dump(
                    exclude={"effective_from", "effective_until", "label_vi", "label_en", "parameters"}
                ).items()
                if v is not None
            }
        )
    values["parameters"] = parameters
    entry = _Entry.model_validate(values, strict=False)
    if entry.committed_days > entry.legal_days:
        raise CatalogueError(f"{where}: committed_days must not be more than legal_days")

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

    procedure = Procedure(
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
        national_code=entry.national_code,
        effective_from=version.effective_from if version else None,
        effective_until=version.effective_until if version else None,
        version_label_vi=version.label_vi if version else "",
        version_label_en=version.label_en if version else "",
        parameters=parameters,
    )
    if plugin.check_parameters is not None:
        for problem in plugin.check_parameters(parameters):
            raise CatalogueError(f"{where}: parameters: {problem}")
    return procedure


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
