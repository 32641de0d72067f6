"""A command's documents are rendered after it commits, by whoever needs the file first; the
file is the one the command would have rendered (workflows.document_rendering)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from api.jobs import sign_documents
from tests.support import business, docx_text, officer
from workflows import audit_verify
from workflows.db import reading
from workflows.document_rendering import render_due, render_pending, rendered
from workflows.documents.frozen import Unfreezable, freeze, thaw
from workflows.documents.samples import sample_context
from workflows.documents.templating import TEMPLATE_KINDS, package_template, render_template
from workflows.models import AuditEvent, Document, DocumentRendering, Dossier


def _receipt(rt, code: str) -> Document:
    with reading(rt.engine) as session:
        dossier_id = session.exec(select(Dossier.id).where(Dossier.code == code)).one()
        return session.exec(
            select(Document).where(Document.dossier_id == dossier_id, Document.kind == "receipt_slip")
        ).one()


def _events(rt, action: str) -> list[AuditEvent]:
    with reading(rt.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_a_receipt_is_numbered_by_the_command_and_rendered_by_its_first_reader(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})

    issued = _receipt(rt, code)
    assert issued.number and issued.verification_code  # fixed by the command
    assert issued.sha256 == ""  # its file is not made in the command
    [event] = [e for e in _events(rt, "document_issued") if e.details["number"] == issued.number]
    assert "sha256" not in event.details

    # The officer opens the editable copy at once: it is rendered for them, then kept.
    response = clerk.get(f"/api/documents/{issued.id}/docx")
    assert response.status_code == 200, response.text
    assert code in docx_text(response.content)
    stored = _receipt(rt, code)
    assert stored.sha256 == hashlib.sha256(response.content).hexdigest()
    assert stored.size == len(response.content)
    [made] = [e for e in _events(rt, "document_rendered") if e.details["number"] == issued.number]
    assert made.details["sha256"] == stored.sha256
    with reading(rt.engine) as session:
        assert session.get(DocumentRendering, issued.id) is None

    # A second reader gets the same file and no second record.
    again = clerk.get(f"/api/documents/{issued.id}/docx")
    assert again.content == response.content
    assert len([e for e in _events(rt, "document_rendered") if e.details["number"] == issued.number]) == 1
    assert audit_verify.verify(rt.engine).ok


def test_the_worker_renders_what_nobody_asked_for_then_signs_it(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    codes = [firm.submitted() for _ in range(3)]
    for code in codes:
        clerk.done(code, {"completeness_decision": "receive"})
    assert all(_receipt(rt, code).sha256 == "" for code in codes)

    # The scheduler's job, tick after tick: each run stops at its time budget (a loaded machine
    # may sign fewer than three in one), the next goes on.
    for _ in range(10):
        sign_documents(rt)
        if all(_receipt(rt, code).pdf_sha256 for code in codes):
            break

    for code in codes:
        document = _receipt(rt, code)
        assert document.sha256 and document.pdf_sha256  # rendered, then its signed copy made
        assert code in docx_text(rt.store.read(document.sha256))
    assert render_due(rt) == 0


def test_the_verification_page_of_a_document_issued_a_moment_ago_shows_its_hash(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    issued = _receipt(rt, code)

    response = client.get(f"/api/public/documents/{issued.verification_code}")
    assert response.status_code == 200, response.text
    assert response.json()["sha256"] == _receipt(rt, code).sha256 != ""


def test_two_renderers_of_one_document_record_it_once(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    issued = _receipt(rt, code)

    assert render_pending(rt, issued.id) and render_pending(rt, issued.id)
    assert rendered(rt, issued).sha256 == _receipt(rt, code).sha256
    assert len([e for e in _events(rt, "document_rendered") if e.details["number"] == issued.number]) == 1


@pytest.mark.parametrize("kind", sorted(TEMPLATE_KINDS))
def test_a_context_kept_as_json_renders_the_same_file(kind):
    ctx = sample_context(kind)
    kept = thaw(freeze(ctx))
    assert kept == replace(ctx)  # the same values, of the same types
    assert render_template(package_template(kind), kept) == render_template(package_template(kind), ctx)


def test_a_context_keeps_instants_days_tuples_and_tag_like_keys():
    ctx = replace(
        sample_context("receipt_slip"),
        extra={
            "at": datetime(2026, 12, 3, 2, 30, tzinfo=UTC),
            "day": date(2026, 12, 31),
            "pair": ("a", 1),
            "odd": {"$date": "not a tag"},
            "nested": [{"when": date(2027, 1, 2)}],
        },
    )
    assert dict(thaw(freeze(ctx)).extra) == dict(ctx.extra)


def test_what_json_cannot_carry_exactly_is_refused():
    with pytest.raises(Unfreezable):
        freeze(replace(sample_context("receipt_slip"), extra={"fee": Decimal("150000")}))
    with pytest.raises(Unfreezable):
        freeze(replace(sample_context("receipt_slip"), extra={"at": datetime(2026, 1, 1)}))  # naive
