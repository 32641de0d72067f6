"""What the campaign shows on its dossier and task pages: its findings, each with the id the
handling step names (the generic task page does the steps), and the handling form started with a
row for each violation, so the officer decides each without copying ids."""

from __future__ import annotations

from typing import Any

from api.procedures.metrology_campaign.routes import finding_json
from workflows import permissions
from workflows.db import reading
from workflows.models import Dossier, User, WorkTask
from workflows.procedures.metrology_campaign.actions import READ
from workflows.procedures.metrology_campaign.findings import counts_of, findings_of
from workflows.runtime import Runtime


def findings_values(rt: Runtime, user: User, dossier: Dossier, data: dict[str, Any]) -> dict[str, Any]:
    if dossier.id is None or not permissions.may(user, READ):
        return {"campaign_findings": []}
    with reading(rt.engine) as session:
        rows = findings_of(session, dossier.id)
    return {"campaign_findings": [finding_json(r) for r in rows], "campaign_counts": counts_of(rows)}


HANDLING_STEP = "handle"


def handling_rows(
    rt: Runtime, user: User, dossier: Dossier, task: WorkTask, start: dict[str, Any]
) -> dict[str, Any]:
    """The handling step's form, when nothing was typed in it yet: one row per violation found,
    in the order of the findings list, each naming its finding."""
    if task.spec_name != HANDLING_STEP or start.get("handlings") or dossier.id is None:
        return start
    with reading(rt.engine) as session:
        rows = findings_of(session, dossier.id)
    violations = [{"finding_id": row.id} for row in rows if row.violating and not row.action]
    return {**start, "handlings": violations} if violations else start
