"""The metrology inspection campaign (issue 18), as the department's officers run it through the
API on the same engine as the procedures: a specialist plans it, a leader approves, the team records
two sites and their instruments (from the registry by id or stamp number, and one not in it), the
violations are handled — the metrology warning list shows them — and the leader issues the report.
Bad input is a 4xx naming the field; only specialists open and only officers of the campaign read;
businesses and the public never see it. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine

from forms.registry import default_registry
from notifications.dispatcher import fan_out
from tests.support import Person, business, docx_text, error_of, fields_of, local, officer
from tests.test_metrology import body_key, send, taxi
from tests.test_pages import page_login
from workflows.metrology.kinds import KINDS

NOW = local(2026, 6, 1, 9, 0)  # a Monday
CAMPAIGN = "kiem-tra-do-luong"
OWNER = "3200765001"


@pytest.fixture
def at_monday():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as travel:
        yield travel


def plan(**changes: Any) -> dict[str, Any]:
    body = {
        "title": "Kiểm tra taximet và cân tại chợ quý II/2026",
        "legal_basis": "Luật Đo lường 2011; Kế hoạch 15/KH-SKHCN ngày 20/05/2026",
        "period_from": "2026-06-01",
        "period_to": "2026-06-12",
        "areas": ["Phường Đông Hà", "Phường Nam Đông Hà"],
        "instrument_kinds": ["taximeter", "platform_scale"],
        "team": ["Trần Văn Nam, chuyên viên", "Lê Thị Hoa, chuyên viên"],
    }
    body.update(changes)
    return {"plan": body}


def registry(client: Any, rt: Any) -> dict[str, int]:
    """Two taxi meters in the registry: one verified until 2027, one whose verification ended."""
    key = body_key(client, officer(client, rt, "admin"))
    valid = send(client, key, taxi(owner_tax_code=OWNER))
    ended = send(
        client,
        key,
        taxi(
            owner_tax_code=OWNER,
            serial_number="SN-0002",
            certificate_number="GCN-2025-0002",
            stamp_number="T-000002",
            verified_on="20/05/2025",
            valid_until="20/05/2026",
        ),
    )
    assert valid.status_code == 201 and ended.status_code == 201, (valid.text, ended.text)
    return {"valid": valid.json()["instrument_id"], "ended": ended.json()["instrument_id"]}


def step(person: Person, code: str, name: str) -> dict[str, Any]:
    tasks = [
        t for t in person.get(f"/api/metrology-campaigns/{code}").json()["open_steps"] if t["step"] == name
    ]
    assert tasks, f"{code} waits for no {name}"
    return tasks[0]


def complete(person: Person, code: str, name: str, data: dict[str, Any]) -> Any:
    return person.post(f"/api/tasks/{step(person, code, name)['task_id']}/complete", json={"data": data})


def test_a_campaign_from_plan_to_report_updates_the_warning_list(client, rt, at_monday):
    ids = registry(client, rt)
    specialist = officer(client, rt, "specialist", "CHUYÊN VIÊN", "Trần Văn Nam")
    leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC", "Nguyễn Minh Đức")

    opened = specialist.post("/api/metrology-campaigns", json={"data": plan()})
    assert opened.status_code == 201, opened.text
    code = opened.json()["code"]
    assert opened.json()["status"] == "campaign_plan_review"
    # The leader approves the plan from the ordinary task inbox.
    assert any(t["dossier_code"] == code for t in leader.get("/api/tasks").json()["items"])
    assert complete(leader, code, "approve_plan", {"plan_decision": "approve"}).status_code == 200

    first_site = {
        "owner_name": "Công ty TNHH Taxi Hoà Bình",
        "address": "12 Lê Duẩn",
        "commune": "Phường Đông Hà",
        "visited_on": "2026-06-01",
        "findings": [
            {"instrument_id": ids["valid"], "result": "compliant"},
            {"stamp_number": "t-000002", "result": "no_valid_verification", "note": "Tem hết hạn 20/05/2026"},
        ],
    }
    done = complete(specialist, code, "record_site", {"site": first_site, "more_sites": True})
    assert done.status_code == 200, done.text
    second_site = {
        "owner_name": "Hộ kinh doanh Nguyễn Thị Lan",
        "address": "Chợ Đông Hà, ki-ốt 14",
        "commune": "Phường Đông Hà",
        "visited_on": "2026-06-01",
        "findings": [
            {
                "unregistered": {"kind": "platform_scale", "model": "TCS-150", "serial_number": "C-77"},
                "result": "other_violation",
                "note": "Cân chưa đăng ký, sai số vượt mức",
            }
        ],
    }
    done = complete(specialist, code, "record_site", {"site": second_site, "more_sites": False})
    assert done.status_code == 200, done.text

    found = specialist.get(f"/api/metrology-campaigns/{code}").json()
    assert found["status"] == "campaign_handling"
    assert found["counts"] == {
        "sites": 2,
        "findings": 3,
        "compliant": 1,
        "violations": 2,
        "handled": 0,
        "warnings": 1,
    }
    # The report is due ten working days (the internal target) after the last visit.
    assert found["report_due"].startswith("2026-06-15")
    ended, unregistered = (f for f in found["findings"] if f["violation"])
    assert ended["instrument_id"] == ids["ended"] and ended["stamp_number"] == "T-000002"
    assert unregistered["in_registry"] is False and unregistered["warning_id"] is None

    # The violation on a registry instrument is on the officers' warning list at once, not after
    # the next sweep.
    warnings = leader.get("/api/metrology/warnings").json()["items"]
    assert [(w["id"], w["cause"], w["state"]) for w in warnings] == [(ended["warning_id"], "overdue", "open")]

    # The handling step's page lists the findings with the ids the handling names.
    page_login(client, specialist.email)
    page = client.get(f"/work/tasks/{step(specialist, code, 'handle')['task_id']}?lang=en").text
    assert "Finding id" in page and "Instruments inspected" in page
    assert f"<td>{ended['id']}</td>" in page and "not in the registry" in page
    # Its form starts with a row for each violation, naming its finding: only the action is chosen.
    rows = re.findall(r'name="(handlings[^"]*finding_id[^"]*)"[^>]*value="(\d+)"', page)
    assert [int(value) for _, value in rows] == [ended["id"], unregistered["id"]], rows
    client.cookies.clear()

    handlings = [
        {
            "finding_id": ended["id"],
            "action": "request_verification",
            "within_days": 5,
            "note": "Lập biên bản",
        },
        {"finding_id": unregistered["id"], "action": "transferred_to_inspectorate"},
    ]
    missing_one = complete(specialist, code, "handle", {"handlings": handlings[:1]})
    assert "handlings" in fields_of(error_of(missing_one, 422))
    assert complete(specialist, code, "handle", {"handlings": handlings}).status_code == 200
    found = specialist.get(f"/api/metrology-campaigns/{code}").json()
    ended = next(f for f in found["findings"] if f["id"] == ended["id"])
    assert ended["action"] == "request_verification" and ended["action_due"] == "2026-06-08"
    warning = next(
        w for w in leader.get("/api/metrology/warnings").json()["items"] if w["id"] == ended["warning_id"]
    )
    assert warning["state"] == "owner_contacted"

    report = {"conclusions": "Yêu cầu kiểm định lại taximet; chuyển Thanh tra xử lý cân chưa đăng ký."}
    assert complete(specialist, code, "draft_report", report).status_code == 200
    assert complete(leader, code, "approve_report", {"approval_decision": "approve"}).status_code == 200

    found = specialist.get(f"/api/metrology-campaigns/{code}").json()
    assert found["status"] == "campaign_reported" and found["open_steps"] == []
    assert found["counts"]["handled"] == 2
    assert [d["kind"] for d in found["documents"]] == ["metrology_campaign_report"]
    # The officers' editable copy (the signed PDF is the worker's, after the command).
    (document,) = leader.get(f"/api/dossiers/{code}").json()["documents"]
    text = docx_text(leader.get(document["editable_url"]).content)
    assert document["number"].endswith("/BC-SKHCN") and document["number"] in text
    assert "2 cơ sở được kiểm tra; 3 phương tiện đo; 1 đạt yêu cầu; 2 vi phạm" in text
    assert "T-000002" in text and "C-77 (chưa có trong CSDL)" in text
    assert "Chuyển biên bản vi phạm cho Thanh tra" in text and "hạn 08/06/2026" in text
    # Findings are queryable across campaigns: this instrument's inspections.
    by_instrument = leader.get("/api/metrology-campaigns/findings", params={"instrument_id": ids["ended"]})
    assert [(f["campaign"], f["result"]) for f in by_instrument.json()["items"]] == [
        (code, "no_valid_verification")
    ]


def test_bad_input_is_refused_naming_the_field_and_only_officers_see_campaigns(client, rt, at_monday):
    specialist = officer(client, rt, "specialist")
    leader = officer(client, rt, "leader")
    clerk = officer(client, rt, "clerk")
    firm = business(client, "Công ty TNHH Cân Đúng")

    backwards = specialist.post(
        "/api/metrology-campaigns", json={"data": plan(period_from="2026-06-12", period_to="2026-06-01")}
    )
    assert "plan.period_to" in fields_of(error_of(backwards, 422))
    no_kind = specialist.post("/api/metrology-campaigns", json={"data": plan(instrument_kinds=["sundial"])})
    assert "plan.instrument_kinds[0]" in fields_of(error_of(no_kind, 422))

    # Only specialists open a campaign; businesses cannot start one by any door.
    error_of(leader.post("/api/metrology-campaigns", json={"data": plan()}), 403, "forbidden")
    error_of(firm.post("/api/metrology-campaigns", json={"data": plan()}), 403, "forbidden")
    error_of(firm.post("/api/dossiers", json={"procedure": CAMPAIGN, "data": plan()}), 403, "forbidden")
    error_of(client.get("/api/metrology-campaigns"), 401)
    error_of(clerk.get("/api/metrology-campaigns"), 403, "forbidden")
    error_of(firm.get("/api/metrology-campaigns/findings"), 403, "forbidden")

    code = specialist.post("/api/metrology-campaigns", json={"data": plan()}).json()["code"]
    assert complete(leader, code, "approve_plan", {"plan_decision": "approve"}).status_code == 200
    site = {
        "owner_name": "Hộ kinh doanh Lê Văn Tám",
        "address": "Chợ Đông Hà",
        "visited_on": "2026-06-01",
        "findings": [{"instrument_id": 987654, "result": "compliant"}],
    }
    unknown = complete(specialist, code, "record_site", {"site": site, "more_sites": False})
    assert "site.findings[0].instrument_id" in fields_of(error_of(unknown, 422))
    two_ways = {**site, "findings": [{"instrument_id": 1, "stamp_number": "T-1", "result": "compliant"}]}
    assert "site.findings[0].instrument_id" in fields_of(
        error_of(complete(specialist, code, "record_site", {"site": two_ways, "more_sites": False}), 422)
    )
    late = {**site, "visited_on": "2026-06-20", "findings": [{"stamp_number": "X", "result": "compliant"}]}
    assert "site.visited_on" in fields_of(
        error_of(complete(specialist, code, "record_site", {"site": late, "more_sites": False}), 422)
    )
    # Nothing of the refused sites was written; the step still waits.
    found = leader.get(f"/api/metrology-campaigns/{code}").json()
    assert found["findings"] == [] and [s["step"] for s in found["open_steps"]] == ["record_site"]
    assert [c["code"] for c in leader.get("/api/metrology-campaigns").json()["items"]] == [code]

    # The officers' work area does the steps with the generic task page, in its diagram.
    page_login(client, specialist.email)
    page = client.get(f"/work/tasks/{found['open_steps'][0]['task_id']}")
    assert page.status_code == 200 and 'class="schema-form"' in page.text
    assert "Số tem kiểm định" in page.text and "Phương tiện đo chưa có trong cơ sở dữ liệu" in page.text
    assert client.get(f"/dossiers/{code}/diagram.json").json()["current"] == ["record_site"]
    assert "Kiểm tra đo lường" in client.get("/work").text  # the menu's link to the campaigns
    page_login(client, firm.email)
    assert "Kiểm tra đo lường" not in client.get("/my/dossiers").text
    assert client.get(f"/my/dossiers/new/{CAMPAIGN}").status_code == 404
    client.cookies.clear()

    # The public catalogue and the business pages know no campaign.
    assert CAMPAIGN not in [p["code"] for p in client.get("/api/procedures").json()]
    error_of(client.get(f"/api/procedures/{CAMPAIGN}"), 404)
    assert client.get(f"/procedures/{CAMPAIGN}").status_code == 404
    assert "Kiểm tra nhà nước về đo lường" not in client.get("/").text
    error_of(client.get(f"/api/public/dossiers/{code}"), 404)
    statistics = client.get("/thong-ke").text
    assert "Kiểm tra nhà nước về đo lường" not in statistics


def test_the_forms_offer_exactly_the_registrys_kinds():
    """The plan and an unregistered instrument name kinds of the registry's list (its data), not a
    copy that drifts from it."""
    codes = [k.code for k in KINDS]
    plan_kinds = default_registry().get("metrology_campaign_plan.schema.json").schema
    site = default_registry().get("metrology_campaign_site.schema.json").schema
    assert plan_kinds["properties"]["plan"]["properties"]["instrument_kinds"]["items"]["enum"] == codes
    finding = site["properties"]["site"]["properties"]["findings"]["items"]
    assert finding["properties"]["unregistered"]["properties"]["kind"]["enum"] == codes


def test_an_instrument_registered_but_never_verified_found_in_use_is_warned_of_at_once(client, rt, at_monday):
    """A registered instrument with no verification, found in use, is on the warning list as
    ``unverified`` at once (the sweep would wait for the end of its grace)."""
    specialist = officer(client, rt, "specialist")
    leader = officer(client, rt, "leader")
    scale = specialist.post(
        "/api/metrology/instruments",
        json={
            "kind": "platform_scale",
            "model": "TCS-300",
            "serial_number": "C-301",
            "commune": "Phường Đông Hà",
            "address": "Chợ Đông Hà, ki-ốt 3",
            "purpose": "Mua bán hàng hoá",
            "owner_type": "household",
            "owner_name": "Hộ kinh doanh Trần Văn Bình",
        },
    )
    assert scale.status_code == 201, scale.text
    code = specialist.post("/api/metrology-campaigns", json={"data": plan()}).json()["code"]
    assert complete(leader, code, "approve_plan", {"plan_decision": "approve"}).status_code == 200
    site = {
        "owner_name": "Hộ kinh doanh Trần Văn Bình",
        "address": "Chợ Đông Hà, ki-ốt 3",
        "commune": "Phường Đông Hà",
        "visited_on": "2026-06-01",
        "findings": [{"instrument_id": scale.json()["id"], "result": "no_valid_verification"}],
    }
    done = complete(specialist, code, "record_site", {"site": site, "more_sites": False})
    assert done.status_code == 200, done.text
    (finding,) = specialist.get(f"/api/metrology-campaigns/{code}").json()["findings"]
    warnings = leader.get("/api/metrology/warnings").json()["items"]
    assert [(w["id"], w["cause"]) for w in warnings] == [(finding["warning_id"], "unverified")]


def test_the_officer_who_opens_a_campaign_is_not_told_as_a_business_would_be(client, rt, at_monday):
    """A business that submits hears "your dossier was submitted, the officers will check it"; the
    specialist who plans a campaign does not (it is their own work), while the leader still hears
    that the plan waits for approval."""
    registry(client, rt)
    specialist = officer(client, rt, "specialist", "CHUYÊN VIÊN", "Trần Văn Nam")
    leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC", "Nguyễn Minh Đức")
    code = specialist.post("/api/metrology-campaigns", json={"data": plan()}).json()["code"]
    fan_out(rt)

    told = specialist.get("/api/notifications").json()["items"]
    assert [item["title"]["vi"] for item in told if code in item["title"]["vi"]] == []
    waiting = [item["title"]["vi"] for item in leader.get("/api/notifications").json()["items"]]
    assert any(code in title for title in waiting), waiting
