"""Documents from .docx templates (workflows.documents.templating): the package templates of the
one-stop slips say what the builders say; an uploaded version takes effect on its day, is checked
before, is recorded on the documents it made, can be withdrawn; the administration pages and API."""

from __future__ import annotations

import hashlib
import io
import re
import sys
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import time_machine
from lxml import etree
from sqlmodel import select

from tests.support import business, error_of, issued_docx, local, officer, relogin
from tests.test_documents import DECLARATION, LETTERS, letter_ctx, make_ctx
from tests.test_pages import csrf, page_login
from workflows.clock import now, to_local
from workflows.db import reading
from workflows.documents import render_document
from workflows.documents.model import kind_named
from workflows.documents.pdf_writer import render_pdf, unsupported_features
from workflows.documents.samples import sample_context
from workflows.documents.template_check import check_template
from workflows.documents.template_versions import current_template
from workflows.documents.templating import TEMPLATE_KINDS, package_template, render_template
from workflows.models import AuditEvent, Document, User
from workflows.procedures.award.documents import SAMPLE_DATA as AWARD_SAMPLE
from workflows.procedures.import_inspection.documents import SAMPLE_DATA as IMPORT_SAMPLE
from workflows.procedures.tbt.documents import SAMPLE_DATA as TBT_SAMPLE
from workflows.procedures.tbt.documents import WTO_SAMPLE_EXTRA
from workflows.runtime import build_runtime

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SLIPS = (
    "receipt_slip",
    "supplement_request",
    "receipt_refusal",
    "apology_slip",
    "stop_notice",
    "process_control_slip",
)
# The kinds of the procedures, converted after the slips (each with its package template next to
# its builder).
PROCEDURE_KINDS = (
    "declaration_notice",
    "declaration_rejection",
    "import_registration_confirmation",
    "import_inspection_result",
    "tbt_forward_letter",
    "tbt_answer",
    "tbt_decline_slip",
    "tbt_wto_comments",
    "award_letter",
    "award_scoring_sheet",
    "award_recommendation_list",
)
CONVERTED = (*SLIPS, *PROCEDURE_KINDS)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def paragraphs(content: bytes) -> list[str]:
    """Every paragraph's text, in order: the body (table cells too), then each header and footer."""
    texts = []
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        names = [
            "word/document.xml",
            *sorted(n for n in package.namelist() if n.startswith(("word/header", "word/footer"))),
        ]
        for name in names:
            root = etree.fromstring(package.read(name))
            texts += [
                f"{name}: " + "".join(t.text or "" for t in p.iter(W + "t")) for p in root.iter(W + "p")
            ]
    return texts


def part(content: bytes, name: str = "word/document.xml") -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return package.read(name).decode("utf-8")


def edited(kind: str, old: str, new: str) -> bytes:
    """The package template of ``kind`` with ``old`` replaced by ``new`` in its document part."""
    source = package_template(kind)
    assert source is not None
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(source)) as package,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for item in package.infolist():
            data = package.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, old
                data = text.replace(old, new, 1).encode("utf-8")
            copy.writestr(item, data)
    return out.getvalue()


def base_ctx(kind: str):  # type: ignore[no-untyped-def]
    """The context tests/test_documents.py renders ``kind`` with (what the kind requires added)."""
    if kind == "stop_notice":
        return make_ctx(kind, extra={"reason": "Tổ chức rút hồ sơ"})
    if kind in BASE_DATA:
        return make_ctx(kind, data=BASE_DATA[kind])
    if kind in LETTERS:
        return letter_ctx(kind)
    return make_ctx(kind)


def contexts(kind: str):  # type: ignore[no-untyped-def]
    """The contexts tests/test_documents.py renders ``kind`` with, and the check's sample."""
    ctx = base_ctx(kind)
    bare = replace(ctx, applicant_contact={}, applicant_tax_code="", received_at=None)
    if kind == "receipt_slip":
        bare = replace(
            bare,
            extra={
                "procedure_name": "Công bố hợp chuẩn/hợp quy",
                "receiving_unit": "Bộ phận một cửa điện tử",
            },
        )
    if kind == "process_control_slip":
        bare = replace(bare, extra={"procedure_name": "Công bố hợp chuẩn/hợp quy"})
    drafted = replace(ctx, draft=True, number="", verification_code="", verify_url="")
    variants = [replace(ctx, **changes) for changes in VARIANTS.get(kind, ())]
    return [ctx, bare, drafted, *variants, sample_context(kind), sample_context(kind, draft=True)]


SELF_ASSESSED = {
    **DECLARATION,
    "declaration_type": "hop_quy",
    "basis": "self_assessment",
    "self_assessment": {
        "test_report_number": "KQ-112/2026",
        "issued_on": "2026-09-30",
        "laboratory": "Phòng thử nghiệm VLXD Quảng Trị",
    },
    "products": [
        DECLARATION["product"],
        {"name": "Gạch lát <tự chèn> & bó vỉa", "trademark": "VLMT", "manufacturer": "Công ty A"},
    ],
}
IMPORTED = {
    **IMPORT_SAMPLE,
    "goods": [
        *IMPORT_SAMPLE["goods"],
        {"name": "Đồ chơi <nhựa> & gỗ", "origin": "Trung Quốc", "quantity": 350.5, "unit": "kg"},
        {"name": "Pin sạc", "quantity": "2 thùng"},
    ],
    "expected_arrival": "",
}
# What a kind needs in its data that tests/test_documents.py does not give.
BASE_DATA: dict[str, dict] = {
    "import_inspection_result": {**IMPORT_SAMPLE, "inspection_conclusion": "meets"},
    "award_letter": AWARD_SAMPLE,
    "award_scoring_sheet": AWARD_SAMPLE,
}
RECOMMENDATION_SAMPLE = TEMPLATE_KINDS["award_recommendation_list"].sample_extra
# Each branch of a kind's wording: the changes made to its test context.
VARIANTS: dict[str, list[dict]] = {
    "declaration_notice": [
        {"data": SELF_ASSESSED, "extra": {"valid_until": "2029-09-30"}},
        {"data": SELF_ASSESSED},
        {"data": {"applicant": DECLARATION["applicant"]}, "applicant_address": ""},
        {"data": {**DECLARATION, "certificate": {"number": "HC-1"}}},
    ],
    "declaration_rejection": [
        {"data": {**SELF_ASSESSED, "rejection_reasons": ["Thiếu nhãn.", "Thiếu <phiếu> & mẫu;"]}},
        {"data": {"applicant": DECLARATION["applicant"], "rejection_reasons": ["Hồ sơ không đầy đủ"]}},
        {"data": {**DECLARATION, "product": {}, "rejection_reasons": ["Một", "Hai", "Ba"]}},
    ],
    "import_registration_confirmation": [
        {"data": {**IMPORTED, "inspection_route": "none"}},
        {"data": {**IMPORTED, "inspection_route": "designated_body"}, "extra": {"legal_basis": ["Luật A"]}},
        {"data": {**IMPORT_SAMPLE, "inspection_measure": 2}},
        {"data": {**IMPORT_SAMPLE, "inspection_measure": "1"}},
        {"data": {**IMPORT_SAMPLE, "inspection_measure": 0, "contract_number": ""}},
    ],
    "import_inspection_result": [
        {"data": {**IMPORTED, "inspection_conclusion": "meets", "evaluation_notes": "Đạt."}},
        {"data": {**IMPORTED, "inspection_conclusion": "does_not_meet", "required_handling": "destroy"}},
        {"data": {**IMPORTED, "inspection_conclusion": "does_not_meet", "evaluation_notes": "Thiếu <nhãn>"}},
        {
            "data": {
                "inspection_conclusion": "does_not_meet",
                "required_handling": "reprocess",
                "certificate_number": "CT-1",
                "issued_on": "2026-11-20",
                "evaluation_notes": "Ghi chú",
            },
            "extra": {"legal_basis": ["Luật A", "Nghị định B"]},
        },
        {"data": {"inspection_conclusion": "does_not_meet", "issuing_body": "Trung tâm 1"}},
    ],
    "tbt_forward_letter": [
        {"data": {**TBT_SAMPLE, "forward_to": " Vụ  <Khoa học>;. ", "forward_note": "Trả lời sớm & rõ."}},
        {"data": {"forward_to": "Văn phòng TBT Việt Nam", "topic": "other_topic", "question": "\n \n"}},
    ],
    "tbt_answer": [
        {"data": {**TBT_SAMPLE, "answer": "A.\n\n  B & <C>  ", "references": ["QCVN 1", " ", "TCVN 2 "]}},
        {"data": {**TBT_SAMPLE, "answer": "A", "forward_to": "Bộ Công Thương", "reply_reference": "12/BCT"}},
        {
            "data": {"answer": "A", "forward_to": "Bộ Y tế", "asker": {"name": "Lê Văn E"}},
            "applicant_name": "",
        },
    ],
    "tbt_decline_slip": [
        {"data": {**TBT_SAMPLE, "decline_reason": "Một.\n\n Hai <ba> & bốn "}},
        {"data": {"decline_reason": "Ngoài phạm vi", "asker": {"organisation": "Hợp tác xã F"}}},
    ],
    "tbt_wto_comments": [
        {"extra": WTO_SAMPLE_EXTRA, "reference_label": "Thông báo"},
        {"extra": {**WTO_SAMPLE_EXTRA, "early_reason": "", "comments": []}},
        {
            "extra": {
                **WTO_SAMPLE_EXTRA,
                "comments": [
                    {"organisation": "Công ty <A> & B", "date": "01/12/2026", "body": "Dòng 1\nDòng 2"},
                    {"organisation": "Hộ kinh doanh C", "body": "  "},
                ],
            }
        },
    ],
    "award_letter": [
        {"data": {**AWARD_SAMPLE, "final_recommendation": "gold_candidate", "leader_note": " "}},
        {"data": {**AWARD_SAMPLE, "final_recommendation": "", "recommendation": "not_recommended"}},
        {
            "data": {"aggregation": {**AWARD_SAMPLE["aggregation"], "criteria_list": []}},
            "extra": {"legal_basis": ["A"]},
        },
    ],
    "award_scoring_sheet": [
        {
            "data": {
                **AWARD_SAMPLE,
                "aggregation": {
                    **AWARD_SAMPLE["aggregation"],
                    "missing_members": ["3", "4"],
                    "total": {**AWARD_SAMPLE["aggregation"]["total"], "by_member": {"1": 382, "2": 409.25}},
                },
                "site_visit_date": "2026-11-10",
                "final_recommendation": "gold_candidate",
            },
            "extra": {"member_names": {"1": "Nguyễn <Văn> & Một", "3": "Lê Ba"}},
        },
        {
            "data": {
                **AWARD_SAMPLE,
                "site_visit_date": "10/11/2026",
                "site_visit_confirmed": True,
                "award_year": "",
            }
        },
    ],
    "award_recommendation_list": [
        {"extra": RECOMMENDATION_SAMPLE, "reference_label": "Đợt xét"},
        {"extra": {"year": 2027, "rows": RECOMMENDATION_SAMPLE["rows"][1:]}},
        {"extra": {"year": 2027, "rows": RECOMMENDATION_SAMPLE["rows"][:1] * 3}},
    ],
}


# ---------------------------------------------------------------- the package templates


def test_the_converted_kinds_have_templates():
    assert set(CONVERTED) <= set(TEMPLATE_KINDS)
    assert all(package_template(kind) is not None for kind in CONVERTED)


@pytest.mark.parametrize("kind", CONVERTED)
def test_package_templates_give_the_builders_text(kind):
    template = package_template(kind)
    for ctx in contexts(kind):
        from_template = render_template(template, ctx)
        assert paragraphs(from_template) == paragraphs(render_document(ctx)), (kind, ctx.draft)
        assert unsupported_features(from_template) == []
        assert render_template(template, ctx) == from_template  # the same bytes for the same context


@pytest.mark.parametrize("kind", CONVERTED)
def test_package_templates_keep_the_decree_30_page(kind):
    ctx = base_ctx(kind)
    content = render_template(package_template(kind), ctx)
    body = part(content)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in body and "Độc lập - Tự do - Hạnh phúc" in body
    if kind_named(kind).letter:  # a công văn: "V/v …" under its number, "Kính gửi: …" for a title
        assert "V/v " in body and "Kính gửi:" in body and ctx.number in body
    assert "<w:cantSplit/>" in body  # the closing never splits, the last paragraph goes with it
    assert ("<w:keepNext/>" in body) is ("<w:keepNext/>" in part(render_document(ctx)))
    assert "<w:drawing>" in body and "K7QF-2MXR-9HDA" in body  # the QR code and the verification code
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        assert any(n.startswith("word/media/") for n in package.namelist())
        assert {i.date_time for i in package.infolist()} == {(2026, 11, 26, 1, 30, 0)}  # pinned
        assert "<w:titlePg/>" in body and any(
            "PAGE" in package.read(n).decode() for n in package.namelist() if n.startswith("word/header")
        )
    core = part(content, "docProps/core.xml")
    assert "2026-11-25T18:30:00Z" in core and ctx.number in core
    draft = render_template(package_template(kind), replace(ctx, draft=True, number="", verification_code=""))
    assert "DỰ THẢO" in part(draft) and "<w:drawing>" not in part(draft)


def test_package_templates_render_as_pdf():
    for kind in ("receipt_slip", "process_control_slip", *PROCEDURE_KINDS):
        pdf = render_pdf(render_template(package_template(kind), sample_context(kind)))
        assert pdf.startswith(b"%PDF-")


def test_a_template_value_is_escaped_and_cleaned():
    ctx = make_ctx("receipt_refusal", data={"refusal_reason": "Thiếu <bản sao> & \x07bản chính"})
    content = render_template(package_template("receipt_refusal"), ctx)
    assert paragraphs(content) == paragraphs(render_document(ctx))


# ---------------------------------------------------------------- the check


def test_the_package_templates_pass_the_check():
    result = check_template("receipt_slip", package_template("receipt_slip"))
    assert result.ok, result.problems
    assert result.preview_pdf.startswith(b"%PDF-") and "documents" in result.variables


def test_an_unknown_placeholder_is_refused_naming_it():
    result = check_template(
        "receipt_slip", edited("receipt_slip", "{{ receiving_unit }} -", "{{ don_vi }} -")
    )
    assert not result.ok and "don_vi" in result.problems[0].vi and "don_vi" in result.problems[0].en


def test_a_broken_docx_is_refused():
    for content in (b"not a docx", package_template("receipt_slip")[:5000]):
        result = check_template("receipt_slip", content)
        assert not result.ok and ".docx" in result.problems[0].vi


def test_a_jinja_syntax_error_is_refused():
    result = check_template(
        "receipt_slip", edited("receipt_slip", "{{ receiving_unit }} -", "{{ receiving_unit -")
    )
    assert not result.ok and "Jinja" in result.problems[0].en


def test_a_text_box_is_refused():
    box = (
        '<w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="width:100pt;height:40pt">'
        "<v:textbox><w:txbxContent><w:p><w:r><w:t>Hộp chữ</w:t></w:r></w:p></w:txbxContent></v:textbox>"
        "</v:shape></w:pict></w:r>"
    )
    content = edited("receipt_slip", "<w:t>Nơi nhận:</w:t></w:r>", "<w:t>Nơi nhận:</w:t></w:r>" + box)
    result = check_template("receipt_slip", content)
    assert not result.ok and result.features and "PDF" in result.problems[0].en


def test_a_kind_without_template_variables_is_refused():
    assert not check_template("no_such_kind", package_template("receipt_slip")).ok


@pytest.mark.parametrize("kind", PROCEDURE_KINDS)
def test_a_procedure_kinds_package_template_lies_next_to_its_builder_and_passes_the_check(kind):
    builder = sys.modules[TEMPLATE_KINDS[kind].values.__module__]
    assert (
        TEMPLATE_KINDS[kind].directory == Path(builder.__file__).resolve().parent / "templates" / "documents"
    )
    result = check_template(kind, package_template(kind))
    assert result.ok, result.problems
    assert result.features == [] and result.preview_pdf.startswith(b"%PDF-")
    assert set(result.variables) <= TEMPLATE_KINDS[kind].declared


# ---------------------------------------------------------------- versions, issuing, administration

NEW_WORDING = "Số lượng hồ sơ: 01 bộ (bản điện tử)."


def office_today() -> str:
    """Today in the office's time zone, as the pages take it (dd/mm/yyyy)."""
    return to_local(now()).strftime("%d/%m/%Y")


def _receive(people) -> dict:  # type: ignore[no-untyped-def]
    firm, clerk = people["business"], people["clerk"]
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    slips = [d for d in firm.get(f"/api/dossiers/{code}").json()["documents"] if d["kind"] == "receipt_slip"]
    return slips[0]


def _text(people, slip) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(paragraphs(issued_docx(people["clerk"], slip)))


def _details(rt, slip) -> dict:  # type: ignore[no-untyped-def]
    with reading(rt.engine) as session:
        return session.exec(select(Document).where(Document.sha256 == slip["sha256"])).one().details


def _upload(admin, kind: str, content: bytes, day: str, decided: str = "Quyết định 12/QĐ-SKHCN"):  # type: ignore[no-untyped-def]
    return admin.post(
        f"/api/admin/templates/{kind}",
        files={"file": (f"{kind}.docx", content, DOCX_TYPE)},
        data={"effective_from": day, "decided_by": decided},
    )


def test_an_upload_takes_effect_on_its_day_is_recorded_survives_a_restart_and_can_be_withdrawn(
    client, rt, settings
):
    with time_machine.travel(local(2026, 12, 7, 9, 0), tick=False) as traveller:
        people = {
            "business": business(client, "Công ty TNHH Mẫu Mới"),
            "clerk": officer(client, rt, "clerk", "CÁN BỘ TIẾP NHẬN", "Lê Thị Hoa"),
        }
        admin = officer(client, rt, "admin")
        content = edited("receipt_slip", "Số lượng hồ sơ: 01 bộ.", NEW_WORDING)
        response = _upload(admin, "receipt_slip", content, "08/12/2026")
        assert response.status_code == 201, response.text
        version = response.json()
        assert version["effective_from"] == "2026-12-08" and version["check_report"]["ok"] is True
        assert version["sha256"] == hashlib.sha256(content).hexdigest()

        before = _receive(people)  # 07/12: the package template
        assert "Số lượng hồ sơ: 01 bộ." in _text(people, before) and NEW_WORDING not in _text(people, before)
        package = package_template("receipt_slip")
        assert _details(rt, before)["template"] == {
            "source": "package",
            "id": None,
            "sha256": hashlib.sha256(package).hexdigest(),
        }

        traveller.move_to(local(2026, 12, 8, 0, 5))  # the effective day, just after midnight local
        relogin(people)
        admin.relogin()
        after = _receive(people)
        assert NEW_WORDING in _text(people, after)
        assert _details(rt, after)["template"] == {
            "source": "upload",
            "id": version["id"],
            "sha256": version["sha256"],
        }

        restarted = build_runtime(settings)  # a new process reads the versions from the database
        try:
            assert current_template(restarted, "receipt_slip").version_id == version["id"]
        finally:
            restarted.engine.dispose()
        listed = {k["kind"]: k for k in admin.get("/api/admin/templates").json()}
        assert listed["receipt_slip"]["in_force"]["id"] == version["id"]
        assert admin.get("/api/admin/templates/receipt_slip/current").content == content
        preview = admin.get(f"/api/admin/templates/versions/{version['id']}/preview.pdf")
        assert preview.status_code == 200 and preview.content.startswith(b"%PDF-")

        withdrawn = admin.post(f"/api/admin/templates/versions/{version['id']}/withdraw")
        assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
        error_of(admin.post(f"/api/admin/templates/versions/{version['id']}/withdraw"), 409, "withdrawn")
        fallen_back = _receive(people)
        assert NEW_WORDING not in _text(people, fallen_back)
        assert _details(rt, fallen_back)["template"]["source"] == "package"

    with reading(rt.engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.stream == "template:receipt_slip").order_by(AuditEvent.seq)
        ).all()
    assert [e.action for e in events] == ["template_uploaded", "template_withdrawn"]
    assert (
        events[0].details["sha256"] == version["sha256"]
        and events[0].details["effective_from"] == "2026-12-08"
    )


def test_a_failing_template_is_refused_with_the_reasons_and_not_stored(client, rt):
    admin = officer(client, rt, "admin")
    day = office_today()
    unknown = edited("receipt_slip", "{{ receiving_unit }} -", "{{ don_vi }} -")
    error = error_of(_upload(admin, "receipt_slip", unknown, day), 422, "template_refused")
    assert "don_vi" in error["message"]
    error_of(_upload(admin, "receipt_slip", b"PK not a docx", day), 422, "template_refused")
    error_of(_upload(admin, "receipt_slip", package_template("receipt_slip"), "31/02/2026"), 422)
    error_of(_upload(admin, "receipt_slip", package_template("receipt_slip"), "01/01/2020"), 422)
    error_of(_upload(admin, "no_such_kind", package_template("receipt_slip"), day), 404)
    listed = {k["kind"]: k for k in admin.get("/api/admin/templates").json()}
    assert (
        listed["receipt_slip"]["versions"] == [] and listed["receipt_slip"]["in_force"]["source"] == "package"
    )


def test_the_pages_work_for_the_administrator_and_no_one_else(client, rt):
    clerk, admin = officer(client, rt, "clerk"), officer(client, rt, "admin")
    error_of(clerk.get("/api/admin/templates"), 403)
    error_of(_upload(clerk, "receipt_slip", package_template("receipt_slip"), "01/01/2030"), 403)
    page_login(client, clerk.email)
    assert client.get("/admin/templates").status_code == 403

    page_login(client, admin.email)
    page = client.get("/admin/templates")
    assert (
        page.status_code == 200 and "template-receipt_slip" in page.text and "/admin/templates" in page.text
    )
    assert client.get("/admin/templates/receipt_slip/current.docx").content == package_template(
        "receipt_slip"
    )
    day = office_today()
    content = edited("receipt_slip", "Số lượng hồ sơ: 01 bộ.", NEW_WORDING)
    posted = client.post(
        "/admin/templates/receipt_slip",
        data={"csrf_token": csrf(page.text), "effective_from": day, "decided_by": "Thông tư 03/2025/TT-VPCP"},
        files={"file": ("mau-01.docx", content, DOCX_TYPE)},
    )
    assert posted.status_code == 200 and 'id="preview-link"' in posted.text
    link = re.search(r'href="(/admin/templates/versions/(\d+)/preview\.pdf)" id="preview-link"', posted.text)
    assert client.get(link.group(1)).content.startswith(b"%PDF-")
    assert client.get("/admin/templates/receipt_slip/current.docx").content == content
    refused = client.post(
        "/admin/templates/receipt_slip",
        data={"csrf_token": csrf(page.text), "effective_from": day, "decided_by": "Thông tư 03/2025/TT-VPCP"},
        files={"file": ("hong.docx", b"not a docx", DOCX_TYPE)},
    )
    assert refused.status_code == 422 and "template-problems" in refused.text
    withdrawn = client.post(
        f"/admin/templates/versions/{link.group(2)}/withdraw",
        data={"csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    assert client.get("/admin/templates/receipt_slip/current.docx").content == package_template(
        "receipt_slip"
    )


def test_a_version_for_one_procedure_applies_to_it_only_and_the_newest_wins(client, rt):
    from tests.support import PROCEDURE
    from workflows.documents import template_versions as versions

    admin_person = officer(client, rt, "admin")
    with reading(rt.engine) as session:
        admin = session.exec(select(User).where(User.email == admin_person.email)).one()
    with time_machine.travel(local(2026, 12, 7, 9, 0), tick=False):
        own = edited("receipt_slip", "Số lượng hồ sơ: 01 bộ.", "Số lượng hồ sơ: 01 bộ (thủ tục này).")
        every = edited("receipt_slip", "Số lượng hồ sơ: 01 bộ.", NEW_WORDING)
        mine, _ = versions.upload(
            rt,
            admin,
            "receipt_slip",
            own,
            filename="a.docx",
            effective_from=day(7),
            decided_by="QĐ 1",
            procedure_code=PROCEDURE,
        )
        for_all, _ = versions.upload(
            rt, admin, "receipt_slip", every, filename="b.docx", effective_from=day(9), decided_by="QĐ 2"
        )
    with reading(rt.engine) as session:

        def chosen(code: str | None, on: int) -> int | None:
            found = versions.template_in_force(session, rt.store, "receipt_slip", code, day(on))
            return found.version_id if found else None

        assert chosen(PROCEDURE, 7) == mine.id and chosen("another-procedure", 7) is None
        assert chosen(None, 8) is None  # before its day, the package's
        assert chosen(PROCEDURE, 9) == for_all.id == chosen("another-procedure", 9)  # the newest
        assert chosen(PROCEDURE, 6) is None


def day(number: int) -> date:
    return date(2026, 12, number)


def test_an_upload_failing_on_a_branch_the_check_did_not_take_falls_back_to_the_package(client, rt):
    from workflows.documents import template_versions as versions

    admin_person = officer(client, rt, "admin")
    with reading(rt.engine) as session:
        admin = session.exec(select(User).where(User.email == admin_person.email)).one()
    # The sample is received by an officer: the unit's branch, with a filter given too many
    # arguments, renders only for a dossier received by the unit.
    faulty = edited(
        "receipt_slip",
        "{{ receiving_unit }} -",
        "{% if received_by_unit %}{{ receiving_unit|ending(1, 2, 3) }}{% endif %} -",
    )
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        version, result = versions.upload(
            rt,
            admin,
            "receipt_slip",
            faulty,
            filename="x.docx",
            effective_from=date(2026, 11, 26),
            decided_by="QĐ 3",
        )
    assert result.ok
    by_unit = make_ctx("receipt_slip", extra={"receiving_unit": "Bộ phận một cửa điện tử"})
    with reading(rt.engine) as session:
        content, made_by = versions.render_in_force(session, rt.store, by_unit, None)
        assert made_by["source"] == "package" and made_by["failed_upload_id"] == version.id
        assert paragraphs(content) == paragraphs(render_document(by_unit))
        _, by_officer = versions.render_in_force(session, rt.store, make_ctx("receipt_slip"), None)
        assert by_officer == {"source": "upload", "id": version.id, "sha256": version.sha256}


@pytest.mark.parametrize("kind", sorted(TEMPLATE_KINDS))
def test_a_rendered_package_holds_what_docxtpl_and_python_docx_write_for_it(kind):
    """The renderer zips the package itself and keeps the parts it never reads as their bytes;
    the file must still hold what docxtpl's rendering saved by python-docx holds: the same
    members, in the same order, each with the same content (a part lost or left stale differs)."""
    from docxtpl import DocxTemplate, InlineImage

    from workflows.documents import templating
    from workflows.documents.layout import QR_WIDTH
    from workflows.documents.qr import qr_png

    ctx = sample_context(kind)
    template = package_template(kind)
    tpl = DocxTemplate(io.BytesIO(template))
    values = templating.template_context(ctx)
    values["qr"] = InlineImage(tpl, io.BytesIO(qr_png(ctx.verify_url)), width=QR_WIDTH)
    tpl.render(values, jinja_env=templating.environment(), autoescape=True)
    templating._core_properties(tpl.docx.core_properties, ctx)
    saved = io.BytesIO()
    tpl.docx.save(saved)
    with (
        zipfile.ZipFile(io.BytesIO(render_template(template, ctx))) as ours,
        zipfile.ZipFile(saved) as theirs,
    ):
        assert ours.namelist() == theirs.namelist()
        for name in ours.namelist():
            assert ours.read(name) == theirs.read(name), name
