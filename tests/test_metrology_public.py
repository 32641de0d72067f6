"""The metrology database's public side and the officers' warnings page (issue 18), as their
readers see them: anyone reads how many instruments are registered, verified today and overdue
per kind and per commune (JSON and a page, in Vietnamese or English), never a name, and figures
at most a minute old; one client's stamp lookups are limited per minute (429 with Retry-After,
API and page alike); a specialist lists the warnings, filters them and plans, contacts, closes
with a reason, while a change made meanwhile is refused. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import make_settings
from tests.support import local, officer
from tests.test_metrology import body_key, send, taxi
from tests.test_metrology_pages import shown
from tests.test_pages import csrf, page_login
from workflows.metrology import alerts
from workflows.runtime import build_runtime

NOW = local(2026, 6, 1, 9, 0)


@pytest.fixture
def at_nine():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as travel:
        yield travel


def report(client: Any, key: str, **changes: Any) -> dict[str, Any]:
    if changes.get("owner_type", "business") == "business":
        changes.setdefault("owner_tax_code", "3200765001")
    sent = send(client, key, taxi(**changes))
    assert sent.status_code == 201, sent.text
    return sent.json()


def known_rows(client: Any, key: str) -> None:
    """Five instruments on 01/06/2026: in Phường Đông Hà a verified taxi meter (until 19/11/2027),
    an overdue one (ended 10/05/2026) and a fuel dispenser verified until 15/06/2026; in Xã Cam Lộ
    a household's verified scale and a scale that failed."""
    report(client, key)
    report(
        client,
        key,
        serial_number="SN-0002",
        certificate_number="GCN-2025-0002",
        stamp_number="T-000002",
        verified_on="10/05/2025",
        valid_until="10/05/2026",
    )
    report(
        client,
        key,
        kind="fuel_dispenser",
        model="TATSUNO",
        serial_number="CD-1",
        certificate_number="GCN-2026-0003",
        stamp_number="X-000003",
        verified_on="15/12/2025",
        valid_until="15/06/2026",
    )
    household = {
        "kind": "spring_scale",
        "model": "NHƠN HOÀ 30KG",
        "owner_type": "household",
        "owner_name": "Trần Thị Bé",
        "commune": "Xã Cam Lộ",
        "address": "Sạp 14 chợ Cam Lộ",
    }
    report(
        client,
        key,
        **household,
        serial_number="A-77",
        certificate_number="GCN-2026-0100",
        stamp_number="C-000100",
        valid_until="19/05/2027",
    )
    report(
        client,
        key,
        **household,
        serial_number="A-78",
        certificate_number="GCN-2026-0101",
        stamp_number="",
        result="fail",
        valid_until="",
    )


def figures(entry: dict[str, Any]) -> tuple[int, int, int]:
    return entry["registered"], entry["verified"], entry["overdue"]


def test_anyone_reads_the_counts_per_kind_and_commune_without_a_name_and_at_most_a_minute_old(
    client, rt, at_nine
):
    empty = client.get("/api/public/metrology/counts").json()
    assert figures(empty["total"]) == (0, 0, 0) and empty["rows"] == []
    assert "Chưa có phương tiện đo nào được đăng ký." in shown(client.get("/metrology/counts").text)

    key = body_key(client, officer(client, rt, "admin"))
    known_rows(client, key)
    at_nine.shift(61)  # the empty registry's figures were kept a minute
    answer = client.get("/api/public/metrology/counts")
    assert answer.status_code == 200
    counts = answer.json()
    assert counts["as_of"] == "01/06/2026" and counts["cache_seconds"] == 60
    assert figures(counts["total"]) == (5, 3, 1)
    by_kind = {k["kind"]: k for k in counts["by_kind"]}
    assert [k["kind"] for k in counts["by_kind"]] == ["spring_scale", "taximeter", "fuel_dispenser"]
    assert figures(by_kind["taximeter"]) == (2, 1, 1)
    assert figures(by_kind["spring_scale"]) == (2, 1, 0)
    assert figures(by_kind["fuel_dispenser"]) == (1, 1, 0)
    assert by_kind["taximeter"]["kind_name"] == {"vi": "Taximet", "en": "Taxi meter"}
    by_commune = {c["commune"]: figures(c) for c in counts["by_commune"]}
    assert by_commune == {"Phường Đông Hà": (3, 2, 1), "Xã Cam Lộ": (2, 1, 0)}
    cells = {(r["kind"], r["commune"]): figures(r) for r in counts["rows"]}
    assert cells[("spring_scale", "Xã Cam Lộ")] == (2, 1, 0)
    assert cells[("taximeter", "Phường Đông Hà")] == (2, 1, 1)
    for private in ("Trần Thị Bé", "Sạp 14", "A-77", "SN-0001", "Taxi Hoà Bình", "C-000100"):
        assert private not in answer.text, private

    stamps = client.get("/stamps")
    assert 'href="/metrology/counts"' in stamps.text
    page = client.get("/metrology/counts", params={"commune": "Xã Cam Lộ"})
    text = shown(page.text)
    assert page.status_code == 200
    assert "Số liệu ngày 01/06/2026" in text
    assert "Đã đăng ký 5 Còn hiệu lực kiểm định 3 Quá hạn kiểm định 1" in text
    assert "Taximet 2 1 1" in text and "Phường Đông Hà 3 2 1" in text
    assert "Xã Cam Lộ, theo loại phương tiện đo" in text and "Cân đồng hồ lò xo 2 1 0" in text
    assert "Trần Thị Bé" not in page.text and "Sạp 14" not in page.text
    english = shown(client.get("/metrology/counts", params={"lang": "en"}).text)
    assert "Registered 5 Verified today 3 Overdue 1" in english and "Taxi meter 2 1 1" in english
    # A commune that is not in the list shows the province's tables only.
    unknown = shown(client.get("/metrology/counts", params={"commune": "Xã Không Có", "lang": "vi"}).text)
    assert "Toàn tỉnh, theo loại phương tiện đo" in unknown and "Xã Không Có, theo loại" not in unknown

    # A new report shows within the minute, not at once: the figures are kept that long.
    report(client, key, serial_number="SN-0009", certificate_number="GCN-2026-0009", stamp_number="T-000009")
    assert figures(client.get("/api/public/metrology/counts").json()["total"]) == (5, 3, 1)
    at_nine.shift(61)
    assert figures(client.get("/api/public/metrology/counts").json()["total"]) == (6, 4, 1)

    # The next day counts afresh: the fuel dispenser's verification ended on 15/06/2026.
    at_nine.move_to(local(2026, 6, 16, 9, 0))
    later = client.get("/api/public/metrology/counts").json()
    assert later["as_of"] == "16/06/2026" and figures(later["total"]) == (6, 3, 2)


@pytest.fixture
def limited(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    """The app with at most 3 stamp lookups per client and minute."""
    runtime = build_runtime(make_settings(tmp_path, db_url, stamp_lookups_per_minute=3))
    with TestClient(create_app(runtime)) as test_client:
        yield test_client
    runtime.engine.dispose()


def test_a_client_that_looks_up_too_many_stamps_waits_for_the_next_minute(limited, at_nine):
    key = body_key(limited, officer(limited, limited.app.state.runtime, "admin"))
    token = report(limited, key)["stamp_token"]
    at_nine.move_to(local(2026, 6, 1, 9, 0, 15))
    assert limited.get("/stamps").status_code == 200  # the empty form is no lookup
    assert limited.get("/api/public/stamps/T-000001").status_code == 200
    assert limited.get("/api/public/stamps/T-999999").status_code == 404  # a miss counts as well
    assert limited.get(f"/stamps/qr/{token}").status_code == 200

    refused = limited.get("/api/public/stamps/T-000001")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "45"
    error = refused.json()["error"]
    assert error["code"] == "too_many_lookups"
    assert "tối đa 3 lượt mỗi phút" in error["message"] and "at most 3 a minute" in error["message_en"]
    page = limited.get("/stamps", params={"number": "T-000001"})
    assert page.status_code == 429 and page.headers["Retry-After"] == "45"
    assert "Quá nhiều lượt tra cứu từ địa chỉ này" in shown(page.text)
    assert limited.get(f"/api/public/stamps/qr/{token}").status_code == 429

    # Another client is counted on its own (an IPv6 client by its /64, one subscriber's line); the
    # refused one is served again the next minute.
    for host in ("2001:db8:7::1", "2001:db8:7::2", "2001:db8:7::3"):
        with TestClient(limited.app, client=(host, 5000)) as other:
            assert other.get("/api/public/stamps/T-000001").status_code == 200
    with TestClient(limited.app, client=("2001:db8:7::ffff", 5000)) as same_line:
        assert same_line.get("/api/public/stamps/T-000001").status_code == 429
    at_nine.move_to(local(2026, 6, 1, 9, 1, 0))
    assert limited.get("/api/public/stamps/T-000001").json()["valid"] is True


def test_a_specialist_filters_the_warnings_and_plans_contacts_and_closes_them_with_a_reason(
    client, rt, at_nine
):
    key = body_key(client, officer(client, rt, "admin"))
    report(
        client,
        key,
        serial_number="SN-LATE",
        certificate_number="GCN-2025-0002",
        stamp_number="T-000002",
        verified_on="10/05/2025",
        valid_until="10/05/2026",
    )
    report(
        client,
        key,
        kind="spring_scale",
        model="NHƠN HOÀ 30KG",
        serial_number="A-78",
        owner_type="household",
        owner_name="Trần Thị Bé",
        commune="Xã Cam Lộ",
        certificate_number="GCN-2026-0101",
        stamp_number="",
        result="fail",
        valid_until="",
    )
    assert alerts.sweep(rt).opened == 2
    clerk = officer(client, rt, "clerk")
    page_login(client, clerk.email)
    assert client.get("/work/instrument-warnings").status_code == 403
    assert 'href="/work/instrument-warnings"' not in client.get("/work/instruments").text

    specialist = officer(client, rt, "specialist")
    page_login(client, specialist.email)
    listed = client.get("/work/instruments")
    assert 'href="/work/instrument-warnings"' in listed.text  # in the officers' navigation
    page = client.get("/work/instrument-warnings")
    text = shown(page.text)
    assert "Quá hạn kiểm định SN-LATE" in text and "11/05/2026 21 ngày" in text
    assert "Không đạt kiểm định A-78" in text and "Trần Thị Bé" in text
    assert text.index("SN-LATE") < text.index("A-78")  # the longest-standing first
    failed_only = shown(client.get("/work/instrument-warnings", params={"cause": "failed"}).text)
    assert "A-78" in failed_only and "SN-LATE" not in failed_only
    in_cam_lo = shown(client.get("/work/instrument-warnings", params={"commune": " Xã  Cam Lộ "}).text)
    assert "A-78" in in_cam_lo and "SN-LATE" not in in_cam_lo
    taxis = shown(client.get("/work/instrument-warnings", params={"kind": "taximeter"}).text)
    assert "SN-LATE" in taxis and "A-78" not in taxis

    late = client.get("/api/metrology/warnings", params={"cause": "overdue"}, headers=specialist.headers)
    warning = late.json()["items"][0]
    token = csrf(page.text)
    url = f"/work/instrument-warnings/{warning['id']}"

    def act(action: str, version: int, note: str = "", with_csrf: bool = True, query: str = "") -> Any:
        data = {"action": action, "version": str(version), "note": note}
        if with_csrf:
            data["csrf_token"] = token
        return client.post(url + query, data=data, follow_redirects=False)

    assert act("plan_inspection", 1, "Kiểm tra ngày 05/06", with_csrf=False).status_code == 403
    # Acted on from the list of taxi meters: the form keeps that list, and so does the answer.
    assert (
        f'action="{url}?kind=taximeter"'
        in client.get(url.rsplit("/", 1)[0], params={"kind": "taximeter"}).text
    )
    planned = act("plan_inspection", 1, "Kiểm tra ngày 05/06", query="?kind=taximeter")
    assert planned.status_code == 303 and planned.headers["location"].endswith("&kind=taximeter")
    after = shown(client.get(planned.headers["location"]).text)
    assert "Đã ghi nhận: lên kế hoạch kiểm tra." in after and "A-78" not in after
    refused = act("close", 2, " ", query="?kind=taximeter")
    assert refused.status_code == 422 and "SN-LATE" in shown(refused.text)
    assert "A-78" not in shown(refused.text)
    assert "Đã lên kế hoạch kiểm tra Kiểm tra ngày 05/06" in after

    stale = act("contact_owner", 1, "Đã gọi điện")  # the version read before the plan
    assert stale.status_code == 409 and "Cảnh báo đã được người khác cập nhật" in shown(stale.text)
    no_reason = act("close", 2, "   ")
    assert no_reason.status_code == 422 and "Cần ghi lý do đóng cảnh báo." in shown(no_reason.text)
    forged = act("delete", 2)
    assert forged.status_code == 422 and "Thao tác không hợp lệ." in shown(forged.text)
    too_long = act("contact_owner", 2, "x" * 1001)
    assert too_long.status_code == 422 and "Ghi chú tối đa 1000 ký tự." in shown(too_long.text)
    closed = act("close", 2, "Chủ đã ngừng sử dụng taximet")
    assert closed.status_code == 303
    assert "Đã đóng cảnh báo." in shown(client.get(closed.headers["location"]).text)
    still_open = shown(client.get("/work/instrument-warnings").text)
    assert "SN-LATE" not in still_open and "A-78" in still_open
    done = shown(client.get("/work/instrument-warnings", params={"show": "closed"}).text)
    assert "SN-LATE" in done and "Lý do đóng: Chủ đã ngừng sử dụng taximet" in done
    assert act("contact_owner", 3).status_code == 409  # a closed warning stays closed
