"""The provincial metrology database, first slice (issue 18), through the API as its users meet
it: the administrator gives a verification body an API key; the body reports its results one by
one (JSON) or by file (CSV, .xlsx) and learns per row what was refused and why; a business sees
its own instruments and their status; anyone checks a stamp. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

import hypothesis.strategies as st
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from openpyxl import Workbook
from sqlmodel import select

from tests.metrology_support import body_key, send, taxi, verified_business, verify_tax_code
from tests.support import business, error_of, fields_of, local, officer
from workflows.audit import verify_stream
from workflows.db import reading

NOW = local(2026, 6, 1, 9, 0)


@pytest.fixture
def at_noon():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as travel:
        yield travel


def stamp(client: Any, number: str) -> dict[str, Any]:
    response = client.get(f"/api/public/stamps/{number}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_body_reports_a_verification_and_anyone_reads_the_stamp_until_it_ends(client, rt, at_noon):
    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    response = send(client, key, taxi(owner_tax_code="3200765001"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["outcome"] == "created" and created["valid_until"] == "19/11/2027"

    by_number = stamp(client, "t-000001")  # typed in lower case
    assert by_number["valid"] is True
    assert by_number["message"] == {
        "vi": "Còn hiệu lực kiểm định đến 19/11/2027",
        "en": "Verified until 19/11/2027",
    }
    assert by_number["kind"]["vi"] == "Taximet" and by_number["owner_name"] == "Công ty TNHH Taxi Hoà Bình"
    by_qr = client.get(f"/api/public/stamps/qr/{created['stamp_token']}")
    assert by_qr.json() == by_number

    at_noon.move_to(local(2027, 11, 20, 9, 0))  # the day after the validity ends
    ended = stamp(client, "T-000001")
    assert ended["valid"] is False and ended["valid_until"] is None
    assert ended["message"] == {"vi": "Không có kiểm định còn hiệu lực", "en": "No valid verification"}
    error_of(client.get("/api/public/stamps/T-999999"), 404, "not_found")


def test_the_same_certificate_twice_changes_nothing_and_another_content_is_refused_naming_the_field(
    client, rt, at_noon
):
    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    first = send(client, key, taxi(owner_tax_code="3200765001"))
    assert first.status_code == 201
    again = send(client, key, taxi(owner_tax_code="3200765001", model="tx-200 "))  # same, as typed
    assert again.status_code == 200, again.text
    assert again.json()["outcome"] == "unchanged" and again.json()["record_id"] == first.json()["record_id"]
    assert "không có gì thay đổi" in again.json()["message"]["vi"]

    other = send(client, key, taxi(owner_tax_code="3200765001", valid_until="19/05/2028"))
    error = error_of(other, 409, "certificate_differs")
    assert list(fields_of(error)) == ["valid_until"]
    assert "19/11/2027" in fields_of(error)["valid_until"]["message"]  # what was reported first
    # Nothing moved: the stamp still reads as first reported, the history holds one report.
    assert stamp(client, "T-000001")["valid_until"] == "19/11/2027"
    history = officer(client, rt, "specialist").get(
        f"/api/metrology/instruments/{first.json()['instrument_id']}"
    )
    assert [e["action"] for e in history.json()["history"]] == [
        "instrument_registered",
        "verification_reported",
    ]

    reused = send(client, key, taxi(owner_tax_code="3200765001", certificate_number="GCN-2026-0002"))
    assert list(fields_of(error_of(reused, 409, "stamp_taken"))) == ["stamp_number"]


def test_a_household_owner_is_never_shown_to_the_public(client, rt, at_noon):
    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    scale = taxi(
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
    assert send(client, key, scale).status_code == 201
    response = client.get("/api/public/stamps/C-000100")
    assert response.status_code == 200
    assert response.json()["owner_name"] is None and response.json()["commune"] == "Xã Cam Lộ"
    assert "Trần Thị Bé" not in response.text and "Sạp 14" not in response.text
    # A household gives no tax code (its name stays out of the owners' lists by tax code too).
    taxed = send(client, key, {**scale, "owner_tax_code": "3200765001", "certificate_number": "GCN-X"})
    assert "owner_tax_code" in fields_of(error_of(taxed, 422, "validation_error"))


def test_a_report_without_a_valid_key_is_refused_and_a_revoked_key_stops_at_once(client, rt, at_noon):
    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    error_of(
        client.post("/api/metrology/reports", json=taxi(owner_tax_code="3200765001")), 401, "invalid_api_key"
    )
    error_of(send(client, key + "x", taxi(owner_tax_code="3200765001")), 401, "invalid_api_key")
    firm = business(client, "Công ty Cổ phần Cân Việt")
    error_of(
        firm.post("/api/metrology/reports", json=taxi(owner_tax_code="3200765001")), 401, "invalid_api_key"
    )
    # Only the administrator manages bodies and keys.
    error_of(firm.post("/api/metrology/bodies", json={"code": "X", "name": "Y"}), 403, "forbidden")

    other_key = body_key(client, admin, code="QTEST-2", name="Công ty Kiểm định Miền Trung")
    keys = {b["code"]: b["keys"] for b in admin.get("/api/metrology/bodies").json()}
    revoked = admin.post(f"/api/metrology/keys/{keys['QTEST-QT'][0]['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    error_of(send(client, key, taxi(owner_tax_code="3200765001")), 401, "invalid_api_key")
    assert send(client, other_key, taxi(owner_tax_code="3200765001")).status_code == 201
    error_of(admin.post(f"/api/metrology/keys/{keys['QTEST-QT'][0]['id']}/revoke"), 409, "key_revoked")


def test_every_field_at_fault_is_named_in_both_languages_and_nothing_is_a_server_error(client, rt, at_noon):
    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    bad = taxi(
        kind="sundial",
        owner_tax_code="1234567890",
        verified_on="31/02/2026",
        result="maybe",
        valid_until="",
        stamp_number="",
    )
    error = error_of(send(client, key, bad), 422, "validation_error")
    assert set(fields_of(error)) == {"kind", "owner_tax_code", "verified_on", "result"}
    future = error_of(send(client, key, taxi(owner_tax_code="3200765001", verified_on="02/06/2026")), 422)
    assert fields_of(future)["verified_on"]["code"] == "future"
    passed = error_of(
        send(client, key, taxi(owner_tax_code="3200765001", stamp_number="", valid_until="")), 422
    )
    assert set(fields_of(passed)) == {"stamp_number", "valid_until"}
    backwards = error_of(send(client, key, taxi(owner_tax_code="3200765001", valid_until="01/05/2026")), 422)
    assert fields_of(backwards)["valid_until"]["code"] == "order"
    for hostile in (
        {**taxi(), "model": "x" * 101},
        {**taxi(), "verified_on": 20260520},
        {**taxi(), "owner_name": None},
        ["not", "an", "object"],
        {},
    ):
        response = client.post("/api/metrology/reports", json=hostile, headers={"X-API-Key": key})
        assert response.status_code == 422, response.text
        assert error_of(response, 422)["fields"]
    for number in ("%00", "' OR 1=1 --", "x" * 61, "qr"):
        assert client.get(f"/api/public/stamps/{number}").status_code in (404, 422)
    assert client.get("/api/public/stamps/qr/" + "a" * 41).status_code == 422


CSV_HEADER = (
    "kind,model,approval_mark,serial_number,measuring_range,accuracy_class,owner_type,owner_tax_code,"
    "owner_name,commune,address,purpose,certificate_number,stamp_number,verified_on,result,valid_until"
)


def csv_row(**values: str) -> str:
    row = {**taxi(), **values}
    return ",".join(f'"{row[c]}"' for c in CSV_HEADER.split(","))


def upload(client: Any, key: str, name: str, content: bytes) -> Any:
    return client.post(
        "/api/metrology/reports/upload", files={"file": (name, content)}, headers={"X-API-Key": key}
    )


def test_a_file_applies_the_good_rows_and_reports_each_bad_one_by_row_and_field(client, rt, at_noon):
    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
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
        "",  # a blank line is skipped, the numbering is the file's
        csv_row(
            owner_tax_code="3200765001", serial_number="P-3", certificate_number="F-3", stamp_number="S-1"
        ),
        csv_row(
            owner_tax_code="3200765001", serial_number="P-1", certificate_number="F-1", stamp_number="S-1"
        ),
        csv_row(
            kind="fuel_dispenser",
            owner_tax_code="3200765001",
            serial_number="P-4",
            certificate_number="F-4",
            stamp_number="",
            result="fail",
            valid_until="",
        ),
    ]
    content = "\n".join(lines).encode("utf-8-sig")
    response = upload(client, key, "ket-qua.csv", content)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["unchanged"], report["rejected"]) == (2, 1, 2)
    rows = {r["row"]: r for r in report["rows"]}
    assert [rows[n]["outcome"] for n in (2, 3, 5, 6, 7)] == [
        "created",
        "rejected",
        "rejected",
        "unchanged",
        "created",
    ]
    assert [(e["field"], e["code"]) for e in rows[3]["errors"]] == [("verified_on", "format")]
    assert rows[3]["errors"][0]["message"].startswith("Ngày không hợp lệ")
    assert rows[3]["errors"][0]["message_en"].startswith("Not a valid date")
    assert [e["field"] for e in rows[5]["errors"]] == ["stamp_number"]
    assert stamp(client, "S-1")["valid"] is True
    error_of(client.get("/api/public/stamps/S-2"), 404)

    # Corrected and sent again: the fixed row is applied, the others say they are unchanged.
    lines[2] = lines[2].replace("2026-13-01", "2026-05-20")
    again = upload(client, key, "ket-qua.csv", "\n".join(lines).encode())
    assert [r["outcome"] for r in again.json()["rows"]] == [
        "unchanged",
        "created",
        "rejected",
        "unchanged",
        "unchanged",
    ]
    assert stamp(client, "S-2")["valid"] is True


def test_one_file_registers_an_instrument_and_its_older_and_newer_verifications_in_order(client, rt, at_noon):
    """A file's rows are written together (workflows.metrology.bulk) but read as if applied one by
    one: the newest verification is the current one whatever the rows' order, the owner's move is
    in the history between the reports, and the instrument's audit chain is whole."""
    from workflows.metrology.models import Instrument
    from workflows.models import AuditEvent

    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    rows = [
        dict(certificate_number="B-2", stamp_number="BS-2", verified_on="20/05/2026", valid_until="19/05/2027"),
        dict(certificate_number="B-1", stamp_number="BS-1", verified_on="20/05/2025", valid_until="19/11/2026"),
        dict(certificate_number="B-3", stamp_number="BS-3", verified_on="25/05/2026", valid_until="24/05/2027",
             commune="Phường Nam Đông Hà"),
    ]  # fmt: skip
    lines = [CSV_HEADER, *(csv_row(owner_tax_code="3200765001", serial_number="BATCH-1", **r) for r in rows)]
    response = upload(client, key, "ket-qua.csv", "\n".join(lines).encode())
    assert response.status_code == 200, response.text
    assert [r["outcome"] for r in response.json()["rows"]] == ["created"] * 3
    assert [stamp(client, n)["valid"] for n in ("BS-1", "BS-2", "BS-3")] == [False, False, True]
    assert stamp(client, "BS-3")["commune"] == "Phường Nam Đông Hà"
    with reading(rt.engine) as session:
        (instrument,) = session.exec(select(Instrument).where(Instrument.serial_number == "BATCH-1")).all()
        stream = f"instrument:{instrument.id}"
        history = session.exec(
            select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.seq)
        ).all()
        assert [
            (e.action, e.details.get("certificate_number"), e.details.get("current")) for e in history
        ] == [
            ("instrument_registered", None, None),
            ("verification_reported", "B-2", True),
            ("verification_reported", "B-1", False),
            ("instrument_updated", None, None),
            ("verification_reported", "B-3", True),
        ]
        assert verify_stream(session, stream) is None


def test_an_xlsx_file_is_read_like_a_csv_and_a_file_that_cannot_be_read_says_why(client, rt, at_noon):
    from datetime import date

    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    book = Workbook()
    sheet = book.active
    sheet.append(CSV_HEADER.split(","))
    row = taxi(
        owner_tax_code="3200765001", serial_number="X-1", certificate_number="XL-1", stamp_number="XS-1"
    )
    row["verified_on"] = date(2026, 5, 20)  # a date cell, as a spreadsheet keeps it
    row["valid_until"] = date(2027, 11, 19)
    sheet.append([row[c] for c in CSV_HEADER.split(",")])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, key, "ket-qua.xlsx", buffer.getvalue())
    assert response.status_code == 200, response.text
    assert [r["outcome"] for r in response.json()["rows"]] == ["created"]
    assert stamp(client, "XS-1")["valid_until"] == "19/11/2027"

    latin1 = upload(client, key, "a.csv", (CSV_HEADER + "\n" + csv_row()).encode("utf-16"))
    assert fields_of(error_of(latin1, 422, "encoding"))["file"]
    missing = upload(client, key, "a.csv", b"kind,model\ntaximeter,TX\n")
    assert "serial_number" in fields_of(error_of(missing, 422, "bad_header"))
    assert error_of(upload(client, key, "a.xlsx", b"PK not a workbook"), 422, "bad_file")
    assert error_of(upload(client, key, "a.csv", CSV_HEADER.encode()), 422, "empty_file")
    assert error_of(upload(client, key, "a.pdf", b"%PDF-1.7"), 422, "file_type")
    # A file's text is checked as a JSON body's is: a control character is refused at its cell.
    nul = upload(
        client,
        key,
        "a.csv",
        (CSV_HEADER + "\n" + csv_row(owner_name="Công ty\x00 A", owner_tax_code="3200765001")).encode(),
    )
    assert [(e["field"], e["code"]) for e in nul.json()["rows"][0]["errors"]] == [
        ("owner_name", "invalid_text")
    ]


def test_a_business_sees_its_own_instruments_and_their_status_once_its_tax_code_is_verified(
    client, rt, at_noon
):
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    key = body_key(client, admin)
    firm = business(client, "Công ty Xăng dầu Quảng Trị")
    error_of(firm.get("/api/metrology/my-instruments"), 403, "tax_code_unverified")
    verify_tax_code(clerk, firm)
    other = verified_business(client, rt, clerk, "Công ty Vận tải Khác")
    mine = {"owner_tax_code": firm.tax_code, "owner_name": "Công ty Xăng dầu Quảng Trị"}
    for serial, verified_on, until, result in (
        ("A", "20/05/2026", "19/05/2027", "pass"),  # valid for a year: verified
        ("B", "20/06/2025", "20/06/2026", "pass"),  # ends in 19 days: expiring soon
        ("C", "10/05/2025", "10/05/2026", "pass"),  # ended: overdue
        ("D", "20/05/2026", "", "fail"),  # failed: no valid verification
    ):
        sent = send(
            client,
            key,
            taxi(
                **mine,
                serial_number=serial,
                certificate_number=f"C-{serial}",
                stamp_number=f"T-{serial}" if result == "pass" else "",
                verified_on=verified_on,
                valid_until=until,
                result=result,
            ),
        )
        assert sent.status_code == 201, sent.text
    send(
        client,
        key,
        taxi(owner_tax_code=other.tax_code, serial_number="Z", certificate_number="C-Z", stamp_number="T-Z"),
    )

    listed = firm.get("/api/metrology/my-instruments").json()
    assert listed["total"] == 4
    status = {i["serial_number"]: (i["status"], i["status_label"]["vi"]) for i in listed["items"]}
    assert status == {
        "A": ("verified", "Còn hiệu lực kiểm định đến 19/05/2027"),
        "B": ("expiring_soon", "Sắp hết hạn kiểm định: 20/06/2026"),
        "C": ("overdue", "Quá hạn kiểm định từ 10/05/2026"),
        "D": ("failed", "Không đạt ở lần kiểm định gần nhất"),
    }
    overdue = firm.get("/api/metrology/my-instruments", params={"status": "overdue"}).json()
    assert [i["serial_number"] for i in overdue["items"]] == ["C"]
    assert [i["serial_number"] for i in other.get("/api/metrology/my-instruments").json()["items"]] == ["Z"]
    error_of(firm.get("/api/metrology/my-instruments", params={"status": "lost"}), 422)
    error_of(clerk.get("/api/metrology/my-instruments"), 403, "forbidden")


def test_a_newer_report_moves_the_instrument_and_is_in_its_history_and_an_older_one_does_not_take_over(
    client, rt, at_noon
):
    admin = officer(client, rt, "admin")
    key = body_key(client, admin)
    first = send(
        client,
        key,
        taxi(
            owner_tax_code="3200765001",
            verified_on="20/05/2025",
            valid_until="19/11/2026",
            certificate_number="OLD",
            stamp_number="T-OLD",
        ),
    )
    newer = send(
        client,
        key,
        taxi(
            owner_tax_code="3200765001",
            commune="Phường Nam Đông Hà",
            certificate_number="NEW",
            stamp_number="T-NEW",
        ),
    )
    assert newer.json()["instrument_id"] == first.json()["instrument_id"]
    assert stamp(client, "T-OLD")["valid"] is False  # replaced by the newer stamp
    assert stamp(client, "T-NEW")["valid"] is True
    late = send(
        client,
        key,
        taxi(
            owner_tax_code="3200765001",
            commune="Phường Đông Hà",
            verified_on="01/12/2025",
            valid_until="31/05/2027",
            certificate_number="LATE",
            stamp_number="T-LATE",
        ),
    )
    assert late.status_code == 201
    assert stamp(client, "T-NEW")["valid"] is True and stamp(client, "T-LATE")["valid"] is False

    specialist = officer(client, rt, "specialist")
    file = specialist.get(f"/api/metrology/instruments/{first.json()['instrument_id']}").json()
    assert file["instrument"]["commune"] == "Phường Nam Đông Hà"  # the late report moved nothing
    assert [r["certificate_number"] for r in file["records"]] == ["NEW", "LATE", "OLD"]
    actions = [(e["action"], e["details"].get("before"), e["details"].get("after")) for e in file["history"]]
    assert actions[2] == (
        "instrument_updated",
        {"commune": "Phường Đông Hà"},
        {"commune": "Phường Nam Đông Hà"},
    )
    assert [a for a, _, _ in actions] == [
        "instrument_registered",
        "verification_reported",
        "instrument_updated",
        "verification_reported",
        "verification_reported",
    ]
    assert all(e["details"]["body"] == "QTEST-QT" for e in file["history"])
    with reading(rt.engine) as session:
        assert verify_stream(session, f"instrument:{first.json()['instrument_id']}") is None
    error_of(
        business(client).get(f"/api/metrology/instruments/{first.json()['instrument_id']}"), 403, "forbidden"
    )


def test_the_kinds_and_their_intervals_carry_their_source_and_say_which_are_to_be_checked(client):
    kinds = {k["code"]: k for k in client.get("/api/metrology/kinds").json()}
    assert kinds["taximeter"]["interval"] == {"vi": "18 tháng (cần kiểm tra)", "en": "18 months (check)"}
    assert kinds["taximeter"]["source"].startswith("Thông tư 03/2024/TT-BKHCN")
    assert kinds["taximeter"]["effective_from"] == "15/10/2024"
    # No figure is invented: a kind whose interval was not found says so.
    assert kinds["fuel_dispenser"]["interval_months"] is None
    assert all(not k["confirmed"] for k in kinds.values())


# Any text in any field, as a body's software might send it: never a server error, and a refusal
# names its fields. (The API fuzzer holds no body's key, so it never gets past the 401.)
_cell = st.one_of(
    st.none(), st.text(max_size=70), st.integers(), st.sampled_from(["pass", "fail", "20/05/2026"])
)


@pytest.fixture
def fuzz_key(client, rt):  # type: ignore[no-untyped-def]
    """One body's key for every example of the test (a function's fixture runs once for all)."""
    with time_machine.travel(NOW, tick=False):
        return body_key(client, officer(client, rt, "admin"))


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_report_and_no_file_is_a_server_error(client, fuzz_key, data):
    key = fuzz_key
    with time_machine.travel(NOW, tick=False):
        fields = data.draw(st.dictionaries(st.sampled_from(CSV_HEADER.split(",")), _cell, max_size=17))
        response = send(client, key, {**taxi(owner_tax_code="3200765001"), **fields})
        assert response.status_code in (200, 201, 409, 422), response.text
        if response.status_code >= 400:
            assert error_of(response, response.status_code)["fields"]
        cells = data.draw(st.lists(st.text(max_size=20), min_size=17, max_size=17))
        content = CSV_HEADER + "\n" + ",".join('"' + c.replace('"', '""') + '"' for c in cells)
        uploaded = upload(client, key, "a.csv", content.encode("utf-8", "surrogatepass"))
        assert uploaded.status_code in (200, 422), uploaded.text
        if uploaded.status_code == 200:
            assert [r["outcome"] for r in uploaded.json()["rows"]] in (
                ["created"],
                ["unchanged"],
                ["rejected"],
            )


def test_reports_arriving_together_register_one_instrument_and_each_certificate_once(client, rt, at_noon):
    """Four reports at the same instant (a barrier releases them; each runs its own transaction on
    its own connection): two new certificates of one new instrument, and one certificate sent twice.
    Every trial: no error, one instrument, three records, the duplicate says ``unchanged``."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from workflows.metrology import bodies, bulk
    from workflows.metrology.models import Instrument, VerificationRecord

    admin = officer(client, rt, "admin")
    principal = bodies.body_of_key(rt, body_key(client, admin))
    assert principal is not None
    for trial in range(8):
        serial = f"RACE-{trial}"
        sends = [
            taxi(
                owner_tax_code="3200765001",
                serial_number=serial,
                certificate_number=f"R{trial}-A",
                stamp_number=f"RS{trial}-A",
            ),
            taxi(
                owner_tax_code="3200765001",
                serial_number=serial,
                certificate_number=f"R{trial}-B",
                stamp_number=f"RS{trial}-B",
            ),
            taxi(
                owner_tax_code="3200765001",
                serial_number=serial,
                certificate_number=f"R{trial}-C",
                stamp_number=f"RS{trial}-C",
            ),
            taxi(
                owner_tax_code="3200765001",
                serial_number=serial,
                certificate_number=f"R{trial}-C",
                stamp_number=f"RS{trial}-C",
            ),
        ]
        barrier = Barrier(len(sends))

        def one(report: dict[str, Any], barrier: Barrier = barrier) -> str:
            barrier.wait()
            return bulk.report_one(rt, principal, report)[0]

        with ThreadPoolExecutor(len(sends)) as pool:
            outcomes = list(pool.map(one, sends))
        assert sorted(outcomes) == ["created", "created", "created", "unchanged"], trial
        with reading(rt.engine) as session:
            found = session.exec(select(Instrument).where(Instrument.serial_number == serial)).all()
            assert len(found) == 1
            records = session.exec(
                select(VerificationRecord).where(VerificationRecord.instrument_id == found[0].id)
            ).all()
            assert len(records) == 3
            assert verify_stream(session, f"instrument:{found[0].id}") is None


def test_the_status_at_its_edges():
    """The last valid day is still valid (expiring soon); 30 days ahead is soon, 31 is not; an
    instrument no body has reported yet (registered by the coming officers' and owners' pages)
    is never verified."""
    from datetime import date, timedelta

    from workflows.metrology.models import Instrument
    from workflows.metrology.registry import status_of

    today = date(2026, 6, 1)

    def until(days: int | None, result: str = "pass") -> Instrument:
        return Instrument(
            current_verification_id=1,
            current_result=result,
            current_valid_until=None if days is None else today + timedelta(days=days),
        )

    assert status_of(until(0), today) == "expiring_soon"
    assert status_of(until(30), today) == "expiring_soon"
    assert status_of(until(31), today) == "verified"
    assert status_of(until(-1), today) == "overdue"
    assert status_of(until(None, "fail"), today) == "failed"
    assert status_of(Instrument(), today) == "never_verified"
