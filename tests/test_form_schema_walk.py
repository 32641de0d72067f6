"""The one schema walker of the forms package, seen from the form page: tuples (``prefixItems``) and
``patternProperties``, which the registry, validation, the page and the post reader all follow;
and the one tokenizer behind both pattern conversions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from forms import Form, FormRegistry, _walk, validate_or_errors
from forms.ecma_regex import ecma_pattern, html_pattern, tokens
from forms.html_input import parse_submission
from forms.rendering import build_view
from tests.test_form_rendering import by_id, control, label_of, posted, render

MEASUREMENT_SCHEMA: dict[str, Any] = {
    "title": "Kết quả đo",
    "x-title-en": "Measurement",
    "type": "object",
    "additionalProperties": False,
    "required": ["range", "score_accuracy"],
    "properties": {
        "range": {
            "title": "Phạm vi đo",
            "x-title-en": "Range",
            "type": "array",
            "prefixItems": [
                {"title": "Từ", "x-title-en": "From", "type": "number", "minimum": 0},
                {"title": "Đến", "x-title-en": "To", "type": "number"},
            ],
            "items": False,
        },
        "contact": {
            "title": "Liên hệ",
            "x-title-en": "Contact",
            "type": "array",
            "prefixItems": [{"title": "Người liên hệ", "type": "string", "maxLength": 50}],
            "items": {"title": "Thư điện tử", "type": "string", "format": "email"},
        },
        "name_vi": {"title": "Tên tiếng Việt"},
        "name_en": {"title": "Tên tiếng Anh"},
    },
    "patternProperties": {
        "^name_": {"type": "string", "maxLength": 100},
        "^score_[a-z]+$": {
            "title": "Điểm",
            "x-title-en": "Score",
            "type": "integer",
            "minimum": 0,
            "maximum": 10,
        },
    },
}


@pytest.fixture
def measurement(tmp_path: Path) -> Form:
    (tmp_path / "measurement.schema.json").write_text(json.dumps(MEASUREMENT_SCHEMA), encoding="utf-8")
    return FormRegistry(tmp_path).get("measurement")


# -- prefixItems --------------------------------------------------------------------------------------


def test_a_tuple_shows_a_row_per_position_each_with_its_own_schema(measurement: Form) -> None:
    view = build_view(measurement, None, [], "vi")
    field = view.field("range")
    assert field is not None and field.kind == "array"
    assert [row.label for row in field.rows] == ["Từ", "Đến"]
    low, high = (row.fields[0] for row in field.rows)
    assert (low.kind, low.attrs.get("min")) == ("number", "0")
    assert (high.kind, high.attrs.get("min")) == ("number", None)
    # "items": false closes the tuple: no row can be added.
    assert (field.max_items, field.can_add) == (2, False)

    _, doc = render(measurement, None, lang="en")
    assert label_of(doc, control(doc, "range.0")).startswith("From")
    assert label_of(doc, control(doc, "range.1")).startswith("To")


def test_rows_past_a_tuple_follow_items(measurement: Form) -> None:
    view = build_view(measurement, {"contact": ["Nguyễn An", "an@example.vn"]}, [], "vi")
    field = view.field("contact")
    assert field is not None
    assert [(row.label, row.fields[0].kind) for row in field.rows] == [
        ("Người liên hệ", "text"),
        ("Thư điện tử", "email"),
    ]
    assert field.rows[0].fields[0].attrs["maxlength"] == "50"
    assert field.can_add


def test_a_tuple_is_read_back_by_position(measurement: Form) -> None:
    data = {"range": [0.5, 12], "contact": ["Nguyễn An", "an@example.vn"], "score_accuracy": 7}
    _, doc = render(measurement, data)
    parsed, extra_rows = parse_submission(measurement, posted(doc), {})
    assert parsed == data
    assert extra_rows == {}
    assert validate_or_errors(measurement, parsed) == []


# -- patternProperties --------------------------------------------------------------------------------


def test_a_property_matching_a_pattern_gets_the_patterns_schema_too(measurement: Form) -> None:
    _, doc = render(measurement, None)
    name = control(doc, "name_vi")
    assert name.get("maxlength") == "100"
    assert label_of(doc, name).startswith("Tên tiếng Việt")


def test_a_required_key_only_a_pattern_describes_is_a_field(measurement: Form) -> None:
    _, doc = render(measurement, None)
    score = control(doc, "score_accuracy")
    assert (score.get("type"), score.get("min"), score.get("max")) == ("number", "0", "10")
    assert score.get("required") is not None
    assert label_of(doc, score).startswith("Điểm")

    fields = posted(doc)
    fields["score_accuracy"] = ["9"]
    fields["range.0"], fields["range.1"] = ["1"], ["2"]
    fields["score_forged"] = ["5"]  # a pattern's key the form does not show stays out
    parsed, _ = parse_submission(measurement, fields, {})
    assert parsed == {"range": [1, 2], "score_accuracy": 9}
    assert validate_or_errors(measurement, parsed) == []


def test_errors_of_pattern_fields_show_at_them(measurement: Form) -> None:
    data = {"range": [1, 2], "score_accuracy": 11}
    errors = validate_or_errors(measurement, data)
    assert [(e.field, e.message_en) for e in errors] == [("score_accuracy", "'Score' must be at most 10.")]
    _, doc = render(measurement, data, errors, lang="en")
    score = control(doc, "score_accuracy")
    assert score.get("aria-invalid") == "true"
    assert by_id(doc, f"{score.get('id')}--error").text_content() == "'Score' must be at most 10."
    ids = [e.get("id") for e in doc.xpath("//*[@id]")]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


# -- one walker ---------------------------------------------------------------------------------------


def test_nodes_know_what_applies_only_sometimes(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"kind": {"enum": ["a", "b"]}, "note": {"type": "string", "maxLength": 10}},
        "allOf": [{"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["note"]}}],
        "anyOf": [{"properties": {"note": {"maxLength": 5}}}],
    }
    (tmp_path / "t.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    root = FormRegistry(tmp_path).get("t")._root
    assert _walk.required_names(root) == set()
    assert _walk.required_names(root, sometimes=True) == {"note"}
    note = _walk.child(root, "note")
    assert [(n.schema.get("maxLength"), n.conditional) for n in note] == [(10, False), (5, True)]
    assert [n.schema.get("maxLength") for n in _walk.always_applying(note)] == [10]
    schema_of_note, _ = note[0]  # a node still unpacks as (schema, resolver)
    assert schema_of_note == {"type": "string", "maxLength": 10}


# -- one tokenizer for both pattern conversions ---------------------------------------------------------


def test_both_conversions_read_character_classes_alike() -> None:
    pattern = r"^[$/a-]\$x$"
    assert ecma_pattern(pattern).pattern == r"^[$/a-]\$x\Z"
    assert html_pattern(pattern) == r"[$\/a\-]\$x"
    assert [t.kind for t in tokens(pattern)] == [
        "char",
        "open",
        "char",
        "char",
        "char",
        "char",
        "close",
        "escape",
        "char",
        "char",
    ]


def test_a_bracket_first_in_a_class_is_read_as_each_engine_reads_it() -> None:
    # Python: "]" right after "[" is a literal, so the "$" is inside the class and stays.
    assert ecma_pattern("[]$]").pattern == "[]$]"
    assert re.fullmatch(ecma_pattern("[]$]"), "$")
    # ECMA-262 (the browser): "[]" is an empty class, so the "]" that follows is outside it.
    assert [t.kind for t in tokens("[]$]")] == ["open", "close", "char", "char"]
    assert [t.kind for t in tokens("[]$]", literal_first_bracket=True)] == ["open", "char", "char", "close"]
