"""The dossier statuses people see, with their Vietnamese and English labels.

Open statuses come from the ``dossierStatus`` property of the waiting user task in the model;
closed ones from the ``outcome`` of the model's ``tdcflow/close`` step, or from a withdrawal. The
statuses here are every procedure's; a procedure's own come with its plug-in.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workflows.engine import OPERATOR_PREFIX, service_operator_params
from workflows.plugins import plugin_statuses

if TYPE_CHECKING:
    from workflows.catalogue import Procedure

# Every dossier is submitted first; the projection says "processing" while no waiting task names a
# status (workflows.projection); a closing step without an outcome completes it; a business may
# withdraw an open dossier of any procedure (workflows.commands.withdraw).
STATUSES_OF_EVERY_PROCEDURE = ("submitted", "processing")
CLOSED_WITHOUT_OUTCOME = "completed"
WITHDRAWN = "withdrawn"

CORE_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "submitted": ("Đã nộp", "Submitted"),
    "awaiting_receipt": ("Chờ tiếp nhận", "Awaiting receipt"),
    "supplement_requested": ("Yêu cầu bổ sung", "Supplement requested"),
    "processing": ("Đang xử lý", "Being processed"),
    "awaiting_approval": ("Chờ phê duyệt", "Awaiting approval"),
    "issued": ("Đã trả kết quả", "Result issued"),
    "rejected": ("Không tiếp nhận", "Rejected"),
    "refused": ("Từ chối tiếp nhận", "Refused"),
    "withdrawn": ("Đã rút hồ sơ", "Withdrawn"),
    "expired": ("Dừng xử lý do quá hạn bổ sung", "Stopped: supplement not received in time"),
    "completed": ("Đã hoàn thành", "Completed"),
}


def status_labels() -> dict[str, tuple[str, str]]:
    """Every status known now: the core's and those of the plug-ins loaded."""
    return {**CORE_STATUS_LABELS, **plugin_statuses()}


def status_label(status: str) -> tuple[str, str]:
    return status_labels().get(status, (status, status))


def procedure_statuses(versions: Iterable[Procedure]) -> list[str]:
    """The statuses a dossier of these versions of one procedure can be in, in the order of the
    flow: as submitted, each waiting user task's ``dossierStatus``, each ``close`` step's
    ``outcome``, the statuses its plug-in names, withdrawn. Read from the models, never listed."""
    found: dict[str, None] = dict.fromkeys(STATUSES_OF_EVERY_PROCEDURE)
    closing: dict[str, None] = {}
    for procedure in versions:
        for task in procedure.model.user_task_specs():
            if task.dossier_status:
                found[task.dossier_status] = None
        for _step, operator, params in service_operator_params(procedure.model):
            if operator == f"{OPERATOR_PREFIX}close":
                closing[_literal(params.get("outcome")) or CLOSED_WITHOUT_OUTCOME] = None
        found.update(dict.fromkeys(procedure.plugin.statuses))
    return list({**found, **closing, WITHDRAWN: None})


def _literal(expression: str | None) -> str | None:
    """The string an outcome expression names (``'issued'``); None for one computed at run time."""
    try:
        value = ast.literal_eval(expression or "")
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class StatusOption:
    """A status a filter offers, and the procedures whose dossiers can be in it."""

    key: str
    label_vi: str
    label_en: str
    procedures: tuple[str, ...]


def status_options(procedures: Mapping[str, Iterable[Procedure]]) -> list[StatusOption]:
    """Every procedure's statuses once each (``procedure_statuses``; code -> its versions), in the
    order the procedures first reach them, each naming the procedures it belongs to."""
    owners: dict[str, list[str]] = {}
    for code, versions in procedures.items():
        for status in procedure_statuses(versions):
            owners.setdefault(status, []).append(code)
    return [StatusOption(key, *status_label(key), tuple(codes)) for key, codes in owners.items()]
