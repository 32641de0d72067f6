"""National Quality Award: the criteria, their maxima and who may apply, as data of the rules.

The award's catalogue entry names a parameters file per version of the rules (today
``bpmn/award_criteria_2019.toml``, Circular 27/2019/TT-BKHCN): each criterion's key, names and
maximum, the months of operation an applicant needs and how long a Gold winner waits. This module
reads them (``rules_of``), checks them when the catalogue loads (``check_parameters``) and fits the
award's forms to them (``fit_form``: the score sheet's and the self-assessment's maxima). The
recommendation's thresholds stay in ``award_recommendation.dmn``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forms.registry import Form
    from workflows.catalogue import Procedure


@dataclass(frozen=True)
class Criterion:
    key: str
    number: int
    name_vi: str
    name_en: str
    maximum: int


@dataclass(frozen=True)
class AwardRules:
    criteria: tuple[Criterion, ...]
    source_vi: str
    source_en: str
    min_operation_months: int
    gold_reentry_years: int

    @property
    def total_maximum(self) -> int:
        return sum(c.maximum for c in self.criteria)

    def as_facts(self) -> list[dict[str, Any]]:
        return [
            {
                "key": c.key,
                "number": c.number,
                "name_vi": c.name_vi,
                "name_en": c.name_en,
                "maximum": c.maximum,
            }
            for c in self.criteria
        ]


def check_parameters(parameters: Mapping[str, Any]) -> list[str]:
    """What is wrong with a version's parameters (the catalogue refuses them at load)."""
    problems: list[str] = []
    criteria = parameters.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        return ["criteria: give the award's criteria as [[criteria]] tables (key, name_vi, name_en, maximum)"]
    keys: list[str] = []
    for index, item in enumerate(criteria, start=1):
        if not isinstance(item, Mapping) or set(item) != {"key", "name_vi", "name_en", "maximum"}:
            problems.append(f"criteria #{index}: give exactly key, name_vi, name_en and maximum")
            continue
        if not isinstance(item["key"], str) or not item["key"].isidentifier():
            problems.append(f"criteria #{index}: key must be a name such as 'leadership'")
        if not isinstance(item["maximum"], int) or isinstance(item["maximum"], bool) or item["maximum"] <= 0:
            problems.append(f"criteria #{index} ({item['key']}): maximum must be a whole number above 0")
        keys.append(str(item["key"]))
    if len(set(keys)) != len(keys):
        problems.append("criteria: a key is listed twice")
    for name in ("source_vi", "source_en"):
        if not isinstance(parameters.get(name), str) or not parameters[name].strip():
            problems.append(f"{name}: name the legal text the criteria come from")
    eligibility = parameters.get("eligibility")
    if not isinstance(eligibility, Mapping) or set(eligibility) != {
        "min_operation_months",
        "gold_reentry_years",
    }:
        problems.append("eligibility: give min_operation_months and gold_reentry_years")
    else:
        for name, value in eligibility.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"eligibility.{name}: a whole number, 0 or more")
    return problems


@lru_cache(maxsize=32)
def _parse(text: str) -> AwardRules:
    parameters = json.loads(text)
    problems = check_parameters(parameters)
    if problems:
        raise ValueError("the award's parameters are not usable: " + "; ".join(problems))
    return AwardRules(
        criteria=tuple(
            Criterion(c["key"], number, c["name_vi"], c["name_en"], c["maximum"])
            for number, c in enumerate(parameters["criteria"], start=1)
        ),
        source_vi=parameters["source_vi"],
        source_en=parameters["source_en"],
        min_operation_months=parameters["eligibility"]["min_operation_months"],
        gold_reentry_years=parameters["eligibility"]["gold_reentry_years"],
    )


def rules_from(parameters: Mapping[str, Any]) -> AwardRules:
    """The award's rules written in ``parameters`` (ValueError naming what is wrong)."""
    return _parse(json.dumps(dict(parameters), sort_keys=True, default=str))


def rules_of(procedure: Procedure) -> AwardRules:
    """The award's rules of a version of the procedure (its catalogue parameters)."""
    return rules_from(procedure.parameters)


def criteria_of_aggregation(aggregation: Mapping[str, Any]) -> tuple[Criterion, ...]:
    """The criteria an aggregation was computed with (it records them), in their order."""
    recorded = aggregation.get("criteria_list")
    if isinstance(recorded, list) and recorded:
        return tuple(
            Criterion(
                str(c["key"]), int(c["number"]), str(c["name_vi"]), str(c["name_en"]), int(c["maximum"])
            )
            for c in sorted(recorded, key=lambda c: int(c["number"]))
        )
    # An aggregation from before the criteria were recorded: its keys and maxima, names unknown.
    stats = aggregation.get("criteria") or {}
    return tuple(
        Criterion(str(key), number, str(key), str(key), int(value.get("maximum") or 0))
        for number, (key, value) in enumerate(stats.items(), start=1)
    )


# --- the forms ------------------------------------------------------------------------------------

# The award's forms whose criteria follow the version: form -> the object holding a score per criterion.
SCORED_OBJECTS = {
    "award_scoring.schema.json": ("criterion_scores",),
    "award_registration.schema.json": ("$defs", "award_fields", "properties", "self_assessment"),
}
COMMENTED_OBJECTS = {"award_scoring.schema.json": ("criterion_comments",)}


def _object(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    if path[0] == "$defs":
        node: Any = schema
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else None
    node = schema.get("properties", {}).get(path[0])
    return node if isinstance(node, dict) else None


def _fitted_schema(name: str, schema: Mapping[str, Any], rules: AwardRules) -> dict[str, Any]:
    fitted = copy.deepcopy(dict(schema))
    keys = [c.key for c in rules.criteria]
    scored = _object(fitted, SCORED_OBJECTS[name])
    if scored is not None:
        extra = {k: v for k, v in (scored.get("properties") or {}).items() if k not in keys}
        scored["properties"] = {
            **{
                c.key: {
                    "title": f"{c.number}. {c.name_vi} (tối đa {c.maximum})",
                    "x-title-en": f"{c.number}. {c.name_en} (max {c.maximum})",
                    "type": "integer",
                    "minimum": 0,
                    "maximum": c.maximum,
                }
                for c in rules.criteria
            },
            **extra,
        }
        scored["required"] = [*keys, *[r for r in scored.get("required") or [] if r in extra]]
    if name in COMMENTED_OBJECTS:
        commented = _object(fitted, COMMENTED_OBJECTS[name])
        if commented is not None:
            template = next(iter((commented.get("properties") or {}).values()), {"type": "string"})
            commented["properties"] = {
                c.key: {
                    **template,
                    "title": f"{c.number}. {c.name_vi}",
                    "x-title-en": f"{c.number}. {c.name_en}",
                }
                for c in rules.criteria
            }
            commented["required"] = list(keys)
    return fitted


_FITTED: dict[tuple[str, int, AwardRules], Form] = {}


def fit_form(procedure: Procedure, form: Form) -> Form:
    """The award's form with the criteria and maxima of the version (other forms as they are)."""
    if form.name not in SCORED_OBJECTS:
        return form
    rules = rules_of(procedure)
    key = (form.name, id(form), rules)
    fitted = _FITTED.get(key)
    if fitted is None:
        fitted = form.with_schema(_fitted_schema(form.name, form.schema, rules))
        _FITTED[key] = fitted
    return fitted
