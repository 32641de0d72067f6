"""What a procedure adds to the web app: its routers (pages and JSON routes), the fragments it
shows on the dossier and task pages, and the values those fragments read.

A procedure's plug-in names its web module (``ProcedurePlugin.web_module``, e.g.
``api.procedures.award``); that module's ``WEB`` is a :class:`ProcedureWeb`. The app includes
the routers of every procedure in the catalogue; the pages ask :func:`web_of` for the dossier's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from workflows.catalogue import Catalogue, Procedure
from workflows.models import Dossier, User, WorkTask
from workflows.runtime import Runtime

# (runtime, the person looking, the dossier, the data they may read) -> values for the fragments
PageValues = Callable[[Runtime, User, Dossier, dict[str, Any]], dict[str, Any]]


# (runtime, the officer, the dossier, the task, what its form starts from) -> what it starts from
FormStart = Callable[[Runtime, User, Dossier, WorkTask, dict[str, Any]], dict[str, Any]]


# Where the dossier and task pages include a procedure's fragments.
SLOTS = ("dossier_top", "dossier_after_documents", "task_top")


@dataclass(frozen=True)
class ProcedureWeb:
    routers: Sequence[APIRouter] = ()
    # Templates (in the plug-in's ``templates/pages``) included in the pages' slots (SLOTS).
    fragments: Mapping[str, Sequence[str]] = field(default_factory=dict)
    page_values: PageValues | None = None
    # What a task's form starts from beyond the dossier's values of its fields (a row to fill for
    # each item the step decides on, say).
    form_start: FormStart | None = None


NO_WEB = ProcedureWeb()


def web_of(procedure: Procedure | None) -> ProcedureWeb:
    """The web part of a procedure (nothing for a procedure without one)."""
    module_name = procedure.plugin.web_module if procedure is not None else None
    if not module_name:
        return NO_WEB
    web = getattr(importlib.import_module(module_name), "WEB", None)
    if not isinstance(web, ProcedureWeb):
        raise TypeError(f"{module_name} has no WEB = ProcedureWeb(...)")
    return web


def routers_of(catalogue: Catalogue) -> list[APIRouter]:
    """The routers of the catalogue's procedures, each procedure's once, in catalogue order."""
    seen: dict[str, ProcedureWeb] = {}
    for procedure in catalogue.procedures.values():
        if procedure.plugin.web_module:
            seen.setdefault(procedure.plugin.web_module, web_of(procedure))
    return [router for web in seen.values() for router in web.routers]


def form_start(
    rt: Runtime, user: User, dossier: Dossier, task: WorkTask, start: dict[str, Any]
) -> dict[str, Any]:
    """What the task's form starts from: ``start`` (the dossier's values of the form's fields),
    as the dossier's procedure completes it."""
    web = web_of(rt.catalogue.for_dossier(dossier))
    return web.form_start(rt, user, dossier, task, start) if web.form_start else start


def fragments(rt: Runtime, user: User, dossier: Dossier, data: dict[str, Any]) -> dict[str, Any]:
    """The dossier's procedure fragments by slot, and the values they read, for a page's context."""
    web = web_of(rt.catalogue.for_dossier(dossier))
    values = web.page_values(rt, user, dossier, data) if web.page_values and web.fragments else {}
    return {"procedure_fragments": {slot: list(names) for slot, names in web.fragments.items()}, **values}
