"""Dates in order: a form's ``x-date-rules`` (a certificate valid until after it was issued and
not already expired, a clearance not before the registration nor in the future), each broken rule
a field error in Vietnamese and English, against the office's today; a rule naming no field fails
when the form is loaded."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import time_machine

from forms import FormRegistry, FormSchemaError, default_registry, validate_or_errors, validation_days
from tests.support import cast_of, error_of, fields_of, local, relogin

CERTIFICATE = {"number": "QC-1", "body": "Quacert"}


def certificate_errors(issued_on: str, valid_until: str, today: date) -> dict[str, tuple[str, str, str]]:
    form = default_registry().get("declaration.schema.json")
    data = {"certificate": {**CERTIFICATE, "issued_on": issued_on, "valid_until": valid_until}}
    with validation_days(today=today):
        errors = validate_or_errors(form, data)
    return {e.field: (e.code, e.message, e.message_en) for e in errors if e.field.startswith("certificate.")}


def test_a_certificate_must_end_after_it_begins_and_not_be_expired_already():
    today = date(2026, 12, 3)
    assert certificate_errors("2026-01-05", "2029-01-04", today) == {}
    assert certificate_errors("2026-12-03", "2026-12-03", today) == {}  # both today: fine
    backwards = certificate_errors("2026-06-01", "2026-12-31", date(2027, 1, 1))
    assert "certificate.valid_until" in backwards  # expired by then
    backwards = certificate_errors("2026-06-01", "2026-05-31", date(2026, 5, 1))["certificate.valid_until"]
    assert backwards[0] == "date_order"
    assert "'Có hiệu lực đến' không được trước 'Ngày cấp' (01/06/2026)" in backwards[1]
    assert "'Valid until' cannot be before 'Date of issue' (01/06/2026)" in backwards[2]
    expired = certificate_errors("2023-01-01", "2026-12-02", today)["certificate.valid_until"]
    assert "không được trước ngày hiện tại (03/12/2026)" in expired[1] and "before today" in expired[2]
    future = certificate_errors("2026-12-04", "2029-01-01", today)["certificate.issued_on"]
    assert "không được sau ngày hiện tại (03/12/2026)" in future[1]
    # A date that is no date is the format's error alone.
    assert certificate_errors("2026-02-30", "2029-01-01", today)["certificate.issued_on"][0] == "format"


def test_a_rule_naming_no_field_fails_when_the_form_is_loaded(tmp_path: Path):
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"start": {"type": "string", "format": "date"}},
        "x-date-rules": [{"field": "start", "not_before": "@yesterday"}],
    }
    (tmp_path / "dates.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(FormSchemaError, match="'@yesterday' is no property here nor a known day"):
        FormRegistry(tmp_path).get("dates.schema.json")


def test_an_expired_certificate_is_refused_at_its_field_through_the_api(client, rt):
    people = cast_of(client, rt, "Công ty TNHH Hết Hạn")
    firm = people["business"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False):
        relogin(people)
        data = firm.declaration()
        data["certificate"]["valid_until"] = "2026-03-01"
        fields = fields_of(error_of(firm.submit(data), 422, "validation_error"))
        assert fields["certificate.valid_until"]["code"] == "date_order"
        assert "02/03/2026" in fields["certificate.valid_until"]["message"]
        data["certificate"]["valid_until"] = "2026-03-02"  # its last day is today: accepted
        assert firm.submit(data).status_code == 201


def test_a_clearance_cannot_precede_the_registration_nor_be_in_the_future(client, rt):
    from tests.procedures.import_inspection.test_import_inspection import import_registration, submitted

    people = cast_of(client, rt, "Công ty TNHH Thông Quan")
    firm, clerk = people["business"], people["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(people)
        late_arrival = import_registration(firm, expected_arrival="2026-03-01")
        refused = firm.post(
            "/api/dossiers", json={"procedure": "kiem-tra-chat-luong-hang-nhap-khau", "data": late_arrival}
        )
        assert fields_of(error_of(refused, 422))["expected_arrival"]["code"] == "date_order"
        code = submitted(firm)
        clerk.done(code, {"confirm_decision": "confirm"})
        travel.move_to(local(2026, 3, 5, 9, 0))
        task = firm.task(code, "report_clearance")
        for day, words in (
            ("2026-02-27", "ngày nộp hồ sơ (02/03/2026)"),
            ("2026-03-06", "ngày hiện tại (05/03/2026)"),
        ):
            response = firm.post(
                f"/api/tasks/{task['id']}/complete",
                json={"data": {"clearance_date": day, "customs_declaration_number": "105123456780"}},
            )
            problem = fields_of(error_of(response, 422))["clearance_date"]
            assert problem["code"] == "date_order" and words in problem["message"], problem
        assert (
            firm.done(code, {"clearance_date": "2026-03-04", "customs_declaration_number": "105123456780"})[
                "status"
            ]
            == "awaiting_certificate"
        )
