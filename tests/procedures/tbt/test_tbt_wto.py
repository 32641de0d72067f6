"""WTO TBT notifications through the HTTP API, on SQLite and PostgreSQL: registration by the TBT
officer, alerts to matching subscribers (e-mail and in-app), comments until the deadline, the
compiled comments (.docx)."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

import time_machine
from sqlmodel import select

from notifications.dispatcher import fan_out
from notifications.models import Delivery, Notification
from tests.support import business, docx_text, error_of, fields_of, local, officer
from workflows.db import reading

NOTIFICATION = {
    "member": "Liên minh châu Âu",
    "symbol": "G/TBT/N/EU/1105",
    "title": "Dự thảo quy định về thép không gỉ dùng trong thực phẩm",
    "products": "Thép không gỉ cán nguội, dụng cụ nhà bếp",
    "hs_codes": ["7219.33", "7323.93"],
    "description": "Quy định giới hạn thôi nhiễm kim loại của vật liệu tiếp xúc thực phẩm.",
    "objective": "Bảo vệ sức khỏe con người",
    "circulated_on": "2026-11-20",
}


def test_register_alert_comment_and_compile(client, rt):
    tbt = officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")
    steel = business(client, "Công ty CP Thép Quảng Trị")
    kitchen = business(client, "Công ty TNHH Đồ bếp Miền Trung")
    textiles = business(client, "Công ty May Đông Hà")
    assert steel.post("/api/tbt/subscriptions", json={"hs_prefix": "7219"}).status_code == 201
    assert kitchen.post("/api/tbt/subscriptions", json={"keyword": "dung cu nha bep"}).status_code == 201
    assert textiles.post("/api/tbt/subscriptions", json={"hs_prefix": "61"}).status_code == 201
    # Both criteria given: both must match (the HS code matches, the keyword does not).
    textiles.post("/api/tbt/subscriptions", json={"hs_prefix": "7219", "keyword": "vải"})
    error_of(steel.post("/api/tbt/subscriptions", json={}), 422)
    error_of(tbt.post("/api/tbt/subscriptions", json={"hs_prefix": "72"}), 403)

    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin(), steel.relogin(), kitchen.relogin()
        error_of(steel.post("/api/tbt/wto-notifications", json=NOTIFICATION), 403)
        bad = tbt.post(
            "/api/tbt/wto-notifications", json={**NOTIFICATION, "symbol": "EU-1105", "hs_codes": ["72a"]}
        )
        assert {"symbol", "hs_codes"} <= fields_of(error_of(bad, 422)).keys()
        created = tbt.post("/api/tbt/wto-notifications", json=NOTIFICATION)
        assert created.status_code == 201, created.text
        notification = created.json()
        # 60 days after circulation when no deadline is given.
        assert notification["comment_deadline"] == "2027-01-19"
        assert notification["comment_deadline_text"] == "19/01/2027"
        error_of(tbt.post("/api/tbt/wto-notifications", json=NOTIFICATION), 409, "duplicate")

        fan_out(rt)
        with reading(rt.engine) as session:
            mails = session.exec(select(Delivery).where(Delivery.channel == "email")).all()
            inapp = session.exec(select(Notification)).all()
        alerted = sorted(m.recipient for m in mails if "G/TBT/N/EU/1105" in m.subject)
        assert alerted == sorted([steel.email, kitchen.email])
        assert "19/01/2027" in next(m for m in mails if m.recipient == steel.email).body_text
        assert any(n.link == f"/tbt/wto/{notification['id']}" for n in inapp)

        listed = client.get("/api/tbt/wto-notifications", params={"q": "thep khong gi"}).json()
        assert [n["symbol"] for n in listed["items"]] == ["G/TBT/N/EU/1105"]
        assert client.get("/api/tbt/wto-notifications", params={"q": "7323"}).json()["total"] == 1
        assert client.get("/api/tbt/wto-notifications", params={"q": "ô tô"}).json()["total"] == 0

        url = f"/api/tbt/wto-notifications/{notification['id']}/comments"
        ok = steel.post(url, json={"body": "Đề nghị EU cho thời gian chuyển tiếp 12 tháng."})
        assert ok.status_code == 201, ok.text
        kitchen.post(url, json={"body": "Giới hạn niken quá chặt so với tiêu chuẩn quốc tế."})
        error_of(steel.post(url, json={"body": "ngắn"}), 422)
        error_of(tbt.post(url, json={"body": "Cán bộ không góp ý thay doanh nghiệp."}), 403)
        # A business reads its own comments; the officer reads all.
        assert len(steel.get(url).json()["items"]) == 1
        assert len(tbt.get(url).json()["items"]) == 2

    # The deadline day is still open (until midnight, local time); the day after is not.
    with time_machine.travel(local(2027, 1, 19, 23, 50), tick=False):
        steel.relogin()
        assert steel.post(url, json={"body": "Góp ý bổ sung trong ngày cuối cùng."}).status_code == 201
    with time_machine.travel(local(2027, 1, 20, 0, 5), tick=False):
        steel.relogin(), tbt.relogin()
        late = error_of(
            steel.post(url, json={"body": "Góp ý sau khi đã hết hạn góp ý."}), 409, "comments_closed"
        )
        assert "19/01/2027" in late["message"] and "19/01/2027" in late["message_en"]

        error_of(steel.post(f"/api/tbt/wto-notifications/{notification['id']}/compilation"), 403)
        compiled = tbt.post(f"/api/tbt/wto-notifications/{notification['id']}/compilation")
        assert compiled.status_code == 200, compiled.text
        # A letter (công văn): numbered for the agency and the drafting unit, "V/v …", "Kính gửi: …".
        number = unquote(compiled.headers["X-Document-Number"])
        assert number.endswith("/SKHCN-TĐC")
        text = docx_text(compiled.content)
        assert "G/TBT/N/EU/1105" in text and "Kính gửi: Văn phòng TBT Việt Nam." in text
        assert f"Số: {number}" in text and "V/v tổng hợp ý kiến góp ý thông báo TBT của WTO" in text
        assert "CÔNG VĂN" not in text
        assert "Công ty CP Thép Quảng Trị" in text and "Giới hạn niken" in text
        assert "Tổng số ý kiến: 3." in text

        # Its QR code opens the public verify page like any dossier's document.
        code = compiled.headers["X-Verification-Code"]
        assert code in text
        assert "Thông báo: G/TBT/N/EU/1105" in text and "Mã hồ sơ" not in text
        verified = client.get(f"/api/public/documents/{code.replace('-', '').lower()}")
        assert verified.status_code == 200, verified.text
        assert verified.json()["reference"] == "G/TBT/N/EU/1105"
        assert verified.json()["number"] == number
        assert verified.json()["sha256"] == hashlib.sha256(compiled.content).hexdigest()
        assert verified.json()["dossier_code"] is None
        page = client.get(f"/verify/{code}")
        assert page.status_code == 200 and "G/TBT/N/EU/1105" in page.text


def test_unsubscribe_only_own(client):
    firm, other = business(client), business(client)
    sub = firm.post("/api/tbt/subscriptions", json={"hs_prefix": "7219.33"}).json()
    assert sub["hs_prefix"] == "721933"
    error_of(other.client.delete(f"/api/tbt/subscriptions/{sub['id']}", headers=other.headers), 404)
    assert firm.client.delete(f"/api/tbt/subscriptions/{sub['id']}", headers=firm.headers).status_code == 204
    assert firm.get("/api/tbt/subscriptions").json()["items"] == []


def test_the_alert_message_escapes_and_links_to_the_notification(rt):
    from notifications.render import Renderer
    from workflows.models import User
    from workflows.outbox import OutboxEvent

    user = User(
        id=3,
        email="a@b.vn",
        password_hash="x",
        full_name="An",
        organisation_name="Công ty <b>A</b>",
        roles=["business"],
    )
    payload = {
        "user_ids": [3],
        "notification_id": 9,
        "symbol": "G/TBT/N/EU/1105",
        "member": "EU",
        "title": "Thép <script>",
        "products": "Thép không gỉ",
        "comment_deadline": "2027-01-19",
        "link_path": "/tbt/wto/9",
    }
    event = OutboxEvent(
        id="e" * 32, type="wto_notification_alert", payload=payload, created_at=local(2026, 11, 26, 9, 0)
    )
    message = Renderer(rt).event_message(event, user)
    assert "G/TBT/N/EU/1105" in message.subject and "19/01/2027" in message.body_vi
    assert "<script>" not in message.html and "Thép &lt;script&gt;" in message.html
    assert message.link == "/tbt/wto/9" and "http://testserver/tbt/wto/9" in message.text
