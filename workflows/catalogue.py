"""The procedure catalogue: ``bpmn/catalogue.toml`` plus the models and forms it points at.

Everything is parsed and cross-checked once at start-up (``workflows.catalogue_loading``); anything
wrong stops start-up with a ``CatalogueError`` that names the file and the element at fault.

A procedure's rules change with the law, so a procedure is a series of dated versions (its
``[[procedure.versions]]``, each ``effective_from`` a date and optionally ``effective_until``):
legal basis, time limits, fees, dossier components, forms, models and outputs may differ per
version; what a version does not say it takes from its procedure. A dossier keeps the version in
force on the day it was received (``Dossier.rules_version``), so both versions run side by side
while newer dossiers follow the newer rules. Days are the office's (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forms.registry import Form, FormLibrary
from workflows.clock import as_utc, now, to_local
from workflows.engine import ProcessModel
from workflows.plugins import NO_PLUGIN, ProcedurePlugin
from workflows.start_windows import StartWindow

if TYPE_CHECKING:
    from workflows.models import Dossier


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
    # The national procedure code (mã TTHC), when the catalogue gives it.
    national_code: str = ""
    # The version of the rules this is: its first and last day in force (None: open-ended) and
    # what the procedure page calls it; ``version_key`` is what a dossier stores (the ISO date it
    # took effect, or "" for a procedure with a single, undated version).
    effective_from: date | None = None
    effective_until: date | None = None
    version_label_vi: str = ""
    version_label_en: str = ""
    # Data the procedure's plug-in reads for this version (the award's criteria and maxima…): the
    # ``parameters`` table of the procedure, with a version's own keys over it. Either table may
    # be written inline or name a TOML file beside the catalogue that holds it.
    parameters: Mapping[str, Any] = field(default_factory=dict)
    # The administrator's deployment this version came from (``workflows.deployments``); None for
    # a version installed with the software (the package's bpmn/ folder).
    deployment_id: int | None = None

    @property
    def version_key(self) -> str:
        """What a dossier stores to name its version: ``d<deployment id>`` for a deployed one, else
        the ISO date it took effect ("" for a procedure with a single, undated version)."""
        if self.deployment_id is not None:
            return f"d{self.deployment_id}"
        return self.effective_from.isoformat() if self.effective_from else ""

    def in_force_on(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_until is None or day <= self.effective_until
        )

    @property
    def start_window(self) -> StartWindow | None:
        """The registration window that gates starting the procedure, if any."""
        return self.plugin.start_window

    @property
    def internal(self) -> bool:
        """Started by the department's staff (``ProcedurePlugin.started_by``), not by a business:
        not in the public catalogue."""
        return self.plugin.started_by is not None

    @property
    def start_url(self) -> str:
        return self.start_page or f"/my/dossiers/new/{self.code}"

    def form(self, forms: FormLibrary, name: str) -> Form:
        """The form ``name`` as this version asks it: the plug-in may fit its own forms to the
        version's parameters (e.g. the maxima of the award's criteria)."""
        base = forms.get(name)
        fit = self.plugin.fit_form
        return fit(self, base) if fit is not None else base

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


def office_day(instant: datetime) -> date:
    """The office's calendar day of an instant: what decides the rules in force."""
    return to_local(instant).date()


@dataclass(frozen=True)
class Catalogue:
    # code -> its versions, oldest first (contiguous: checked at load)
    versions: dict[str, tuple[Procedure, ...]]
    source: Path
    # code -> the [[procedure]] table as written (without its versions) and its plug-in: what a
    # deployed version of the procedure is read against.
    entries: Mapping[str, tuple[dict[str, Any], ProcedurePlugin]] = field(default_factory=dict)
    # code -> the versions installed with the software (``versions`` adds the deployed ones)
    installed: Mapping[str, tuple[Procedure, ...]] = field(default_factory=dict)

    def with_deployed(self, deployed: list[Procedure]) -> Catalogue:
        """This catalogue with the administrator's deployed versions among the installed ones."""
        installed = self.installed or self.versions
        versions = {
            code: in_precedence([*own, *(p for p in deployed if p.code == code)])
            for code, own in installed.items()
        }
        return replace(self, versions=versions, installed=installed)

    @property
    def procedures(self) -> dict[str, Procedure]:
        """Each procedure as it stands today: the version in force (else the next one to come,
        else the last one): what lists, pages and the API describe."""
        today = office_day(now())
        return {code: self._nearest(code, today) for code in self.versions}

    @property
    def public(self) -> dict[str, Procedure]:
        """The procedures businesses and the public see (the internal ones left out)."""
        return {code: p for code, p in self.procedures.items() if not p.internal}

    def get(self, code: str, on: date | None = None) -> Procedure | None:
        """The version of procedure ``code`` in force on ``on`` (today by default), or None when
        the procedure is unknown or none of its versions is in force that day."""
        day = on or office_day(now())
        return next((p for p in self.versions.get(code, ()) if p.in_force_on(day)), None)

    def version(self, code: str, key: str) -> Procedure | None:
        return next((p for p in self.versions.get(code, ()) if p.version_key == key), None)

    def upcoming(self, code: str, on: date | None = None) -> Procedure | None:
        """The next version of ``code`` to take effect after ``on`` (today), if one is known."""
        day = on or office_day(now())
        return next(
            (p for p in self.versions.get(code, ()) if p.effective_from and p.effective_from > day), None
        )

    def for_dossier(self, dossier: Dossier) -> Procedure | None:
        """The version a dossier follows: the one it was pinned to, or (a dossier from before
        versions were recorded) the one in force on the day it was received or submitted."""
        if dossier.procedure_code not in self.versions:
            return None  # a procedure no longer in the catalogue
        if dossier.rules_version is not None:
            found = self.version(dossier.procedure_code, dossier.rules_version)
            if found is not None:
                return found
        received = dossier.received_at or dossier.submitted_at
        return self._nearest(dossier.procedure_code, office_day(as_utc(received)))

    def all_versions(self) -> list[Procedure]:
        return [p for versions in self.versions.values() for p in versions]

    def _nearest(self, code: str, day: date) -> Procedure:
        versions = self.versions[code]
        return next((p for p in versions if p.in_force_on(day)), None) or next(
            (p for p in versions if p.effective_from and p.effective_from > day), versions[-1]
        )


def in_precedence(versions: list[Procedure]) -> tuple[Procedure, ...]:
    """The versions by the day they take effect; each ends the day before the next begins. On one
    day a deployed version wins over an installed one and a later deployment over an earlier: a
    version whose day another took is kept (its dossiers still follow it) but is never in force."""
    ordered = sorted(versions, key=lambda p: (p.effective_from or date.min, p.deployment_id or 0))
    closed = []
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        if following is not None and following.effective_from is not None:
            last_day = following.effective_from - timedelta(days=1)
            if current.effective_until is None or current.effective_until > last_day:
                current = replace(current, effective_until=last_day)
        closed.append(current)
    return tuple(closed)
