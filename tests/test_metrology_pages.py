"""The metrology database's pages (issue 18) as their readers see them: anyone checks a stamp by
its number or its QR code, in Vietnamese or English, and never reads a household's name; a
business sees its instruments, the most urgent first, once its tax code is verified; the
department's staff search the instruments and open one with its verifications and history. On
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine

from tests.metrology_support import body_key, reported, shown, sign_in, verified_business, verify_tax_code
from tests.support import business, local, officer
from tests.test_metrology import CSV_HEADER, csv_row
from tests.test_pages import csrf

NOW = local(2026, 6, 1, 9, 0)


@pytest.fixture
def at_nine():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as travel:
        yield travel


def test_anyone_checks_a_stamp_by_number_or_qr_and_never_reads_a_households_name(client, rt, at_nine):
    key = body_key(client, officer(client, rt, "admin"), name="Trung tâm Kỹ thuật TĐC Quảng Trị")
    taxi_stamp = reported(client, key, owner_tax_code="3200765001")
    reported(
        client,
        key,
        kind="spring_scale",
        model="NHƠN HOÀ 30KG",
        serial_number="A-77",
        owner_type="household",
        owner_name="Trần Thị Bé",
        commune="Xã Cam Lộ",
        address="Sạp 14 chợ Cam Lộ",
        certificate_number="GCN-2026-0100",
        stamp_number="C-000100",
        valid_until="19/05/2027",
    )
    home = client.get("/")
    assert 'href="/stamps"' in home.text and 'href="/stamps"' in client.get("/lookup").text

    by_number = shown(client.get("/stamps", params={"number": "t-000001"}).text)
    assert "Còn hiệu lực kiểm định đến 19/11/2027" in by_number
    for fact in ("Taximet", "TX-200", "SN-0001", "Phường Đông Hà", "Trung tâm Kỹ thuật TĐC Quảng Trị"):
        assert fact in by_number, fact
    assert "Công ty TNHH Taxi Hoà Bình" in by_number  # a business's name is public
    by_qr = client.get(f"/stamps/qr/{taxi_stamp['stamp_token']}")
    assert by_qr.status_code == 200 and "Còn hiệu lực kiểm định đến 19/11/2027" in shown(by_qr.text)
    assert 'value="T-000001"' in by_qr.text  # the number, for the reader to note
    english = shown(client.get("/stamps", params={"number": "T-000001", "lang": "en"}).text)
    assert "Verified until 19/11/2027" in english and "Taxi meter" in english

    scale = client.get("/stamps", params={"number": "C-000100", "lang": "vi"})  # the choice sticks
    assert "Cân đồng hồ lò xo" in shown(scale.text) and "Xã Cam Lộ" in shown(scale.text)
    assert "Trần Thị Bé" not in scale.text and "Sạp 14" not in scale.text

    unknown = client.get("/stamps", params={"number": "T-999999"})
    assert unknown.status_code == 404 and "Không tìm thấy tem kiểm định với số này." in shown(unknown.text)
    assert client.get("/stamps/qr/unknown-token").status_code == 404

    at_nine.move_to(local(2027, 11, 20, 9, 0))  # the day after the validity ends
    ended = shown(client.get("/stamps", params={"number": "T-000001"}).text)
    assert "Không có kiểm định còn hiệu lực" in ended and "19/11/2027" not in ended


def test_a_business_sees_its_instruments_most_urgent_first_once_its_tax_code_is_verified(client, rt, at_nine):
    clerk = officer(client, rt, "clerk")
    key = body_key(client, officer(client, rt, "admin"))
    firm = business(client, "Công ty Xăng dầu Quảng Trị")
    sign_in(client, firm)
    refused = client.get("/my/instruments")
    assert refused.status_code == 403
    assert "Mã số thuế của tài khoản chưa được Sở xác minh" in shown(refused.text)
    assert 'href="/account/tax-code"' in refused.text

    verify_tax_code(clerk, firm)
    other = verified_business(client, rt, clerk, "Công ty Vận tải Khác")
    mine = {"owner_tax_code": firm.tax_code, "owner_name": "Công ty Xăng dầu Quảng Trị"}
    # Reported in an order that is not the urgency's.
    for serial, verified_on, until, result in (
        ("SN-OK", "20/05/2026", "19/05/2027", "pass"),
        ("SN-SOON", "20/06/2025", "20/06/2026", "pass"),  # ends in 19 days
        ("SN-LATE", "10/05/2025", "10/05/2026", "pass"),  # ended three weeks ago
        ("SN-FAIL", "20/05/2026", "", "fail"),
    ):
        reported(
            client,
            key,
            **mine,
            serial_number=serial,
            certificate_number=f"C-{serial}",
            stamp_number=f"T-{serial}" if result == "pass" else "",
            verified_on=verified_on,
            valid_until=until,
            result=result,
        )
    reported(client, key, owner_tax_code=other.tax_code, serial_number="SN-THEIRS", certificate_number="C-Z")

    sign_in(client, firm)
    listed = client.get("/my/instruments")
    assert listed.status_code == 200
    text = shown(listed.text)
    order = [text.index(s) for s in ("SN-LATE", "SN-FAIL", "SN-SOON", "SN-OK")]
    assert order == sorted(order), text
    assert "SN-THEIRS" not in text
    for label in (
        "Quá hạn kiểm định từ 10/05/2026",
        "Không đạt ở lần kiểm định gần nhất",
        "Sắp hết hạn kiểm định: 20/06/2026",
        "Còn hiệu lực kiểm định đến 19/05/2027",
    ):
        assert label in text, label
    assert 'class="status status--overdue">Quá hạn kiểm định' in listed.text
    assert 'class="status status--expiring_soon">Sắp hết hạn' in listed.text
    english = shown(client.get("/my/instruments", params={"lang": "en"}).text)
    assert "My measuring instruments" in english and "Verification overdue since 10/05/2026" in english
    assert client.get("/work/instruments").status_code == 403


def test_an_officer_finds_an_instrument_and_reads_its_verifications_and_history(client, rt, at_nine):
    key = body_key(client, officer(client, rt, "admin"), name="Trung tâm Kỹ thuật TĐC Quảng Trị")
    first = reported(
        client,
        key,
        owner_tax_code="3200765001",
        verified_on="20/05/2025",
        valid_until="19/05/2026",
        certificate_number="GCN-2025-0001",
        stamp_number="T-2025",
    )
    reported(client, key, owner_tax_code="3200765001", verified_on="20/05/2026", valid_until="19/11/2027")
    reported(
        client,
        key,
        kind="spring_scale",
        model="NHƠN HOÀ 30KG",
        serial_number="A-77",
        owner_type="household",
        owner_name="Trần Thị Bé",
        commune="Xã Cam Lộ",
        certificate_number="GCN-2026-0100",
        stamp_number="C-000100",
        verified_on="10/05/2025",
        valid_until="10/05/2026",
    )
    anonymous = client.get("/work/instruments", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")

    sign_in(client, officer(client, rt, "specialist"))
    every = shown(client.get("/work/instruments").text)
    assert every.index("A-77") < every.index("SN-0001")  # the overdue scale first
    assert "Trần Thị Bé" in every  # the department knows a household owner
    found = client.get("/work/instruments", params={"q": "hoà bình"}).text
    assert "SN-0001" in shown(found) and "A-77" not in shown(found)
    assert "A-77" not in shown(
        client.get("/work/instruments", params={"q": "a_77"}).text
    )  # text, not a pattern
    overdue = shown(client.get("/work/instruments", params={"status": "overdue"}).text)
    assert "A-77" in overdue and "SN-0001" not in overdue

    page = client.get(f"/work/instruments/{first['instrument_id']}")
    assert page.status_code == 200
    text = shown(page.text)
    assert "Còn hiệu lực kiểm định đến 19/11/2027" in text
    # Its verifications, newest first, and its history as the reports made it.
    assert text.index("GCN-2026-0001") < text.index("GCN-2025-0001")
    assert "20/05/2025" in text and "19/05/2026" in text
    assert "Báo cáo kiểm định, giấy chứng nhận GCN-2025-0001" in text
    assert "Đăng ký phương tiện đo" in text
    english = shown(client.get(f"/work/instruments/{first['instrument_id']}", params={"lang": "en"}).text)
    assert "Verification reported, certificate GCN-2026-0001" in english
    assert client.get("/work/instruments/999999").status_code == 404


def test_a_verification_body_sends_a_file_with_its_key_and_reads_each_refused_row(client, rt, at_nine):
    key = body_key(client, officer(client, rt, "admin"), name="Trung tâm Kỹ thuật TĐC Quảng Trị")
    lines = [
        CSV_HEADER,
        csv_row(
            owner_tax_code="3200765001", serial_number="P-1", certificate_number="F-1", stamp_number="S-1"
        ),
        csv_row(
            owner_tax_code="3200765001",
            serial_number="P-2",
            certificate_number="F-2",
            stamp_number="S-2",
            verified_on="2026-13-01",
        ),
    ]
    content = "\n".join(lines).encode("utf-8-sig")
    form = client.get("/stamps").text  # linked from the public lookup
    assert 'href="/metrology/report"' in form
    token = csrf(client.get("/metrology/report").text)

    def send_file(api_key: str, lang: str = "vi") -> Any:
        return client.post(
            f"/metrology/report?lang={lang}",
            data={"csrf_token": token, "api_key": api_key},
            files={"file": ("ket-qua.csv", content, "text/csv")},
        )

    wrong = send_file("not-a-key")
    assert wrong.status_code == 401 and "Khóa API không đúng hoặc đã bị thu hồi." in shown(wrong.text)
    assert client.get("/stamps", params={"number": "S-1"}).status_code == 404  # nothing recorded

    sent = send_file(key)
    assert sent.status_code == 200
    text = shown(sent.text)
    assert (
        "Trung tâm Kỹ thuật TĐC Quảng Trị, tệp ket-qua.csv: 1 dòng mới, 0 dòng không đổi, 1 dòng bị từ chối."
        in text
    )
    assert re.search(r"3 F-2 verified_on Ngày không hợp lệ", text), text
    assert "Còn hiệu lực kiểm định đến 19/11/2027" in shown(
        client.get("/stamps", params={"number": "S-1"}).text
    )
    again = shown(send_file(key, "en").text)  # the same file again records nothing twice
    assert "file ket-qua.csv: 0 rows recorded, 1 unchanged, 1 rejected." in again
    assert re.search(r"3 F-2 verified_on Not a valid date", again), again
