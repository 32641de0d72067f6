"""The core's service-task operators by name, and what their parameters must be as written in a
model (checked when the catalogue loads, before any dossier runs). The acts themselves are in
``workflows.effects``; a procedure's own operators and their checks come with its plug-in."""

from __future__ import annotations

import ast
from typing import Any

from workflows.documents import DOCUMENT_KINDS
from workflows.documents.slips import ONE_STOP_KINDS
from workflows.models import OUTCOMES
from workflows.outbox import model_event_types
from workflows.plugins import NO_PLUGIN, ProcedurePlugin

CORE_OPERATORS = frozenset(
    {"receive", "pause_clock", "resume_clock", "issue_document", "close", "flag", "record_outcome"}
)


def _literal(expression: str) -> Any:
    try:
        return ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def check_operator_params(
    operator: str, params: dict[str, str], plugin: ProcedurePlugin = NO_PLUGIN
) -> list[str]:
    """What is wrong with a service task's parameters (their expressions as written), for the
    catalogue check at start-up: the values that must be known before the model runs."""
    own_check = plugin.parameter_checks.get(operator)
    problems = list(own_check(params)) if own_check is not None else []
    if operator == "issue_document":
        kind = _literal(params.get("kind", ""))
        own = ONE_STOP_KINDS | set(plugin.document_kinds)
        if kind not in DOCUMENT_KINDS:
            problems.append(
                f"issue_document: kind must be a known document kind in quotes, not {params.get('kind')!r}"
            )
        elif kind not in own:
            problems.append(
                f"issue_document: kind {kind!r} is not one of this procedure's document kinds "
                f"({', '.join(sorted(own))})"
            )
        if "event" in params and _literal(params["event"]) not in model_event_types():
            problems.append(
                f"issue_document: event {params['event']!r} is not one of "
                f"{', '.join(repr(e) for e in sorted(model_event_types()))}"
            )
    if operator == "record_outcome":
        if _literal(params.get("outcome", "")) not in OUTCOMES:
            problems.append(f"record_outcome: outcome must be one of {', '.join(repr(o) for o in OUTCOMES)}")
        if not params.get("subject_key", "").strip():
            problems.append(
                'record_outcome: subject_key (an expression, e.g. importer["tax_code"]) is missing'
            )
    return problems
