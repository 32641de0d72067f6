"""The HTML side of the forms: the view, the Jinja2 macros, and reading a post back into data."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from jinja2 import Environment, FileSystemLoader
from lxml.html import HtmlElement

from forms import Form, FormRegistry, default_registry, validate, validate_or_errors
from forms.html_input import file_field, parse_submission
from forms.rendering import TEMPLATES_DIR, UI_TEXT, AttachmentInfo, FormView, build_view
from tests.test_forms import declaration

ENV = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
PAGE = ENV.from_string(
    '{% from "form_macros.html" import render_error_summary, render_fields %}'
    '<form method="post" enctype="multipart/form-data">{{ render_error_summary(view) }}'
    "{{ render_fields(view) }}</form>"
)
WHOLE_FORM = ENV.from_string(
    '{% from "form_macros.html" import render_form %}{{ render_form(view, "/submit", csrf_token=token) }}'
)

RENDERED_FORMS = [
    "declaration.schema.json",
    "check_completeness.schema.json",
    "examine.schema.json",
    "supplement.schema.json",
]


def form(name: str) -> Form:
    return default_registry().get(name)


def render(
    the_form: Form, data: dict[str, Any] | None = None, errors: Any = (), lang: str = "vi", **kw: Any
) -> tuple[str, HtmlElement]:
    view = build_view(the_form, data, list(errors), lang, **kw)
    html = PAGE.render(view=view)
    return html, lxml.html.fromstring(html)


def control(doc: HtmlElement, name: str, kind: str | None = None) -> HtmlElement:
    found = [
        e
        for e in doc.xpath("//*[@name=$name]", name=name)
        if e.get("type") != "hidden" and (kind is None or e.get("type", e.tag) == kind)
    ]
    assert found, f"no control named {name!r}"
    return found[0]


def by_id(doc: HtmlElement, element_id: str) -> HtmlElement:
    found = doc.xpath("//*[@id=$id]", id=element_id)
    assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
    return found[0]


def label_of(doc: HtmlElement, element: HtmlElement) -> str:
    labels = doc.xpath("//label[@for=$id]", id=element.get("id"))
    assert labels, f"no label for {element.get('name')!r}"
    return labels[0].text_content()


def textarea_value(element: HtmlElement) -> str:
    """A textarea's value as a browser reads it: HTML drops one newline right after the start tag
    (the macros write one so a value starting with a newline survives); lxml keeps it."""
    text = element.text_content()
    return text[1:] if text.startswith("\n") else text


def wrapper(element: HtmlElement) -> HtmlElement:
    """The element's own field wrapper (``data-field``)."""
    return next(a for a in element.iterancestors() if a.get("data-field") is not None)


def described_by(doc: HtmlElement, element: HtmlElement) -> list[HtmlElement]:
    return [by_id(doc, i) for i in (element.get("aria-describedby") or "").split()]


def posted(doc: HtmlElement) -> dict[str, list[str]]:
    """What a browser would post from the rendered form (no file chosen)."""
    fields: dict[str, list[str]] = {}
    for name, value in doc.xpath("//form")[0].form_values():
        fields.setdefault(name, []).append(value)
    return fields


def _is_attachment(schemas: list[Any]) -> bool:
    return any(s.get("format") == "attachment" for s in schemas)


def leaf_paths(the_form: Form, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every input the schema asks for, by the form's own API (arrays: their first row)."""
    out = []
    for key in the_form.field_names(path):
        here = (*path, key)
        schemas = the_form.field_schemas(here)
        types = {s.get("type") for s in schemas}
        if _is_attachment(schemas):
            out.append(here)
        elif "object" in types:
            out.extend(leaf_paths(the_form, here))
        elif "array" in types:
            items = the_form.field_schemas((*here, 0))
            if _is_attachment(items):
                out.append(here)
            elif "object" in {s.get("type") for s in items}:
                out.extend(leaf_paths(the_form, (*here, 0)))
            else:
                out.append((*here, 0))
        else:
            out.append(here)
    return out


def dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


# -- a form with the kinds the project's forms do not have yet ------------------------------------------

GOODS_SCHEMA = {
    "title": "Hàng hóa nhập khẩu",
    "x-title-en": "Imported goods",
    "type": "object",
    "unevaluatedProperties": False,
    "required": ["quantity", "agree", "origin"],
    "properties": {
        "quantity": {
            "title": "Số lượng",
            "x-title-en": "Quantity",
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
        },
        "weight": {
            "title": "Khối lượng (kg)",
            "x-title-en": "Weight (kg)",
            "type": "number",
            "exclusiveMinimum": 0,
        },
        "agree": {"title": "Cam kết", "x-title-en": "Undertaking", "type": "boolean"},
        "urgent": {"title": "Khẩn", "x-title-en": "Urgent", "type": "boolean"},
        "origin": {
            "title": "Xuất xứ",
            "x-title-en": "Origin",
            "type": "string",
            "enum": ["vn", "cn", "jp", "kr", "us"],
            "x-enum-labels": {
                "vn": {"vi": "Việt Nam", "en": "Viet Nam"},
                "cn": {"vi": "Trung Quốc", "en": "China"},
                "jp": {"vi": "Nhật Bản", "en": "Japan"},
                "kr": {"vi": "Hàn Quốc", "en": "Korea"},
                "us": {"vi": "Hoa Kỳ", "en": "United States"},
            },
        },
        "goods": {
            "title": "Danh mục hàng hóa",
            "x-title-en": "Goods",
            "type": "array",
            "maxItems": 3,
            "items": {
                "title": "Mặt hàng",
                "x-title-en": "Item",
                "type": "object",
                "additionalProperties": False,
                "required": ["hs_code"],
                "properties": {
                    "hs_code": {
                        "title": "Mã HS",
                        "x-title-en": "HS code",
                        "type": "string",
                        "pattern": "^[0-9]{4,10}$",
                    },
                    "photos": {
                        "title": "Ảnh",
                        "x-title-en": "Photos",
                        "type": "array",
                        "items": {"type": "string", "format": "attachment", "x-accept": ["image/*"]},
                    },
                },
            },
        },
    },
    "allOf": [
        {
            "if": {"required": ["origin"], "properties": {"origin": {"const": "cn"}}},
            "then": {
                "required": ["co_number"],
                "properties": {
                    "co_number": {
                        "title": "Số C/O",
                        "x-title-en": "C/O number",
                        "type": "string",
                        "minLength": 1,
                    }
                },
            },
        }
    ],
}


@pytest.fixture
def goods_form(tmp_path: Path) -> Form:
    (tmp_path / "goods.schema.json").write_text(json.dumps(GOODS_SCHEMA), encoding="utf-8")
    return FormRegistry(tmp_path).get("goods")


# -- every field is there, labelled, with its dotted name ------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name", RENDERED_FORMS)
def test_every_leaf_field_has_a_labelled_control(name: str, lang: str) -> None:
    the_form = form(name)
    _, doc = render(the_form, lang=lang)
    paths = leaf_paths(the_form)
    assert len(paths) >= 3
    for path in paths:
        element = control(doc, dotted(path))
        label = label_of(doc, element)
        if element.get("type") == "radio":
            legend = wrapper(element).xpath("./legend")[0].text_content()
            assert the_form.field_title(path, lang) in legend
        else:
            assert the_form.field_title(path, lang) in label, (path, label)


@pytest.mark.parametrize("name", RENDERED_FORMS)
def test_ids_are_unique_and_every_reference_resolves(name: str) -> None:
    data = declaration() if name in ("declaration.schema.json", "supplement.schema.json") else {}
    html, doc = render(
        form(name), data, validate_or_errors(form(name), {"x": 1}), extra_rows={"missing_items": 2}
    )
    ids = [e.get("id") for e in doc.xpath("//*[@id]")]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for label in doc.xpath("//label"):
        assert label.get("for") in ids
    for element in doc.xpath("//*[@aria-describedby]"):
        for ref in element.get("aria-describedby").split():
            assert ref in ids
    for link in doc.xpath("//a[starts-with(@href, '#')]"):
        assert link.get("href")[1:] in ids
    # CSP: no inline style, no script, no event handler attributes.
    assert "<script" not in html and "style=" not in html
    assert not doc.xpath("//@*[starts-with(name(), 'on')]")


def test_the_whole_form_macro(goods_form: Form) -> None:
    view = build_view(form("declaration"), None, [], "vi")
    assert view.has_files
    doc = lxml.html.fromstring(WHOLE_FORM.render(view=view, token="tok<en>"))
    assert doc.tag == "form"
    assert (doc.get("method"), doc.get("action"), doc.get("enctype")) == (
        "post",
        "/submit",
        "multipart/form-data",
    )
    assert doc.xpath("//input[@name='csrf_token']")[0].get("value") == "tok<en>"
    assert doc.xpath("//button[@type='submit' and not(@name)]")[0].text_content() == "Gửi"
    assert build_view(goods_form, None, [], "vi").has_files  # goods.N.photos are files


# -- required, conditional -------------------------------------------------------------------------------


def test_required_markers_only_where_always_required() -> None:
    _, doc = render(form("declaration"))
    name = control(doc, "product.name")
    assert name.get("required") is not None
    assert wrapper(name).xpath(".//label//abbr[@class='required-marker']")
    assert "field--required" in wrapper(name).get("class")

    trademark = control(doc, "product.trademark")
    assert trademark.get("required") is None
    assert not wrapper(trademark).xpath(".//abbr[@class='required-marker']")

    # Required inside a group that is itself required only sometimes: asterisk, no attribute.
    number = control(doc, "certificate.number")
    assert number.get("required") is None
    assert wrapper(number).xpath(".//abbr[@class='required-marker']")

    # Radios of an always-required enum are required; file inputs of required attachments too.
    assert all(r.get("required") is not None for r in doc.xpath("//input[@name='basis']"))
    assert control(doc, "attachments.declaration_form").get("required") is not None
    assert control(doc, "attachments.certificate_copy").get("required") is None
    assert control(doc, "attachments.label").get("required") is None


@pytest.mark.parametrize(
    ("lang", "hint"),
    [
        ("vi", "Bắt buộc khi Căn cứ công bố = Kết quả chứng nhận của tổ chức chứng nhận (bên thứ ba)"),
        ("en", "Required when Basis of the declaration = Certificate from a third-party certification body"),
    ],
)
def test_conditionally_required_fields_say_when(lang: str, hint: str) -> None:
    _, doc = render(form("declaration"), lang=lang)
    copy_input = control(doc, "attachments.certificate_copy")
    field = wrapper(copy_input)
    assert "field--conditional" in field.get("class")
    assert json.loads(field.get("data-required-when")) == [[{"name": "basis", "values": ["certificate"]}]]
    notes = [e.text_content() for e in described_by(doc, copy_input)]
    assert hint in notes
    # The group the condition requires carries the hint on its fieldset.
    certificate = by_id(doc, "f-certificate")
    assert certificate.tag == "fieldset"
    assert hint in certificate.xpath("./p[contains(@class, 'field-condition')]")[0].text_content()
    # A hand-written "Bắt buộc khi ..." description is not repeated beside the generated hint.
    assert len([n for n in notes if n.startswith(UI_TEXT[lang]["required_when"])]) == 1


def test_a_field_only_a_then_branch_adds_is_rendered_with_its_condition(goods_form: Form) -> None:
    _, doc = render(goods_form, lang="en")
    co = control(doc, "co_number")
    assert co.get("required") is None
    assert "C/O number" in label_of(doc, co)
    assert "Required when Origin = China" in [e.text_content() for e in described_by(doc, co)]


def test_html_constraints_come_only_from_rules_that_always_apply() -> None:
    _, doc = render(form("declaration"))
    tax = control(doc, "applicant.tax_code")
    assert tax.get("pattern") == "[0-9]{10}(-[0-9]{3})?"
    assert tax.get("maxlength") == "20"
    assert "10 chữ số" in tax.get("title")
    # The QCVN pattern applies only to hợp quy declarations: the browser must not enforce it.
    assert control(doc, "standard.number").get("pattern") is None
    # "Not blank" (\S) is said by `required`, not by a pattern the browser would read as whole-value.
    assert control(doc, "product.name").get("pattern") is None
    assert control(doc, "product.description").tag == "textarea"


def test_numbers_booleans_and_long_enums(goods_form: Form) -> None:
    _, doc = render(goods_form, {"quantity": 12, "weight": 2.5, "agree": True, "origin": "jp"})
    quantity = control(doc, "quantity")
    assert (quantity.get("type"), quantity.get("min"), quantity.get("max"), quantity.get("step")) == (
        "number",
        "1",
        "1000",
        "1",
    )
    assert quantity.get("value") == "12"
    weight = control(doc, "weight")
    assert (weight.get("type"), weight.get("step"), weight.get("value")) == ("number", "any", "2.5")
    agree = control(doc, "agree")
    assert (agree.get("type"), agree.get("value"), agree.get("checked")) == ("checkbox", "true", "checked")
    assert agree.get("required") is None  # a required boolean may well be false
    assert control(doc, "urgent").get("checked") is None
    origin = control(doc, "origin")
    assert origin.tag == "select"  # five choices
    options = origin.xpath("./option")
    assert [o.get("value") for o in options] == ["", "vn", "cn", "jp", "kr", "us"]
    assert options[0].text_content() == "Chọn…"
    assert [o.text_content() for o in options if o.get("selected") is not None] == ["Nhật Bản"]
    assert origin.get("required") is not None


# -- enums, dates, files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("vi", ["Công bố hợp chuẩn (theo tiêu chuẩn)", "Công bố hợp quy (theo quy chuẩn kỹ thuật)"]),
        ("en", ["Conformity to a standard (hợp chuẩn)", "Conformity to a technical regulation (hợp quy)"]),
    ],
)
def test_enum_labels_in_the_chosen_language(lang: str, labels: list[str]) -> None:
    _, doc = render(form("declaration"), lang=lang)
    radios = doc.xpath("//input[@name='declaration_type']")
    assert [r.get("type") for r in radios] == ["radio", "radio"]
    assert [r.get("value") for r in radios] == ["hop_chuan", "hop_quy"]
    assert [label_of(doc, r) for r in radios] == labels
    assert wrapper(radios[0]).tag == "fieldset"


def test_check_completeness_decisions_in_both_languages() -> None:
    for lang, refuse in (("vi", "Từ chối tiếp nhận hồ sơ"), ("en", "Refuse receipt")):
        _, doc = render(form("check_completeness"), lang=lang)
        radios = doc.xpath("//input[@name='completeness_decision']")
        assert len(radios) == 3
        assert label_of(doc, radios[2]) == refuse


def test_dates_are_date_inputs() -> None:
    _, doc = render(form("declaration"), declaration())
    for name in ("certificate.issued_on", "certificate.valid_until", "self_assessment.issued_on"):
        assert control(doc, name).get("type") == "date"
    assert control(doc, "certificate.issued_on").get("value") == "2026-01-15"
    assert control(doc, "applicant.email").get("type") == "email"


def test_attachments_are_file_inputs_with_accept() -> None:
    the_form = form("declaration")
    _, doc = render(the_form)
    fields = the_form.attachment_fields()
    assert len(fields) == 8
    for field in fields:
        element = control(doc, field.path)
        assert element.get("type") == "file"
        assert element.get("accept") == ",".join(field.accept)
        assert (element.get("multiple") is not None) == field.multiple
    assert control(doc, "attachments.other").get("multiple") is not None


def test_an_uploaded_file_stays_without_uploading_again() -> None:
    data = declaration()
    attachments = {
        "att-001": AttachmentInfo("att-001", "ban-cong-bo.pdf", 250_000, "/files/att-001"),
        "att-006": AttachmentInfo("att-006", "iso-9001.pdf", 1_500_000, "javascript:alert(1)"),
    }
    _, doc = render(form("declaration"), data, attachments=attachments)
    hidden = doc.xpath("//input[@type='hidden' and @name='attachments.declaration_form.attachment_id']")
    assert [h.get("value") for h in hidden] == ["att-001"]
    file_input = control(doc, "attachments.declaration_form", "file")
    assert file_input.get("required") is None  # already has its file
    current = [e for e in described_by(doc, file_input) if "file-current" in e.get("class")]
    assert len(current) == 1
    assert "đã tải lên: ban-cong-bo.pdf" in current[0].text_content()
    assert current[0].xpath(".//a")[0].get("href") == "/files/att-001"
    # An id with no information still shows, by its id.
    assert "att-002" in wrapper(control(doc, "attachments.business_registration", "file")).text_content()
    # Several files: one ticked "keep" box each; an unsafe download link is not rendered.
    keep = doc.xpath("//input[@type='checkbox' and @name='attachments.other.attachment_id']")
    assert [(k.get("value"), k.get("checked")) for k in keep] == [
        ("att-006", "checked"),
        ("att-007", "checked"),
    ]
    assert "iso-9001.pdf" in wrapper(keep[0]).text_content()
    assert not doc.xpath("//a[starts-with(@href, 'javascript')]")


# -- errors, values, escaping -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_error_shows_next_to_its_input(lang: str) -> None:
    the_form = form("declaration")
    data = declaration()
    data["product"]["name"] = ""
    errors = validate_or_errors(the_form, data)
    [error] = [e for e in errors if e.field == "product.name"]
    _, doc = render(the_form, data, errors, lang)
    name = control(doc, "product.name")
    assert name.get("aria-invalid") == "true"
    messages = [e for e in described_by(doc, name) if "field-error" in e.get("class")]
    assert len(messages) == 1
    message = messages[0]
    assert message.get("role") == "alert"
    assert message.text_content() == (error.message_en if lang == "en" else error.message)
    assert wrapper(message) is wrapper(name)
    assert "field--invalid" in wrapper(name).get("class")
    # The summary at the top links to it.
    summary = doc.xpath("//*[contains(@class, 'error-summary')]//a")
    assert [(a.get("href"), a.text_content()) for a in summary] == [
        ("#" + name.get("id"), message.text_content())
    ]
    # Other fields are not marked.
    assert control(doc, "product.manufacturer").get("aria-invalid") is None


def test_errors_of_an_object_show_on_its_fieldset_and_unknown_keys_on_the_form() -> None:
    the_form = form("declaration")
    data = declaration()
    del data["certificate"]
    data["surprise"] = "x"
    errors = validate_or_errors(the_form, data)
    assert {e.field for e in errors} == {"certificate", "surprise"}
    view = build_view(the_form, data, errors, "vi")
    doc = lxml.html.fromstring(PAGE.render(view=view))
    fieldset = by_id(doc, "f-certificate")
    messages = [e for e in described_by(doc, fieldset) if "field-error" in e.get("class")]
    assert "Giấy chứng nhận hợp chuẩn / hợp quy" in messages[0].text_content()
    assert "field--invalid" in fieldset.get("class")
    assert view.errors == ["Trường 'surprise' không có trong biểu mẫu."]
    assert (
        "Trường 'surprise' không có trong biểu mẫu."
        in doc.xpath("//*[@class='form-errors']")[0].text_content()
    )


def test_values_are_kept() -> None:
    data = declaration()
    data["applicant"]["address"] = "12 Hùng Vương\nĐông Hà"
    _, doc = render(form("declaration"), data)
    assert control(doc, "applicant.name").get("value") == "Công ty TNHH Thiết bị điện Quảng Trị"
    assert textarea_value(control(doc, "applicant.address")) == "12 Hùng Vương\nĐông Hà"
    checked = doc.xpath("//input[@name='basis' and @checked]")
    assert [c.get("value") for c in checked] == ["certificate"]
    assert control(doc, "standard.number").get("value") == "QCVN 4:2009/BKHCN"


def test_user_values_are_escaped() -> None:
    data = declaration()
    evil = '<script>alert("x")</script>'
    data["product"]["name"] = evil
    data["product"]["description"] = "</textarea><script>alert(1)</script>"
    html, doc = render(form("declaration"), data)
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert control(doc, "product.name").get("value") == evil
    assert textarea_value(control(doc, "product.description")) == "</textarea><script>alert(1)</script>"


# -- arrays ----------------------------------------------------------------------------------------------


def test_missing_items_rows_and_the_add_row_button() -> None:
    the_form = form("check_completeness")
    data = {"completeness_decision": "supplement", "missing_items": ["Bản sao giấy chứng nhận", "Nhãn"]}
    _, doc = render(the_form, data)
    rows = doc.xpath("//input[starts-with(@name, 'missing_items.') and @type='text']")
    assert [(r.get("name"), r.get("value")) for r in rows] == [
        ("missing_items.0", "Bản sao giấy chứng nhận"),
        ("missing_items.1", "Nhãn"),
    ]
    assert "Nội dung cần bổ sung" in label_of(doc, rows[0])
    assert rows[0].get("required") is None  # rows left blank are dropped
    array = by_id(doc, "f-missing_items")
    assert array.tag == "fieldset" and "array" in array.get("class").split()
    assert (array.get("data-array"), array.get("data-next-index"), array.get("data-max-items")) == (
        "missing_items",
        "2",
        "50",
    )
    [button] = array.xpath(".//button[@name='_add_row']")
    assert (button.get("type"), button.get("value")) == ("submit", "missing_items")
    assert button.get("formnovalidate") is not None
    assert button.text_content() == "Thêm dòng"
    assert array.xpath(".//input[@type='checkbox' and @name='missing_items.1._remove']")

    _, doc = render(the_form, data, extra_rows={"missing_items": 1}, lang="en")
    names = [
        r.get("name") for r in doc.xpath("//input[starts-with(@name, 'missing_items.') and @type='text']")
    ]
    assert names == ["missing_items.0", "missing_items.1", "missing_items.2"]
    assert control(doc, "missing_items.2").get("value") == ""
    assert doc.xpath("//button[@name='_add_row']")[0].text_content() == "Add a row"


def test_an_empty_array_shows_one_row_and_a_full_one_no_add_button(goods_form: Form) -> None:
    _, doc = render(form("examine"))
    assert [e.get("name") for e in doc.xpath("//textarea[starts-with(@name, 'rejection_reasons.')]")] == [
        "rejection_reasons.0"
    ]
    full = {"goods": [{"hs_code": "8471"}, {"hs_code": "8472"}, {"hs_code": "8473"}]}
    _, doc = render(goods_form, full, extra_rows={"goods": 5})
    assert len(doc.xpath("//input[substring(@name, string-length(@name) - 7) = '.hs_code']")) == 3
    assert not doc.xpath("//button[@name='_add_row' and @value='goods']")
    # Rows of objects: a fieldset per row, dotted names inside.
    row = by_id(doc, "f-goods-1")
    assert row.tag == "fieldset"
    assert control(doc, "goods.1.hs_code").get("value") == "8472"
    assert control(doc, "goods.1.photos").get("multiple") is not None


# -- from a post back to data -----------------------------------------------------------------------------


def test_a_realistic_post_gives_valid_declaration_data() -> None:
    the_form = form("declaration")
    fields = {
        "csrf_token": ["abc"],
        "declaration_type": ["hop_quy"],
        "applicant.name": ["  Công ty TNHH Thiết bị điện Quảng Trị "],
        "applicant.tax_code": ["3200123452"],
        "applicant.address": ["12 Hùng Vương\r\nĐông Hà"],
        "applicant.phone": ["0233 3852 123"],
        "applicant.email": [""],
        "applicant.representative": ["Nguyễn Văn An"],
        "product.name": ["Dây điện bọc nhựa PVC"],
        "product.trademark": [""],
        "product.model": ["   "],
        "product.description": [""],
        "product.manufacturer": ["Công ty TNHH Thiết bị điện Quảng Trị"],
        "product.place_of_production": ["Quảng Trị"],
        "standard.number": ["QCVN 4:2009/BKHCN"],
        "standard.title": [""],
        "basis": ["certificate"],
        "certificate.number": ["QT-2026-0042"],
        "certificate.body": ["Quatest 2"],
        "certificate.issued_on": ["2026-01-15"],
        "certificate.valid_until": ["2029-01-14"],
        "self_assessment.test_report_number": [""],
        "self_assessment.laboratory": [""],
        "self_assessment.issued_on": [""],
        "attachments.declaration_form.attachment_id": ["att-001"],
        "attachments.other.attachment_id": ["att-006"],
        "unknown.field": ["ignored"],
        "_internal": ["ignored"],
    }
    attachment_ids = {
        "attachments.business_registration": ["att-002"],
        "attachments.certificate_copy": ["att-003"],
        "attachments.other": ["att-009"],
    }
    data, extra_rows = parse_submission(the_form, fields, attachment_ids)
    validate(the_form, data)
    assert extra_rows == {}
    assert data == {
        "declaration_type": "hop_quy",
        "applicant": {
            "name": "Công ty TNHH Thiết bị điện Quảng Trị",
            "tax_code": "3200123452",
            "address": "12 Hùng Vương\nĐông Hà",
            "phone": "0233 3852 123",
            "representative": "Nguyễn Văn An",
        },
        "product": {
            "name": "Dây điện bọc nhựa PVC",
            "manufacturer": "Công ty TNHH Thiết bị điện Quảng Trị",
            "place_of_production": "Quảng Trị",
        },
        "standard": {"number": "QCVN 4:2009/BKHCN"},
        "basis": "certificate",
        "certificate": {
            "number": "QT-2026-0042",
            "body": "Quatest 2",
            "issued_on": "2026-01-15",
            "valid_until": "2029-01-14",
        },
        "attachments": {
            "declaration_form": "att-001",
            "business_registration": "att-002",
            "certificate_copy": "att-003",
            "other": ["att-006", "att-009"],
        },
    }


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("declaration.schema.json", declaration("certificate")),
        ("declaration.schema.json", declaration("self_assessment", "hop_chuan")),
        ("supplement.schema.json", {**declaration(), "supplement_note": "Đã nộp\nbản sao"}),
        (
            "check_completeness.schema.json",
            {
                "completeness_decision": "supplement",
                "missing_items": ["Bản sao", "Nhãn"],
                "clerk_note": "Gọi lại",
            },
        ),
        (
            "examine.schema.json",
            {
                "examination_findings": "Thiếu",
                "examination_conclusion": "reject",
                "rejection_reasons": ["Hết hạn"],
            },
        ),
    ],
)
def test_render_then_post_gives_the_same_data(name: str, data: dict[str, Any]) -> None:
    the_form = form(name)
    before = copy.deepcopy(data)
    _, doc = render(the_form, data)
    parsed, extra_rows = parse_submission(the_form, posted(doc), {})
    assert parsed == before
    assert extra_rows == {}
    assert validate_or_errors(the_form, parsed) == []


def test_coercion_by_schema_type(goods_form: Form) -> None:
    fields = {
        "quantity": ["12"],
        "weight": ["2.5"],
        "agree": ["true"],
        "origin": ["cn"],
        "co_number": ["CO-1"],
        "goods.0.hs_code": ["8471"],
        "goods.1.hs_code": [""],
        "goods.2.hs_code": ["8473"],
    }
    data, extra_rows = parse_submission(goods_form, fields, {"goods.2.photos": ["p1", "p2"]})
    assert data == {
        "quantity": 12,
        "weight": 2.5,
        "agree": True,
        "origin": "cn",
        "co_number": "CO-1",
        "goods": [{"hs_code": "8471"}, {"hs_code": "8473", "photos": ["p1", "p2"]}],
    }
    assert validate_or_errors(goods_form, data) == []
    assert extra_rows == {}

    # An unticked checkbox posts nothing: a required boolean is false, an optional one absent.
    data, _ = parse_submission(goods_form, {"quantity": ["3"], "origin": ["vn"]}, {})
    assert data == {"quantity": 3, "agree": False, "origin": "vn"}
    assert "urgent" not in data


def test_what_cannot_be_coerced_is_reported_at_its_field(goods_form: Form) -> None:
    data, _ = parse_submission(
        goods_form, {"quantity": ["abc"], "weight": ["1,5"], "agree": ["true"], "origin": ["xx"]}, {}
    )
    assert data == {"quantity": "abc", "weight": "1,5", "agree": True, "origin": "xx"}
    errors = {e.field: e.code for e in validate_or_errors(goods_form, data)}
    assert errors == {"quantity": "type", "weight": "type", "origin": "enum"}
    _, doc = render(goods_form, data, validate_or_errors(goods_form, data), "en")
    assert control(doc, "quantity").get("aria-invalid") == "true"


def test_a_blank_optional_field_is_absent() -> None:
    the_form = form("check_completeness")
    data, _ = parse_submission(
        the_form,
        {"completeness_decision": ["receive"], "clerk_note": ["  \r\n "], "missing_items.0": [""]},
        {},
    )
    assert data == {"completeness_decision": "receive"}
    validate(the_form, data)


def test_rows_follow_their_index_and_removed_rows_go() -> None:
    the_form = form("check_completeness")
    fields = {
        "completeness_decision": ["supplement"],
        "missing_items.10": ["c"],
        "missing_items.0": ["a"],
        "missing_items.1": [""],
        "missing_items.2": ["b"],
        "missing_items.2._remove": ["1"],
        "missing_items.x": ["not a row"],
    }
    data, extra_rows = parse_submission(the_form, fields, {})
    assert data == {"completeness_decision": "supplement", "missing_items": ["a", "c"]}
    assert extra_rows == {}


def test_add_row_asks_for_a_re_render_with_one_more_row() -> None:
    the_form = form("check_completeness")
    fields = {
        "completeness_decision": ["supplement"],
        "missing_items.0": ["a"],
        "missing_items.1": [""],
        "_add_row": ["missing_items"],
    }
    data, extra_rows = parse_submission(the_form, fields, {})
    assert data == {"completeness_decision": "supplement", "missing_items": ["a"]}
    # The blank row the user had stays, plus the one asked for.
    assert extra_rows == {"missing_items": 2}
    _, doc = render(the_form, data, extra_rows=extra_rows)
    assert [
        e.get("name") for e in doc.xpath("//input[starts-with(@name, 'missing_items.') and @type='text']")
    ] == [
        "missing_items.0",
        "missing_items.1",
        "missing_items.2",
    ]
    data, extra_rows = parse_submission(the_form, {"_add_row": ["missing_items"]}, {})
    assert (data, extra_rows) == ({}, {"missing_items": 1})


def test_a_new_upload_replaces_the_kept_file() -> None:
    the_form = form("declaration")
    fields = {
        "attachments.declaration_form.attachment_id": ["att-001"],
        "attachments.label.attachment_id": ["att-005"],
        "attachments.other.attachment_id": ["att-006", "att-007"],
    }
    data, _ = parse_submission(
        the_form,
        fields,
        {"attachments.declaration_form": ["att-100"], "attachments.other": ["att-007", "att-8"]},
    )
    assert data["attachments"] == {
        "declaration_form": "att-100",
        "label": "att-005",
        "other": ["att-006", "att-007", "att-8"],
    }


def test_file_field_maps_html_names_to_attachment_fields(goods_form: Form) -> None:
    assert file_field(form("declaration"), "attachments.other").multiple
    assert file_field(form("declaration"), "attachments.label").accept == ("image/*", "application/pdf")
    assert file_field(form("declaration"), "product.name") is None
    assert file_field(goods_form, "goods.2.photos").path == "goods[*].photos"
    assert file_field(goods_form, "goods.photos") is None


def test_a_view_can_be_walked() -> None:
    view: FormView = build_view(form("declaration"), declaration(), [], "en")
    assert view.title == "Declaration of conformity"
    field = view.field("product.name")
    assert field is not None and field.label == "Product name" and field.required
    assert view.field("nope") is None


def test_a_required_group_left_blank_reports_its_own_fields():
    form = default_registry().get("declaration.schema.json")
    data, extra = parse_submission(form, {"declaration_type": ["hop_quy"]}, {})
    assert extra == {} and data["product"] == {}
    fields = {e.field for e in validate_or_errors(form, data)}
    assert {"product.name", "product.manufacturer", "product.place_of_production"} <= fields
    assert "product" not in fields
