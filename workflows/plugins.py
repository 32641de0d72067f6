"""The procedure plug-in interface: what a procedure adds to the generic core, and where the core
finds it (DESIGN rule 12).

A procedure is a package (``workflows.procedures.<name>``, or any importable module: a test
defines one in its own folder) whose ``PLUGIN`` is a :class:`ProcedurePlugin`. The catalogue entry
of the procedure names that module (``plugin = "workflows.procedures.award"``); loading the
catalogue imports it and registers it here. A procedure with nothing of its own (only the core
operators, slips and statuses) names no plug-in.

Two kinds of things are added, the way SpiffWorkflow's dialects add to its generic core:

* **words** everyone may meet, whatever the procedure: dossier statuses and their labels, roles,
  permissions (the actions the policy knows, and who may do them), outbox event types (and who
  hears of them), document kinds (registered by the ``document_kind``
  decorator when the package imports its documents module). They are merged here, process-wide.
* **acts** of the procedure's own dossiers: its service-task operators, the facts its process
  starts with, the window its start is gated by, the functions its model's expressions call,
  what of its dossiers is sealed from whom, its demo data. The core reaches them through the
  dossier's procedure (``procedure.plugin``), so a procedure never runs another's acts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from forms.registry import Form
    from workflows.calendar import WorkingCalendar
    from workflows.catalogue import Procedure
    from workflows.context import CommandContext
    from workflows.models import AuditEvent, Dossier, User
    from workflows.permissions import Action
    from workflows.runtime import Runtime
    from workflows.start_windows import StartWindow

# A service-task operator: applied in the command's transaction with the step's parameters.
Operator = Callable[["CommandContext", dict[str, Any]], None]
# What is wrong with a service task's parameters as written (checked when the catalogue loads).
ParameterCheck = Callable[[dict[str, str]], list[str]]
# (session, procedure code, the applicant's tax code, the submission instant) -> start variables
FactProvider = Callable[["Session", str, str, datetime], dict[str, Any]]
# (session, the dossier's data) -> values a document kind prints besides the form data
DocumentValues = Callable[["Session", dict[str, Any]], dict[str, Any]]
# (runtime) -> dossier codes made
DemoMaker = Callable[["Runtime"], list[str]]


@dataclass(frozen=True)
class EventType:
    """An outbox event type and who hears of it: the dossier's applicant (``applicant_hears``),
    everyone holding one of ``roles``, the users whose ids the event's payload lists under
    ``users_key``, the e-mail address the payload carries under ``email_key`` (a person without an
    account, e.g. who contested a tax code: e-mail only). ``model_may_emit``: a model's
    ``issue_document`` step may name it as its ``event``. ``account_mail``: a message about the
    account of the payload's ``user_id`` (a password reset link, an e-mail verification): by e-mail
    only, whatever the person's channel preferences, and never to a partner's webhook. (The core's
    task and deadline events have rules of their own: notifications.rules.)"""

    name: str
    applicant_hears: bool = False
    roles: tuple[str, ...] = ()
    users_key: str | None = None
    email_key: str | None = None
    model_may_emit: bool = False
    account_mail: bool = False


class DossierPrivacy:
    """What of a procedure's dossiers is kept from whom (by default: nothing)."""

    def visible_data(self, dossier: Dossier, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def visible_history(self, dossier: Dossier, events: list[AuditEvent]) -> list[AuditEvent]:
        return events

    def applicant_may_read(self, kind: str) -> bool:
        return True


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    full_name: str
    roles: tuple[str, ...]
    job_title: str = ""
    tax_code: str | None = None
    organisation_name: str | None = None
    address: str | None = None
    note: str = ""
    # A business: the registration the demo clerk checked its tax code against (verified at set-up);
    # empty: left unverified.
    tax_code_evidence: str = ""


@dataclass(frozen=True)
class NavLink:
    """A link a procedure adds to the pages' menus: the main menu or the administration tabs
    (``where``: "main" | "admin"), for ``audience`` "everyone", "officers", "admins" or those
    the policy allows the action of that name."""

    where: str
    url: str
    label_vi: str
    label_en: str
    audience: str = "everyone"


@dataclass(frozen=True)
class ProcedurePlugin:
    name: str
    # -- words ---------------------------------------------------------------------------------
    # The document kinds it issues (each registered by its documents module's ``document_kind``).
    document_kinds: Sequence[str] = ()
    statuses: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    roles: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # How its own audit actions read in a dossier's history, and its clock pauses (reason ->
    # (paused, resumed)), in Vietnamese and English.
    history_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    pause_labels: Mapping[str, tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=dict)
    event_types: Sequence[EventType] = ()
    # What its pages, routes and commands ask the permissions policy (workflows.permissions): its
    # actions, each naming the roles that may do it.
    permissions: Sequence[Action] = ()
    # An internal procedure, started by the department's own staff rather than submitted by a
    # business (e.g. an inspection campaign): the action the policy asks of who starts it. Such a
    # procedure is kept out of the public catalogue and the business-facing pages, and the generic
    # submission asks this action instead of the business's ``dossier.submit``.
    started_by: Action | None = None
    # -- acts on its own dossiers ----------------------------------------------------------------
    operators: Mapping[str, Operator] = field(default_factory=dict)
    parameter_checks: Mapping[str, ParameterCheck] = field(default_factory=dict)
    document_values: Mapping[str, DocumentValues] = field(default_factory=dict)
    start_facts: FactProvider | None = None
    start_window: StartWindow | None = None
    # (the office calendar, the dossier's version) -> the functions its model's expressions call
    script_functions: Callable[[WorkingCalendar, Procedure], Mapping[str, Callable[..., Any]]] | None = None
    # What is wrong with a version's ``parameters`` (checked when the catalogue loads).
    check_parameters: Callable[[Mapping[str, Any]], list[str]] | None = None
    # (the version, one of the forms) -> that form fitted to the version's parameters (its maxima…)
    fit_form: Callable[[Procedure, Form], Form] | None = None
    # (session, the version, the applicant, the filed form, the submission instant) -> None, or
    # raise InvalidInput naming the field at fault: who may apply (e.g. years of operation).
    check_start: Callable[[Session, Procedure, User, dict[str, Any], datetime], None] | None = None
    # What officers should be warned of on an open dossier's pages (e.g. a certificate that expires
    # before the result is due): (its data, the office's today, the appointment day) →
    # [(Vietnamese, English)].
    dossier_warnings: Callable[[Mapping[str, Any], date, date | None], list[tuple[str, str]]] | None = None
    privacy: DossierPrivacy = field(default_factory=DossierPrivacy)
    # Who processes its dossiers when not the specialists (hears that an appointment is at risk).
    processing_role: str = "specialist"
    # Who signs the receipt when the model receives a dossier on submission, no officer in person
    # ("{place}": the agency's place): the one-stop unit unless told otherwise.
    receiving_unit: str = "Bộ phận Tiếp nhận và Trả kết quả"
    # (user, signing key, dossier code) -> the secret link a person without an account follows
    # the dossier by (e-mailed instead of the dossier page), or None when ``user`` has an account.
    visitor_link: Callable[[User, str, str], str | None] | None = None
    # -- around it ------------------------------------------------------------------------------
    demo_accounts: Sequence[DemoAccount] = ()
    demo: DemoMaker | None = None
    # Its pages and JSON routes: a module of ``api`` whose ``WEB`` (api.procedure_web) the web room
    # adds to the app (this room never imports it); its templates folder (``pages/`` for the
    # pages, ``notifications/`` for its events' messages); the links it adds to the menus.
    web_module: str | None = None
    templates: Path | None = None
    # A folder of the forms it brings (``*.schema.json``, beside the core's ``forms/schemas``).
    forms: Path | None = None
    nav: Sequence[NavLink] = ()


# A procedure that adds nothing: only the core's operators, slips and statuses.
NO_PLUGIN = ProcedurePlugin(name="")

_REGISTERED: dict[str, ProcedurePlugin] = {}


class PluginError(Exception):
    """A plug-in that cannot be loaded (the message names the module and what is wrong)."""


def load(module_name: str) -> ProcedurePlugin:
    """Import ``module_name``, register its ``PLUGIN`` and return it."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginError(f"plug-in module '{module_name}' cannot be imported: {exc}") from exc
    plugin = getattr(module, "PLUGIN", None)
    if not isinstance(plugin, ProcedurePlugin):
        raise PluginError(f"plug-in module '{module_name}' has no PLUGIN = ProcedurePlugin(...)")
    register(plugin)
    return plugin


def register(plugin: ProcedurePlugin) -> None:
    known = _REGISTERED.get(plugin.name)
    if known is not None and known is not plugin:
        raise PluginError(f"two plug-ins are named '{plugin.name}'")
    _REGISTERED[plugin.name] = plugin


def registered() -> list[ProcedurePlugin]:
    return list(_REGISTERED.values())


def plugin_statuses() -> dict[str, tuple[str, str]]:
    return {status: label for plugin in _REGISTERED.values() for status, label in plugin.statuses.items()}


def plugin_roles() -> dict[str, tuple[str, str]]:
    return {role: label for plugin in _REGISTERED.values() for role, label in plugin.roles.items()}


def plugin_permissions() -> dict[str, Action]:
    """The procedures' actions by name (workflows.permissions merges them with the core's)."""
    return {action.name: action for plugin in _REGISTERED.values() for action in plugin.permissions}


def plugin_event_types() -> list[EventType]:
    return [event for plugin in _REGISTERED.values() for event in plugin.event_types]


def plugin_history_labels() -> dict[str, tuple[str, str]]:
    return {a: label for plugin in _REGISTERED.values() for a, label in plugin.history_labels.items()}


def plugin_pause_labels() -> dict[str, tuple[tuple[str, str], tuple[str, str]]]:
    return {r: labels for plugin in _REGISTERED.values() for r, labels in plugin.pause_labels.items()}


def nav_links(where: str) -> list[NavLink]:
    return [link for plugin in _REGISTERED.values() for link in plugin.nav if link.where == where]


def template_folders() -> list[Path]:
    return [plugin.templates for plugin in _REGISTERED.values() if plugin.templates is not None]
