"""A business's own instrument page (issue 18), as its owner meets it: it opens an instrument from
its list, corrects the registration on a form until the first verification (a form read before
someone else's change is refused and shows what is there now), then sees that only the department
may correct it, and reports the current stamp lost, which the department's warning list shows.
Another business finds nothing there. Markup and forms: SQLite alone (the rules underneath are
tested on both databases in ``test_metrology_registration``)."""

from __future__ import annotations

import re

import pytest
import time_machine

from tests.metrology_support import body_key, reported, shown, sign_in, verified_business
from tests.support import local, officer
from tests.test_pages import csrf

pytestmark = pytest.mark.sqlite_only

OWN = {
    "kind": "taximeter",
    "model": "TX-200",
    "serial_number": "SN-0001",
    "commune": "Phường Đông Hà",
    "address": "12 Lê Duẩn",
    "purpose": "Tính tiền cước taxi",
}


def _form(html: str, action: str) -> str:
    """The form posting to ``action`` (its markup), to read its fields."""
    match = re.search(rf'<form method="post" action="{re.escape(action)}[^"]*">(.*?)</form>', html, re.S)
    assert match, f"no form to {action}"
    return match.group(1)


def _value(form: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', form)
    assert match, name
    return match.group(1)


def test_the_owner_corrects_its_instrument_until_verified_then_reports_its_stamp_lost(client, rt):
    with time_machine.travel(local(2026, 6, 1, 9, 0), tick=False):
        clerk = officer(client, rt, "clerk")
        specialist = officer(client, rt, "specialist")
        key = body_key(client, officer(client, rt, "admin"))
        firm = verified_business(client, rt, clerk, "Công ty TNHH Taxi Hoà Bình")
        instrument = firm.post("/api/metrology/instruments", json=OWN).json()
        page_path = f"/my/instruments/{instrument['id']}"

        sign_in(client, firm)
        listed = client.get("/my/instruments").text
        assert f'href="{page_path}"' in listed
        page = client.get(page_path)
        assert page.status_code == 200
        form = _form(page.text, page_path)
        assert _value(form, "address") == "12 Lê Duẩn" and _value(form, "version") == "1"
        assert 'name="owner_name"' not in form  # the owner is the account's business

        corrected = client.post(
            page_path,
            data={**OWN, "address": "5 Trần Hưng Đạo", "version": "1", "csrf_token": csrf(page.text)},
            follow_redirects=False,
        )
        assert corrected.status_code == 303
        after = client.get(corrected.headers["location"])
        assert "Đã lưu thông tin đăng ký." in shown(after.text) and "5 Trần Hưng Đạo" in shown(after.text)
        assert _value(_form(after.text, page_path), "version") == "2"

        # A form read before that change: refused, and the form shows what is there now.
        stale = client.post(
            page_path, data={**OWN, "address": "Sai", "version": "1", "csrf_token": csrf(page.text)}
        )
        assert stale.status_code == 409
        assert "người khác cập nhật" in shown(stale.text)
        assert _value(_form(stale.text, page_path), "address") == "5 Trần Hưng Đạo"
        blank = client.post(
            page_path, data={**OWN, "commune": " ", "version": "2", "csrf_token": csrf(page.text)}
        )
        assert blank.status_code == 422 and 'id="e-commune"' in blank.text

        # Another business: nothing there.
        other = verified_business(client, rt, clerk, "Công ty Vận tải Khác")
        sign_in(client, other)
        assert client.get(page_path).status_code == 404

        # A verification reported: the owner no longer corrects, and may report its stamp lost.
        reported(client, key, owner_tax_code=firm.tax_code, commune="Phường Đông Hà", stamp_number="T-0001")
        sign_in(client, firm)
        verified = client.get(page_path)
        text = shown(verified.text)
        assert "thông tin đăng ký chỉ do Sở sửa" in text and "T-0001" in text
        assert f'action="{page_path}#register"' not in verified.text
        refused = client.post(page_path, data={**OWN, "version": "3", "csrf_token": csrf(verified.text)})
        assert refused.status_code == 403
        too_long = client.post(
            f"{page_path}/stamp-lost", data={"note": "x" * 1001, "csrf_token": csrf(verified.text)}
        )
        assert too_long.status_code == 422 and "Ghi chú quá dài." in shown(too_long.text)
        lost = client.post(
            f"{page_path}/stamp-lost",
            data={"note": "Bong tem khi rửa xe", "csrf_token": csrf(verified.text)},
            follow_redirects=False,
        )
        assert lost.status_code == 303
        marked = client.get(lost.headers["location"])
        assert "Đã báo mất tem kiểm định." in shown(marked.text) and "đã báo mất" in shown(marked.text)
        assert f'action="{page_path}/stamp-lost' not in marked.text  # reported once

        # The department's page of the instrument marks the stamp too.
        sign_in(client, specialist)
        assert "T-0001 đã báo mất" in shown(client.get(f"/work/instruments/{instrument['id']}").text)
        warnings = specialist.get("/api/metrology/warnings", params={"cause": "stamp_lost"}).json()
        assert [(w["instrument_id"], w["note"]) for w in warnings["items"]] == [
            (instrument["id"], "Bong tem khi rửa xe")
        ]
