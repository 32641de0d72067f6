"""Forms: schemas, UI hints, validation with field-level bilingual errors, attachments."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from forms import (
    SCHEMAS_DIR,
    AttachmentField,
    FieldError,
    Form,
    FormNotFound,
    FormRegistry,
    FormSchemaError,
    FormValidationError,
    default_registry,
    validate,
    validate_or_errors,
)

FORM_NAMES = [
    "declaration.schema.json",
    "check_completeness.schema.json",
    "recheck_completeness.schema.json",
    "supplement.schema.json",
    "examine.schema.json",
    "approve.schema.json",
    "import_registration.schema.json",
    "import_registration_2026.schema.json",
    "import_confirm.schema.json",
    "import_clearance.schema.json",
    "import_certificate.schema.json",
    "import_evaluate.schema.json",
    "import_sign.schema.json",
    "tbt_inquiry.schema.json",
    "tbt_classify.schema.json",
    "tbt_record_reply.schema.json",
    "tbt_answer.schema.json",
    "tbt_publish.schema.json",
    "award_registration.schema.json",
    "award_supplement.schema.json",
    "award_scoring.schema.json",
    "award_unscored.schema.json",
    "award_site_visit.schema.json",
    "award_approve.schema.json",
    "metrology_campaign_plan.schema.json",
    "metrology_campaign_approve_plan.schema.json",
    "metrology_campaign_site.schema.json",
    "metrology_campaign_handling.schema.json",
    "metrology_campaign_report.schema.json",
]


def form(name: str) -> Form:
    return default_registry().get(name)


def declaration(basis: str = "certificate", declaration_type: str = "hop_quy") -> dict[str, Any]:
    data: dict[str, Any] = {
        "declaration_type": declaration_type,
        "applicant": {
            "name": "Công ty TNHH Thiết bị điện Quảng Trị",
            "tax_code": "3200123452",
            "address": "12 Hùng Vương, phường Đông Hà, tỉnh Quảng Trị",
            "phone": "0233 3852 123",
            "email": "lienhe@thietbidien.vn",
            "representative": "Nguyễn Văn An",
        },
        "product": {
            "name": "Dây điện bọc nhựa PVC",
            "trademark": "QTCable",
            "model": "VCm 2x1.5",
            "description": "Điện áp danh định 300/500 V",
            "manufacturer": "Công ty TNHH Thiết bị điện Quảng Trị",
            "place_of_production": "Khu công nghiệp Nam Đông Hà, Quảng Trị",
        },
        "standard": {"number": "QCVN 4:2009/BKHCN", "title": "Quy chuẩn kỹ thuật quốc gia về an toàn điện"},
        "basis": basis,
        "attachments": {
            "declaration_form": "att-001",
            "business_registration": "att-002",
            "label": "att-005",
            "other": ["att-006", "att-007"],
        },
    }
    if basis == "certificate":
        data["certificate"] = {
            "number": "QT-2026-0042",
            "body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 2",
            "issued_on": "2026-01-15",
            "valid_until": "2029-01-14",
        }
        data["attachments"]["certificate_copy"] = "att-003"
    else:
        data["self_assessment"] = {
            "test_report_number": "KQ-2026/118",
            "laboratory": "Phòng thử nghiệm Quatest 2",
            "issued_on": "2026-02-03",
        }
        data["attachments"]["test_report"] = "att-004"
        data["attachments"]["quality_control_plan"] = "att-008"
    return data


def errors_by_field(form_name: str, data: Any) -> dict[str, list[FieldError]]:
    found: dict[str, list[FieldError]] = {}
    for error in validate_or_errors(form(form_name), data):
        found.setdefault(error.field, []).append(error)
    return found


def only_error(form_name: str, data: Any) -> FieldError:
    errors = validate_or_errors(form(form_name), data)
    assert len(errors) == 1, [e.to_dict() for e in errors]
    return errors[0]


# -- valid data ---------------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["certificate", "self_assessment"])
@pytest.mark.parametrize("declaration_type", ["hop_quy", "hop_chuan"])
def test_valid_declaration_passes_and_is_not_changed(basis: str, declaration_type: str) -> None:
    data = declaration(basis, declaration_type)
    before = copy.deepcopy(data)
    validate(form("declaration.schema.json"), data)
    assert validate_or_errors(form("declaration.schema.json"), data) == []
    assert data == before


def test_minimal_declaration_passes() -> None:
    data = declaration("self_assessment")
    del data["applicant"]["email"]
    for key in ("trademark", "model", "description"):
        del data["product"][key]
    del data["standard"]["title"]
    data["attachments"] = {
        "declaration_form": "a1",
        "business_registration": "a2",
        "test_report": "a3",
        "quality_control_plan": "a4",
    }
    validate(form("declaration.schema.json"), data)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("check_completeness.schema.json", {"completeness_decision": "receive"}),
        (
            "check_completeness.schema.json",
            {"completeness_decision": "supplement", "missing_items": ["Bản sao giấy chứng nhận"]},
        ),
        (
            "check_completeness.schema.json",
            {"completeness_decision": "refuse", "refusal_reason": "Sai thẩm quyền"},
        ),
        ("recheck_completeness.schema.json", {"completeness_decision": "receive", "clerk_note": ""}),
        (
            "recheck_completeness.schema.json",
            {"completeness_decision": "refuse", "refusal_reason": "Vẫn thiếu"},
        ),
        ("examine.schema.json", {"examination_findings": "Đầy đủ", "examination_conclusion": "accept"}),
        (
            "examine.schema.json",
            {
                "examination_findings": "Phiếu thử nghiệm hết hạn",
                "examination_conclusion": "reject",
                "rejection_reasons": ["Phiếu thử nghiệm quá 12 tháng"],
            },
        ),
        ("approve.schema.json", {"approval_decision": "approve"}),
        ("approve.schema.json", {"approval_decision": "send_back", "approval_comment": "Sửa căn cứ"}),
        (
            "supplement.schema.json",
            {**declaration(), "supplement_note": "Đã nộp bản sao chứng nhận"},
        ),
    ],
)
def test_valid_task_data_passes(name: str, data: dict[str, Any]) -> None:
    assert validate_or_errors(form(name), data) == []


# -- each rule fails at its field, in both languages ---------------------------------------------------


def test_missing_product_name_points_at_the_field() -> None:
    data = declaration()
    del data["product"]["name"]
    error = only_error("declaration.schema.json", data)
    assert error == FieldError(
        field="product.name",
        path=["product", "name"],
        message="Trường 'Tên sản phẩm' là bắt buộc.",
        message_en="'Product name' is required.",
        code="required",
    )


@pytest.mark.parametrize(
    "tax_code",
    ["123", "01012345678", "0101234567-01", "0101234567-0011", "010123456a", "0101234567\n", " 0101234567"],
)
def test_bad_tax_code(tax_code: str) -> None:
    data = declaration()
    data["applicant"]["tax_code"] = tax_code
    error = only_error("declaration.schema.json", data)
    assert (error.field, error.path, error.code) == (
        "applicant.tax_code",
        ["applicant", "tax_code"],
        "pattern",
    )
    assert error.message.startswith("Trường 'Mã số thuế' phải gồm 10 chữ số")
    assert error.message_en.startswith("'Tax code' must be 10 digits")


@pytest.mark.parametrize("tax_code", ["0101234567", "0101234567-001"])
def test_good_tax_codes(tax_code: str) -> None:
    data = declaration()
    data["applicant"]["tax_code"] = tax_code
    assert validate_or_errors(form("declaration.schema.json"), data) == []


def test_certificate_basis_requires_certificate_and_its_copy() -> None:
    data = declaration("certificate")
    del data["certificate"]
    del data["attachments"]["certificate_copy"]
    errors = validate_or_errors(form("declaration.schema.json"), data)
    assert [(e.field, e.code) for e in errors] == [
        ("attachments.certificate_copy", "required"),
        ("certificate", "required"),
    ]
    assert errors[1].path == ["certificate"]
    assert errors[1].message == "Trường 'Giấy chứng nhận hợp chuẩn / hợp quy' là bắt buộc."
    assert errors[1].message_en == "'Certificate of conformity' is required."


def test_self_assessment_basis_requires_test_report_and_quality_control_plan() -> None:
    data = declaration("self_assessment")
    del data["self_assessment"]
    del data["attachments"]["test_report"]
    del data["attachments"]["quality_control_plan"]
    assert [(e.field, e.code) for e in validate_or_errors(form("declaration.schema.json"), data)] == [
        ("attachments.quality_control_plan", "required"),
        ("attachments.test_report", "required"),
        ("self_assessment", "required"),
    ]


@pytest.mark.parametrize("name", ["declaration.schema.json", "supplement.schema.json"])
def test_quality_control_plan_is_required_for_self_assessment_only(name: str) -> None:
    note = {"supplement_note": "Đã bổ sung"} if name == "supplement.schema.json" else {}
    data = {**declaration("self_assessment"), **note}
    del data["attachments"]["quality_control_plan"]
    error = only_error(name, data)
    assert (error.field, error.path, error.code) == (
        "attachments.quality_control_plan",
        ["attachments", "quality_control_plan"],
        "required",
    )
    assert error.message == "Trường 'Kế hoạch kiểm soát chất lượng' là bắt buộc."
    assert error.message_en == "'Quality-control plan' is required."
    certificate_based = {**declaration("certificate"), **note}
    assert "quality_control_plan" not in certificate_based["attachments"]
    assert validate_or_errors(form(name), certificate_based) == []


def test_inner_error_of_a_conditional_certificate() -> None:
    data = declaration("certificate")
    del data["certificate"]["body"]
    error = only_error("declaration.schema.json", data)
    assert (error.field, error.code) == ("certificate.body", "required")
    assert error.message_en == "'Certification body' is required."


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "2026-2-3", "30/01/2026", "2026-01-15T00:00:00"])
def test_bad_date(day: str) -> None:
    data = declaration("certificate")
    data["certificate"]["issued_on"] = day
    error = only_error("declaration.schema.json", data)
    assert (error.field, error.path, error.code) == (
        "certificate.issued_on",
        ["certificate", "issued_on"],
        "format",
    )
    assert error.message == "Trường 'Ngày cấp' phải là một ngày hợp lệ theo dạng YYYY-MM-DD."
    assert error.message_en == "'Date of issue' must be a valid date in the form YYYY-MM-DD."


def test_leap_day_is_a_date() -> None:
    data = declaration("certificate")
    data["certificate"]["valid_until"] = "2028-02-29"
    assert validate_or_errors(form("declaration.schema.json"), data) == []


def test_unexpected_key_is_named() -> None:
    data = declaration()
    data["product"]["nmae"] = "typo"
    data["extra"] = 1
    errors = validate_or_errors(form("declaration.schema.json"), data)
    assert [(e.field, e.path, e.code) for e in errors] == [
        ("extra", ["extra"], "unevaluatedProperties"),
        ("product.nmae", ["product", "nmae"], "additionalProperties"),
    ]
    assert errors[0].message == "Trường 'extra' không có trong biểu mẫu."
    assert errors[0].message_en == "Unexpected field 'extra'."
    assert errors[1].message == "Trường 'nmae' không thuộc 'Sản phẩm, hàng hóa'."
    assert errors[1].message_en == "Unexpected field 'nmae' in 'Product'."


def test_blank_and_empty_text() -> None:
    data = declaration()
    data["product"]["name"] = "   "
    data["product"]["manufacturer"] = ""
    errors = validate_or_errors(form("declaration.schema.json"), data)
    assert [(e.field, e.code, e.message_en) for e in errors] == [
        ("product.manufacturer", "minLength", "'Manufacturer' must not be empty."),
        ("product.name", "pattern", "'Product name' must not be blank."),
    ]
    assert errors[1].message == "Trường 'Tên sản phẩm' không được để trống."


def test_too_long_and_wrong_type() -> None:
    data = declaration()
    data["product"]["model"] = "x" * 256
    data["product"]["trademark"] = 42
    errors = validate_or_errors(form("declaration.schema.json"), data)
    assert [(e.field, e.code) for e in errors] == [
        ("product.model", "maxLength"),
        ("product.trademark", "type"),
    ]
    assert errors[0].message_en == "'Model / type' must be at most 255 characters long."
    assert errors[1].message == "Trường 'Nhãn hiệu' phải là chuỗi ký tự."
    assert errors[1].message_en == "'Trademark' must be text."


def test_enum_error_lists_the_choices_with_labels() -> None:
    data = declaration()
    data["basis"] = "guess"
    error = only_error("declaration.schema.json", data)
    assert (error.field, error.code) == ("basis", "enum")
    assert "certificate (Kết quả chứng nhận của tổ chức chứng nhận (bên thứ ba))" in error.message
    assert error.message_en == (
        "'Basis of the declaration' must be one of: certificate (Certificate from a third-party "
        "certification body), self_assessment (Self-assessment by the organisation)."
    )


def test_bad_email_and_attachment_id() -> None:
    data = declaration()
    data["applicant"]["email"] = "lienhe@localhost"
    data["attachments"]["other"][1] = "../../etc/passwd"
    errors = validate_or_errors(form("declaration.schema.json"), data)
    assert [(e.field, e.code) for e in errors] == [
        ("applicant.email", "format"),
        ("attachments.other[1]", "format"),
    ]
    assert errors[0].message_en == "'E-mail' must be a valid e-mail address."
    assert errors[1].path == ["attachments", "other", 1]
    assert errors[1].message == "Trường 'Tài liệu khác' (mục 2) phải là mã của một tệp đã tải lên."


def test_hop_quy_must_cite_a_technical_regulation() -> None:
    data = declaration(declaration_type="hop_quy")
    data["standard"]["number"] = "TCVN 6238-1:2017"
    error = only_error("declaration.schema.json", data)
    assert (error.field, error.code) == ("standard.number", "pattern")
    assert "QCVN" in error.message and "'Số hiệu tiêu chuẩn / quy chuẩn'" in error.message
    assert "'Standard / regulation number' must start with 'QCVN' or 'QCĐP'" in error.message_en
    hop_chuan = declaration(declaration_type="hop_chuan")
    hop_chuan["standard"]["number"] = "TCVN 6238-1:2017"
    assert validate_or_errors(form("declaration.schema.json"), hop_chuan) == []


def test_all_errors_are_collected_sorted_and_unique() -> None:
    data = declaration("certificate")
    del data["applicant"]
    data["product"] = {"name": ""}
    del data["certificate"]
    data["attachments"] = {"other": ["ok-1", 5]}
    errors = validate_or_errors(form("declaration.schema.json"), data)
    fields = [e.field for e in errors]
    assert fields == [
        "applicant",
        "attachments.business_registration",
        "attachments.certificate_copy",
        "attachments.declaration_form",
        "attachments.other[1]",
        "certificate",
        "product.manufacturer",
        "product.name",
        "product.place_of_production",
    ]
    assert len(set(errors)) == len(errors)
    with pytest.raises(FormValidationError) as raised:
        validate(form("declaration.schema.json"), data)
    assert raised.value.errors == errors
    assert raised.value.to_list()[0]["field"] == "applicant"
    assert "9 invalid field(s)" in str(raised.value)


def test_root_must_be_an_object() -> None:
    error = only_error("approve.schema.json", ["approve"])
    assert (error.field, error.path, error.code) == ("", [], "type")
    assert error.message_en == "The data of form 'Approve the result' must be an object."


# -- task forms -----------------------------------------------------------------------------------


def test_supplement_decision_needs_missing_items() -> None:
    error = only_error("check_completeness.schema.json", {"completeness_decision": "supplement"})
    assert (error.field, error.path, error.code) == ("missing_items", ["missing_items"], "required")
    assert error.message == "Trường 'Nội dung cần bổ sung' là bắt buộc."
    assert error.message_en == "'Items to supplement' is required."


def test_missing_items_must_be_a_non_empty_list_of_non_empty_strings() -> None:
    error = only_error(
        "check_completeness.schema.json", {"completeness_decision": "supplement", "missing_items": []}
    )
    assert (error.field, error.code) == ("missing_items", "minItems")
    assert error.message_en == "'Items to supplement' must have at least one item."
    errors = validate_or_errors(
        form("check_completeness.schema.json"),
        {"completeness_decision": "supplement", "missing_items": ["Nhãn", "", " "]},
    )
    assert [(e.field, e.code) for e in errors] == [
        ("missing_items[1]", "minLength"),
        ("missing_items[2]", "pattern"),
    ]
    assert errors[0].message == "Trường 'Nội dung cần bổ sung' (mục 2) không được để trống."
    assert errors[0].message_en == "'Item to supplement' (item 2) must not be empty."


def test_refusal_needs_a_reason() -> None:
    error = only_error("check_completeness.schema.json", {"completeness_decision": "refuse"})
    assert (error.field, error.code) == ("refusal_reason", "required")
    assert error.message_en == "'Reason for refusal' is required."


def test_recheck_cannot_ask_for_a_second_supplement() -> None:
    error = only_error("recheck_completeness.schema.json", {"completeness_decision": "supplement"})
    assert (error.field, error.path, error.code) == (
        "completeness_decision",
        ["completeness_decision"],
        "enum",
    )
    assert error.message == (
        "Trường 'Kết quả kiểm tra hồ sơ' phải là một trong các giá trị: "
        "receive (Hồ sơ đầy đủ, tiếp nhận), refuse (Từ chối tiếp nhận hồ sơ)."
    )
    assert error.message_en == (
        "'Completeness decision' must be one of: "
        "receive (Complete: receive the dossier), refuse (Refuse receipt)."
    )
    error = only_error(
        "recheck_completeness.schema.json", {"completeness_decision": "receive", "missing_items": ["x"]}
    )
    assert (error.field, error.code) == ("missing_items", "additionalProperties")


def test_examine_reject_needs_reasons() -> None:
    data = {"examination_findings": "Thiếu", "examination_conclusion": "reject"}
    error = only_error("examine.schema.json", data)
    assert (error.field, error.code) == ("rejection_reasons", "required")
    error = only_error("examine.schema.json", {**data, "rejection_reasons": [""]})
    assert (error.field, error.code) == ("rejection_reasons[0]", "minLength")
    error = only_error(
        "examine.schema.json", {"examination_findings": " ", "examination_conclusion": "accept"}
    )
    assert (error.field, error.code) == ("examination_findings", "pattern")


def test_approve_send_back_needs_a_comment() -> None:
    error = only_error("approve.schema.json", {"approval_decision": "send_back"})
    assert (error.field, error.code) == ("approval_comment", "required")
    assert error.message == "Trường 'Ý kiến của lãnh đạo' là bắt buộc."
    error = only_error("approve.schema.json", {"approval_decision": "reject"})
    assert (error.field, error.code) == ("approval_decision", "enum")


def supplement(basis: str = "self_assessment") -> dict[str, Any]:
    """Flat: the whole declaration re-sent, plus the note."""
    return {**declaration(basis), "supplement_note": "Đã bổ sung phiếu kết quả thử nghiệm"}


def test_supplement_is_the_flat_declaration_plus_a_note() -> None:
    supplement_form = form("supplement.schema.json")
    assert supplement_form.field_names() == [
        "supplement_note",
        *form("declaration.schema.json").field_names(),
    ]
    assert form("declaration.schema.json").field_names() == [
        "declaration_type",
        "applicant",
        "product",
        "standard",
        "basis",
        "certificate",
        "self_assessment",
        "attachments",
    ]
    for basis in ("certificate", "self_assessment"):
        assert validate_or_errors(supplement_form, supplement(basis)) == []


def test_supplement_needs_its_note() -> None:
    data = supplement()
    del data["supplement_note"]
    error = only_error("supplement.schema.json", data)
    assert (error.field, error.path, error.code) == ("supplement_note", ["supplement_note"], "required")
    assert error.message == "Trường 'Nội dung đã bổ sung' là bắt buộc."
    assert error.message_en == "'What was completed' is required."
    data["supplement_note"] = " "
    assert only_error("supplement.schema.json", data).code == "pattern"


def test_supplement_applies_the_declaration_rules_at_the_same_paths() -> None:
    data = supplement()
    del data["product"]["name"]
    data["self_assessment"]["issued_on"] = "2026-02-30"
    data["applicant"]["fax"] = "0233 000"
    errors = validate_or_errors(form("supplement.schema.json"), data)
    assert [(e.field, e.code) for e in errors] == [
        ("applicant.fax", "additionalProperties"),
        ("product.name", "required"),
        ("self_assessment.issued_on", "format"),
    ]
    assert errors[1].path == ["product", "name"]
    assert errors[1].message == "Trường 'Tên sản phẩm' là bắt buộc."
    assert errors[1].message_en == "'Product name' is required."
    assert (
        errors[2].message == "Trường 'Ngày cấp phiếu kết quả' phải là một ngày hợp lệ theo dạng YYYY-MM-DD."
    )


def test_supplement_needs_the_declarations_required_fields() -> None:
    data = supplement()
    del data["applicant"]
    error = only_error("supplement.schema.json", data)
    assert (error.field, error.code) == ("applicant", "required")
    assert error.message_en == "'Declaring organisation' is required."


@pytest.mark.parametrize("name", ["declaration.schema.json", "supplement.schema.json"])
def test_unexpected_top_level_key_is_named_in_both_forms(name: str) -> None:
    data = supplement() if name == "supplement.schema.json" else declaration("self_assessment")
    data["declaration"] = {"product": {}}  # the old nested shape of the supplement
    error = only_error(name, data)
    assert (error.field, error.path, error.code) == ("declaration", ["declaration"], "unevaluatedProperties")
    assert error.message == "Trường 'declaration' không có trong biểu mẫu."
    assert error.message_en == "Unexpected field 'declaration'."


def test_declaration_does_not_take_a_supplement_note() -> None:
    data = {**declaration(), "supplement_note": "x"}
    error = only_error("declaration.schema.json", data)
    assert (error.field, error.code) == ("supplement_note", "unevaluatedProperties")


def test_unexpected_key_is_named_even_with_other_errors() -> None:
    data = supplement()
    data["extra"] = 1
    del data["product"]["name"]
    del data["supplement_note"]
    assert [(e.field, e.code) for e in validate_or_errors(form("supplement.schema.json"), data)] == [
        ("extra", "unevaluatedProperties"),
        ("product.name", "required"),
        ("supplement_note", "required"),
    ]


def test_supplement_conditionals_point_at_the_inner_field() -> None:
    data = supplement("certificate")
    del data["certificate"]
    del data["attachments"]["certificate_copy"]
    errors = validate_or_errors(form("supplement.schema.json"), data)
    assert [(e.field, e.code) for e in errors] == [
        ("attachments.certificate_copy", "required"),
        ("certificate", "required"),
    ]
    assert errors[1].message == "Trường 'Giấy chứng nhận hợp chuẩn / hợp quy' là bắt buộc."
    data = supplement("certificate")
    data["declaration_type"] = "hop_quy"
    data["standard"]["number"] = "TCVN 6238-1:2017"
    error = only_error("supplement.schema.json", data)
    assert (error.field, error.code) == ("standard.number", "pattern")
    assert "'Standard / regulation number' must start with 'QCVN'" in error.message_en


# -- attachments ------------------------------------------------------------------------------------


def test_attachment_paths_of_a_declaration() -> None:
    data = declaration("certificate")
    assert form("declaration.schema.json").attachment_paths(data) == [
        ("attachments.declaration_form", "att-001"),
        ("attachments.business_registration", "att-002"),
        ("attachments.label", "att-005"),
        ("attachments.other[0]", "att-006"),
        ("attachments.other[1]", "att-007"),
        ("attachments.certificate_copy", "att-003"),
    ]


def test_attachment_paths_of_the_flat_supplement() -> None:
    data = supplement("self_assessment")
    paths = form("supplement.schema.json").attachment_paths(data)
    assert paths == form("declaration.schema.json").attachment_paths(declaration("self_assessment"))
    assert dict(paths) == {
        "attachments.declaration_form": "att-001",
        "attachments.business_registration": "att-002",
        "attachments.label": "att-005",
        "attachments.other[0]": "att-006",
        "attachments.other[1]": "att-007",
        "attachments.test_report": "att-004",
        "attachments.quality_control_plan": "att-008",
    }


def test_attachment_paths_ignore_non_attachments_and_empty_values() -> None:
    data = declaration()
    data["attachments"]["label"] = ""
    data["attachments"]["other"] = [None, "att-9"]
    paths = form("declaration.schema.json").attachment_paths(data)
    assert ("attachments.other[1]", "att-9") in paths
    assert all(field not in ("attachments.label", "attachments.other[0]") for field, _ in paths)
    assert form("declaration.schema.json").attachment_paths("not an object") == []
    assert form("examine.schema.json").attachment_paths({"examination_findings": "att-001"}) == []


def test_attachment_fields_of_the_declaration() -> None:
    fields = form("declaration.schema.json").attachment_fields()
    assert [f.path for f in fields] == [
        "attachments.declaration_form",
        "attachments.business_registration",
        "attachments.certificate_copy",
        "attachments.test_report",
        "attachments.quality_control_plan",
        "attachments.product_description",
        "attachments.label",
        "attachments.other",
    ]
    assert fields[0] == AttachmentField(
        path="attachments.declaration_form",
        accept=("application/pdf", "image/*"),
        multiple=False,
        title_vi="Bản công bố (đã ký, đóng dấu)",
        title_en="Signed declaration",
    )
    assert fields[-1].multiple is True
    assert "application/pdf" in fields[-1].accept
    assert fields[-1].title_en == "Other documents"
    supplement_fields = form("supplement.schema.json").attachment_fields()
    assert supplement_fields == fields
    assert form("approve.schema.json").attachment_fields() == []


def write(folder: Path, name: str, content: Any) -> None:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    (folder / name).write_text(text, encoding="utf-8")


ATTACHMENT = {"type": "string", "format": "attachment", "x-accept": ["image/*"]}


def test_attachments_in_arrays_of_objects(tmp_path: Path) -> None:
    write(
        tmp_path,
        "goods.schema.json",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Hàng hóa",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "goods": {
                    "title": "Hàng hóa",
                    "x-title-en": "Goods",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["hs_code"],
                        "properties": {
                            "hs_code": {"title": "Mã HS", "x-title-en": "HS code", "type": "string"},
                            "photos": {"type": "array", "items": {"$ref": "#/$defs/photo"}},
                            "label": ATTACHMENT,
                        },
                    },
                }
            },
            "$defs": {"photo": ATTACHMENT},
        },
    )
    goods = FormRegistry(tmp_path).get("goods.schema.json")
    assert [(f.path, f.multiple, f.accept) for f in goods.attachment_fields()] == [
        ("goods[*].photos", True, ("image/*",)),
        ("goods[*].label", False, ("image/*",)),
    ]
    data = {"goods": [{"hs_code": "8544", "photos": ["p1", "p2"]}, {"hs_code": "8536", "label": "l2"}]}
    assert goods.attachment_paths(data) == [
        ("goods[0].photos[0]", "p1"),
        ("goods[0].photos[1]", "p2"),
        ("goods[1].label", "l2"),
    ]
    error = only_error_of(goods, {"goods": [{"hs_code": "8544"}, {"photos": ["p 3"]}]})
    assert [(e.field, e.code) for e in error] == [
        ("goods[1].hs_code", "required"),
        ("goods[1].photos[0]", "format"),
    ]
    assert error[0].message == "Trường 'Mã HS' (Hàng hóa, mục 2) là bắt buộc."
    assert error[0].message_en == "'HS code' (Goods, item 2) is required."


def only_error_of(the_form: Form, data: Any) -> list[FieldError]:
    return validate_or_errors(the_form, data)


# -- the schema folder --------------------------------------------------------------------------


def test_the_folder_holds_the_expected_forms() -> None:
    assert sorted(FORM_NAMES) == default_registry().names()


@pytest.mark.parametrize("name", FORM_NAMES)
def test_every_schema_passes_the_metaschema_and_has_a_ui_schema(name: str) -> None:
    schema = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    ui_file = SCHEMAS_DIR / name.replace(".schema.json", ".uischema.json")
    assert ui_file.is_file()
    loaded = form(name)
    assert loaded.ui_schema == json.loads(ui_file.read_text(encoding="utf-8"))
    assert sorted(loaded.ui_schema["ui:order"]) == sorted(loaded.field_names())
    assert loaded.title_vi and loaded.title_en and loaded.title_vi != loaded.title_en


def _walk_properties(schema: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(schema, dict):
        for key, sub in (schema.get("properties") or {}).items():
            found.append((f"{where}.{key}", sub))
        for key, sub in schema.items():
            if key not in ("enum", "const", "x-enum-labels", "x-messages"):
                found.extend(_walk_properties(sub, f"{where}/{key}"))
    elif isinstance(schema, list):
        for sub in schema:
            found.extend(_walk_properties(sub, where))
    return found


@pytest.mark.parametrize("name", FORM_NAMES)
def test_every_field_is_labelled_in_both_languages(name: str) -> None:
    schema = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    for where, sub in _walk_properties(schema):
        if "/if" in where or "/then" in where:
            continue
        assert sub.get("title") and sub.get("x-title-en"), where
        if "description" in sub:
            assert sub.get("x-description-en"), where
        if sub.get("type") == "object":
            assert sub.get("additionalProperties") is False, where
        if "enum" in sub:
            assert set(sub["x-enum-labels"]) == set(sub["enum"]), where
            assert all(label["vi"] and label["en"] for label in sub["x-enum-labels"].values()), where
    # Closed at the root: plainly, or (fields through $ref) for whatever the $ref did not describe.
    assert schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False
    if "$ref" in schema:
        assert "additionalProperties" not in schema  # it would reject the $ref's own fields


def test_the_declaration_fields_are_open_so_both_forms_can_close_them() -> None:
    declaration_schema = form("declaration.schema.json").schema
    fields = declaration_schema["$defs"]["declaration_fields"]
    assert "additionalProperties" not in fields and "unevaluatedProperties" not in fields
    assert declaration_schema["$ref"] == "#/$defs/declaration_fields"
    supplement_schema = form("supplement.schema.json").schema
    assert supplement_schema["$ref"] == "declaration.schema.json#/$defs/declaration_fields"
    assert list(supplement_schema["properties"]) == ["supplement_note"]  # nothing copied


def test_supplement_ui_shows_the_note_then_the_declaration_as_its_own_form_does() -> None:
    declaration_ui = dict(form("declaration.schema.json").ui_schema)
    supplement_ui = dict(form("supplement.schema.json").ui_schema)
    assert supplement_ui.pop("ui:order") == ["supplement_note", *declaration_ui.pop("ui:order")]
    assert supplement_ui.pop("supplement_note")["ui:widget"] == "textarea"
    assert supplement_ui == declaration_ui


def test_default_registry_is_cached_and_forms_too() -> None:
    assert default_registry() is default_registry()
    assert default_registry().get("examine.schema.json") is default_registry().get("examine")
    assert "examine.schema.json" in default_registry()
    assert "nope.schema.json" not in default_registry()


def test_form_field_titles() -> None:
    declaration_form = form("declaration.schema.json")
    assert declaration_form.field_title(["product", "name"]) == "Tên sản phẩm"
    assert declaration_form.field_title(["product", "name"], "en") == "Product name"
    assert declaration_form.field_title(["attachments", "other", 3], "en") == "Other document"
    assert declaration_form.field_title(["unknown"]) == "unknown"
    assert declaration_form.field_title([]) == "Bản công bố hợp chuẩn / hợp quy"
    supplement_form = form("supplement.schema.json")
    assert supplement_form.field_title(["product", "name"]) == "Tên sản phẩm"
    assert supplement_form.field_title(["standard", "number"], "en") == "Standard / regulation number"
    assert supplement_form.field_title(["supplement_note"]) == "Nội dung đã bổ sung"
    assert supplement_form.field_title([]) == "Bổ sung, hoàn thiện hồ sơ"
    assert supplement_form.field_schemas(["attachments", "quality_control_plan"])[0]["format"] == "attachment"


# -- registry errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["nope.schema.json", "../forms/schemas/examine.schema.json", "", "examine.uischema.json"]
)
def test_form_not_found(name: str) -> None:
    with pytest.raises(FormNotFound) as raised:
        default_registry().get(name)
    assert "not found" in str(raised.value)
    assert "examine.schema.json" in str(raised.value)  # lists what is available


def test_form_not_found_names_the_form(tmp_path: Path) -> None:
    with pytest.raises(FormNotFound, match=r"'missing.schema.json' not found"):
        FormRegistry(tmp_path).get("missing.schema.json")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"type": "object", ', "invalid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"type": "object", "properties": {"a": {"type": "strnig"}}}, "not a valid JSON Schema"),
        ({"type": "object", "properties": {"a": {"minLength": -1}}}, "not a valid JSON Schema"),
        ({"type": "object", "properties": {"a": {"pattern": "(unclosed"}}}, "not a valid JSON Schema"),
        ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}, "'$schema' must be"),
        ({"type": "array"}, '"type": "object"'),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "cannot be resolved"),
        (
            {"type": "object", "properties": {"a": {"$ref": "other.schema.json"}}},
            "no file 'other.schema.json'",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "https://example.com/x.schema.json"}}},
            "only schema files of the same folder",
        ),
    ],
)
def test_broken_schema_file(tmp_path: Path, content: Any, problem: str) -> None:
    write(tmp_path, "broken.schema.json", content)
    with pytest.raises(FormSchemaError) as raised:
        FormRegistry(tmp_path).get("broken.schema.json")
    assert "broken.schema.json" in str(raised.value)
    assert raised.value.filename.endswith("broken.schema.json")
    assert problem in str(raised.value)


def test_broken_referenced_schema_names_that_file(tmp_path: Path) -> None:
    write(
        tmp_path, "outer.schema.json", {"type": "object", "properties": {"a": {"$ref": "inner.schema.json"}}}
    )
    write(tmp_path, "inner.schema.json", '{"type": ')
    with pytest.raises(FormSchemaError) as raised:
        FormRegistry(tmp_path).get("outer.schema.json")
    assert raised.value.filename.endswith("inner.schema.json")


@pytest.mark.parametrize(
    ("ui", "problem"),
    [
        ("{oops", "invalid JSON"),
        ({"ui:order": ["a", "b"]}, "names fields the schema does not have"),
        ({"nmae": {"ui:widget": "textarea"}}, "the schema has no field 'nmae'"),
    ],
)
def test_broken_ui_schema(tmp_path: Path, ui: Any, problem: str) -> None:
    write(tmp_path, "small.schema.json", {"type": "object", "properties": {"a": {"type": "string"}}})
    write(tmp_path, "small.uischema.json", ui)
    with pytest.raises(FormSchemaError) as raised:
        FormRegistry(tmp_path).get("small.schema.json")
    assert raised.value.filename.endswith("small.uischema.json")
    assert problem in str(raised.value)


def test_a_form_without_ui_schema_has_empty_hints(tmp_path: Path) -> None:
    write(tmp_path, "small.schema.json", {"type": "object", "properties": {"a": {"type": "string"}}})
    small = FormRegistry(tmp_path).get("small.schema.json")
    assert small.ui_schema == {}
    assert small.title_vi == "small.schema.json"
    assert validate_or_errors(small, {"a": "x", "b": 1}) == []  # no additionalProperties: false here


def test_references_between_files_resolve_without_network(tmp_path: Path) -> None:
    write(
        tmp_path,
        "inner.schema.json",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["when"],
            "properties": {"when": {"title": "Ngày", "x-title-en": "Day", "$ref": "#/$defs/day"}},
            "$defs": {"day": {"type": "string", "format": "date"}},
        },
    )
    write(
        tmp_path,
        "outer.schema.json",
        {"type": "object", "properties": {"inner": {"$ref": "inner.schema.json"}}},
    )
    outer = FormRegistry(tmp_path).get("outer")
    error = only_error_of(outer, {"inner": {"when": "2026-02-30"}})
    assert [(e.field, e.code, e.message_en) for e in error] == [
        ("inner.when", "format", "'Day' must be a valid date in the form YYYY-MM-DD.")
    ]


def test_unevaluated_key_of_a_branch_that_did_not_apply_is_still_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        "branch.schema.json",
        {
            "type": "object",
            "unevaluatedProperties": False,
            "properties": {"kind": {"enum": ["a", "b"]}},
            "allOf": [
                {
                    "if": {"properties": {"kind": {"const": "a"}}},
                    "then": {"properties": {"only_for_a": {"type": "string"}}},
                }
            ],
        },
    )
    branch = FormRegistry(tmp_path).get("branch")
    assert only_error_of(branch, {"kind": "a", "only_for_a": "x"}) == []
    errors = only_error_of(branch, {"kind": "b", "only_for_a": "x", "it's": 1})
    assert [(e.field, e.code) for e in errors] == [
        ("it's", "unevaluatedProperties"),
        ("only_for_a", "unevaluatedProperties"),
    ]
    errors = only_error_of(branch, {"kind": "b", "only_for_a": "x"})
    assert [(e.field, e.code, e.message_en) for e in errors] == [
        ("only_for_a", "unevaluatedProperties", "Unexpected field 'only_for_a'.")
    ]
