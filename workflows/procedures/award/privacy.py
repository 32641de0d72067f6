"""Independent scoring: until the council's scores are aggregated, nobody reads a member's score
sheet through the dossier (its data, its history, the task forms) — not the other members, and
not the officers either, so that no one can pass a score on. After the aggregation the sheets,
the means and the spreads are open to the officers.
"""

from __future__ import annotations

from typing import Any

from workflows.models import AuditEvent, Dossier
from workflows.plugins import DossierPrivacy
from workflows.procedures.award.rounds import AWARD_PROCEDURE

# What one member's score sheet leaves in the process data while the council is scoring.
SEALED_KEYS = frozenset(
    {"council_scores", "score", "criterion_scores", "criterion_comments", "overall_comment", "member_id"}
)
SCORING_TASK = "score_application"
# The council's working documents: officers only (the applicant gets the letter with the feedback).
INTERNAL_DOCUMENT_KINDS = frozenset({"award_scoring_sheet"})


def is_sealed(dossier: Dossier) -> bool:
    if dossier.procedure_code != AWARD_PROCEDURE:
        return False
    aggregation = (dossier.data or {}).get("aggregation")
    return not (isinstance(aggregation, dict) and aggregation.get("scored_count"))


def seal_data(dossier: Dossier, data: dict[str, Any]) -> dict[str, Any]:
    if not is_sealed(dossier):
        return data
    return {k: v for k, v in data.items() if k not in SEALED_KEYS}


def seal_history(dossier: Dossier, events: list[AuditEvent]) -> list[AuditEvent]:
    """The history with the scoring tasks' form data left out while the scores are sealed
    (copies: the stored, hash-chained events are not touched)."""
    if not is_sealed(dossier):
        return events
    shown = []
    for event in events:
        details = event.details or {}
        if event.action == "task_completed" and details.get("task") == SCORING_TASK:
            copy = AuditEvent.model_validate(event.model_dump())
            copy.details = {k: v for k, v in details.items() if k != "data"}
            shown.append(copy)
        else:
            shown.append(event)
    return shown


class AwardPrivacy(DossierPrivacy):
    """Score sheets sealed until the aggregation; the council's working documents for officers."""

    def visible_data(self, dossier: Dossier, data: dict[str, Any]) -> dict[str, Any]:
        return seal_data(dossier, data)

    def visible_history(self, dossier: Dossier, events: list[AuditEvent]) -> list[AuditEvent]:
        return seal_history(dossier, events)

    def applicant_may_read(self, kind: str) -> bool:
        return kind not in INTERNAL_DOCUMENT_KINDS
