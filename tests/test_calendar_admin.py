"""The working calendar as an administrator changes it: entries in the database, a change's preview
(what deadlines it moves), applying it (one transaction, audited), and another process seeing it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from tests.support import cast_of, error_of, fields_of, local, officer, relogin
from tests.test_pages import csrf, page_login
from workflows import commands, scheduler
from workflows.calendar_entries import AUDIT_STREAM
from workflows.clock import as_utc, to_local
from workflows.db import reading
from workflows.models import Alarm, AuditEvent, CalendarEntry, Dossier, ProcessInstance, User, WorkTask
from workflows.runtime import build_runtime

# Monday 01/03/2027, 09:00: a dossier received now is due (3 working days) on Thursday 04/03 and
# by law (5 working days) on Monday 08/03.
MONDAY = local(2027, 3, 1, 9, 0)
WEDNESDAY = "03/03/2027"
DOCUMENT = "Quyết định 123/QĐ-UBND ngày 20/02/2027 của UBND tỉnh Quảng Trị"


@pytest.fixture
def people(client, rt):
    with time_machine.travel(MONDAY, tick=False):
        cast = cast_of(client, rt, "Công ty TNHH Lịch Làm Việc")
        cast["admin"] = officer(client, rt, "admin", name="Quản Trị Viên")
        yield cast


def _received(people) -> str:
    code = people["business"].submitted()
    people["clerk"].done(code, {"completeness_decision": "receive"})
    return code


def _refused(people) -> str:
    code = people["business"].submitted()
    people["clerk"].done(
        code, {"completeness_decision": "refuse", "refusal_reason": "Không thuộc thẩm quyền."}
    )
    return code


def _dossier(rt, code: str) -> Dossier:
    with reading(rt.engine) as session:
        return session.exec(select(Dossier).where(Dossier.code == code)).one()


def _instants(rt) -> dict[tuple, datetime]:
    """Every deadline, due time and pending alarm in the database, by what it is."""
    with reading(rt.engine) as session:
        found: dict[tuple, datetime] = {}
        for d in session.exec(select(Dossier)).all():
            if d.appointment_at:
                found[("appointment", d.id)] = as_utc(d.appointment_at)
                found[("legal_due", d.id)] = as_utc(d.legal_due_at)
        for t in session.exec(select(WorkTask).where(WorkTask.status == "open")).all():
            if t.due_at:
                found[("task_due", t.id)] = as_utc(t.due_at)
        for a in session.exec(select(Alarm).where(Alarm.fired_at.is_(None))).all():
            found[("alarm", a.id)] = as_utc(a.due_at)
    return found


def _day_off(day: str = WEDNESDAY, **changes: object) -> dict[str, object]:
    return {
        "action": "add",
        "day": day,
        "kind": "day_off",
        "name": "Nghỉ lễ tỉnh",
        "decided_by": DOCUMENT,
        **changes,
    }


def test_a_day_off_moves_open_deadlines_by_one_working_day_and_the_count_is_what_apply_moves(rt, people):
    admin = people["admin"]
    with time_machine.travel(MONDAY, tick=False):
        code = _received(people)
        closed = _refused(people)
        dossier = _dossier(rt, code)
        assert as_utc(dossier.appointment_at) == local(2027, 3, 4, 9, 0)
        assert as_utc(dossier.legal_due_at) == local(2027, 3, 8, 9, 0)
        closed_before = _dossier(rt, closed)
        before = _instants(rt)

        preview = admin.post("/api/admin/calendar/changes/preview", json=_day_off())
        assert preview.status_code == 200, preview.text
        body = preview.json()
        moved = {(m["kind"], m["dossier_code"]): m for m in body["moves"] if m["kind"] != "alarm"}
        assert set(moved) == {("appointment", code), ("legal_due", code)}
        assert body["deadlines_moved"] == 2 and body["dossiers"] == 1
        assert datetime.fromisoformat(moved[("appointment", code)]["new"]) == local(2027, 3, 5, 9, 0)
        assert datetime.fromisoformat(moved[("legal_due", code)]["new"]) == local(2027, 3, 9, 9, 0)
        assert _instants(rt) == before  # a preview saves nothing

        applied = admin.post("/api/admin/calendar/changes", json={**_day_off(), "token": body["token"]})
        assert applied.status_code == 200, applied.text
        assert applied.json()["deadlines_moved"] == 2
        after = _instants(rt)

    changed = {key for key in before if before[key] != after.get(key)}
    assert len([k for k in changed if k[0] != "alarm"]) == body["deadlines_moved"]
    assert len([k for k in changed if k[0] == "alarm"]) == body["alarms_moved"] > 0
    dossier = _dossier(rt, code)
    assert as_utc(dossier.appointment_at) == local(2027, 3, 5, 9, 0)
    assert as_utc(dossier.legal_due_at) == local(2027, 3, 9, 9, 0)
    with reading(rt.engine) as session:
        missed = session.exec(
            select(Alarm).where(Alarm.dossier_id == dossier.id, Alarm.kind == "appointment_missed")
        ).one()
        assert as_utc(missed.due_at) == local(2027, 3, 5, 9, 0)
        events = session.exec(
            select(AuditEvent).where(AuditEvent.stream == AUDIT_STREAM).order_by(AuditEvent.seq)
        ).all()
        history = session.exec(
            select(AuditEvent).where(
                AuditEvent.dossier_id == dossier.id, AuditEvent.action == "deadlines_recomputed"
            )
        ).all()
    # A closed dossier does not move.
    closed_after = _dossier(rt, closed)
    assert (closed_after.appointment_at, closed_after.legal_due_at) == (
        closed_before.appointment_at,
        closed_before.legal_due_at,
    )
    added = [e for e in events if e.action == "calendar_entry_added"]
    assert len(added) == 1 and added[0].actor_id is not None
    assert added[0].details["decided_by"] == DOCUMENT
    assert added[0].details["deadlines_moved"] == 2 and added[0].details["dossiers"] == [code]
    assert events[0].action == "calendar_imported"  # the first start's import, recorded
    assert len(history) == 1 and history[0].details["decided_by"] == DOCUMENT

    # The calendar in force knows the day; the entries list says who entered it and on what basis.
    assert not rt.calendar.is_working_day(date(2027, 3, 3))
    entries = admin.get("/api/admin/calendar/entries").json()
    entry = next(e for e in entries if e["day"] == "2027-03-03")
    assert (entry["kind"], entry["decided_by"], entry["source"]) == ("day_off", DOCUMENT, "admin")
    page = people["business"].get(f"/api/dossiers/{code}").json()
    assert datetime.fromisoformat(page["appointment_at"]) == local(2027, 3, 5, 9, 0)

    # Removing it (with the document that cancels it) moves the deadlines back; the row stays.
    with time_machine.travel(MONDAY, tick=False):
        relogin(people)
        removal = {"action": "remove", "entry_id": entry["id"], "decided_by": "Quyết định 130/QĐ-UBND"}
        preview = admin.post("/api/admin/calendar/changes/preview", json=removal).json()
        assert preview["deadlines_moved"] == 2
        done = admin.post("/api/admin/calendar/changes", json={**removal, "token": preview["token"]})
        assert done.status_code == 200, done.text
    assert as_utc(_dossier(rt, code).appointment_at) == local(2027, 3, 4, 9, 0)
    assert rt.calendar.is_working_day(date(2027, 3, 3))
    with reading(rt.engine) as session:
        row = session.get(CalendarEntry, entry["id"])
        assert row.removed_at is not None and row.removal_decided_by == "Quyết định 130/QĐ-UBND"


def test_bad_changes_are_refused_naming_the_field(rt, people):
    admin = people["admin"]
    with time_machine.travel(MONDAY, tick=False):
        cases = [
            (_day_off("06/03/2027"), "day", "đã là ngày nghỉ"),  # a Saturday
            (_day_off("30/04/2027"), "day", "đã là ngày nghỉ"),  # a public holiday
            (_day_off(kind="working_day"), "day", "đã là ngày làm việc"),  # a normal Wednesday
            (_day_off(decided_by="  "), "decided_by", "văn bản quyết định"),
            (_day_off("31/02/2027"), "day", "dd/mm/yyyy"),
            (_day_off("26/02/2027"), "day", "đã qua"),
            (_day_off(kind="holiday"), "kind", "Loại ngày"),
            ({"action": "remove", "decided_by": DOCUMENT}, "entry_id", "Bắt buộc"),
        ]
        for body, field, words in cases:
            error = error_of(admin.post("/api/admin/calendar/changes/preview", json=body), 422)
            problem = fields_of(error)[field]
            assert words.lower() in problem["message"].lower(), (body, problem)
            assert problem["message_en"] != problem["message"]
        # Applying needs the preview's token, for the change previewed: not another document.
        token = admin.post("/api/admin/calendar/changes/preview", json=_day_off()).json()["token"]
        error_of(
            admin.post(
                "/api/admin/calendar/changes", json={**_day_off(decided_by="Công văn khác"), "token": token}
            ),
            409,
            "calendar_preview_stale",
        )
        # Applying needs a preview's token; a made-up token is a stale preview.
        error_of(admin.post("/api/admin/calendar/changes", json=_day_off()), 422)
        error_of(
            admin.post("/api/admin/calendar/changes", json={**_day_off(), "token": "0-abc"}),
            409,
            "calendar_preview_stale",
        )
        error_of(
            admin.post(
                "/api/admin/calendar/changes/preview",
                json={"action": "remove", "entry_id": 999999, "decided_by": DOCUMENT},
            ),
            404,
        )


def test_a_stale_preview_is_refused_and_only_an_administrator_changes_the_calendar(rt, people, client):
    admin = people["admin"]
    with time_machine.travel(MONDAY, tick=False):
        _received(people)
        stale = admin.post("/api/admin/calendar/changes/preview", json=_day_off()).json()
        other = admin.post("/api/admin/calendar/changes/preview", json=_day_off("05/03/2027")).json()
        assert (
            admin.post(
                "/api/admin/calendar/changes", json={**_day_off("05/03/2027"), "token": other["token"]}
            ).status_code
            == 200
        )
        error_of(
            admin.post("/api/admin/calendar/changes", json={**_day_off(), "token": stale["token"]}),
            409,
            "calendar_preview_stale",
        )
        assert rt.calendar.is_working_day(date(2027, 3, 3))
        for who in ("specialist", "leader", "business"):
            error_of(people[who].post("/api/admin/calendar/changes/preview", json=_day_off()), 403)
            error_of(people[who].get("/api/admin/calendar/entries"), 403)
        page_login(client, people["specialist"].email)
        assert client.get("/admin/calendar").status_code == 403


def test_the_page_previews_the_count_then_saves(rt, people, client):
    with time_machine.travel(MONDAY, tick=False):
        code = _received(people)
        page_login(client, people["admin"].email)
        page = client.get("/admin/calendar")
        assert page.status_code == 200
        token = csrf(page.text)
        refused = client.post("/admin/calendar/preview", data={**_day_off("06/03/2027"), "csrf_token": token})
        assert refused.status_code == 422 and "đã là ngày nghỉ" in refused.text
        no_csrf = client.post("/admin/calendar/preview", data=_day_off())
        assert no_csrf.status_code == 403
        preview = client.post("/admin/calendar/preview", data={**_day_off(), "csrf_token": token})
        assert preview.status_code == 200
        assert "Thay đổi này dời 2 thời hạn" in preview.text and code in preview.text
        assert "04/03/2027" in preview.text and "05/03/2027" in preview.text
        form = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', preview.text))
        # Meanwhile someone makes Thursday a day off too: the preview went stale; the page says so
        # and shows the change as it now stands.
        body = _day_off("04/03/2027")
        other = people["admin"].post("/api/admin/calendar/changes/preview", json=body).json()
        assert (
            people["admin"]
            .post("/api/admin/calendar/changes", json={**body, "token": other["token"]})
            .status_code
            == 200
        )
        stale = client.post("/admin/calendar/apply", data=form)
        assert stale.status_code == 409 and "Bản xem trước đã cũ" in stale.text
        assert "05/03/2027" in stale.text and "08/03/2027" in stale.text  # Thursday's day off counted
        form = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', stale.text))
        saved = client.post("/admin/calendar/apply", data=form, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        listed = client.get(saved.headers["location"]).text
        assert "2 thời hạn đã được tính lại" in listed and DOCUMENT in listed
        # Removing a day from its row needs the document that cancels it, said at that row.
        with reading(rt.engine) as session:
            thursday = session.exec(select(CalendarEntry).where(CalendarEntry.day == date(2027, 3, 4))).one()
        removal = {"action": "remove", "entry_id": str(thursday.id), "decided_by": " ", "csrf_token": token}
        refused = client.post("/admin/calendar/preview", data=removal)
        assert refused.status_code == 422 and "Cần ghi văn bản quyết định" in refused.text
        preview = client.post(
            "/admin/calendar/preview", data={**removal, "decided_by": "Quyết định 130/QĐ-UBND"}
        )
        assert preview.status_code == 200 and "Xóa ngày nghỉ 04/03/2027" in preview.text
    assert as_utc(_dossier(rt, code).appointment_at) == local(2027, 3, 8, 9, 0)


@pytest.mark.parametrize(
    ("today", "warned"),
    [(local(2027, 10, 30, 9, 0), False), (local(2027, 11, 2, 9, 0), True), (local(2027, 12, 20, 9, 0), True)],
)
def test_in_november_and_december_the_page_warns_when_next_year_has_no_entries(rt, client, today, warned):
    with time_machine.travel(today, tick=False):
        admin = officer(client, rt, "admin")
        page_login(client, admin.email)
        page = client.get("/admin/calendar")
        assert ("Năm 2028 chưa có ngày điều chỉnh" in page.text) is warned
        if warned:
            body = {"action": "add", "day": "05/01/2028", "kind": "day_off", "decided_by": DOCUMENT}
            preview = admin.post("/api/admin/calendar/changes/preview", json=body).json()
            assert (
                admin.post(
                    "/api/admin/calendar/changes", json={**body, "token": preview["token"]}
                ).status_code
                == 200
            )
            assert "Năm 2028 chưa có ngày điều chỉnh" not in client.get("/admin/calendar").text


def test_the_overrides_file_is_imported_once_and_another_process_sees_a_change(rt, settings, people):
    with reading(rt.engine) as session:
        imported = session.exec(select(CalendarEntry).where(CalendarEntry.source == "import")).all()
    assert {(e.day, e.kind) for e in imported} == {
        (date(2026, 1, 2), "day_off"),
        (date(2026, 1, 10), "working_day"),
    }
    assert all("12729/VPCP-KGVX" in e.decided_by for e in imported)

    # A second process (a worker) on the same database, holding a calendar and an engine as its
    # runtime does (not the whole runtime: a second's start instead of several), tells whether
    # 03/03/2027 is a working day each time it is asked, after the check every request and tick do.
    script = textwrap.dedent(
        f"""
        import sys, json
        from datetime import date
        from types import SimpleNamespace
        from workflows import calendar_entries
        from workflows.calendar import WorkingCalendar
        from workflows.db import make_engine
        from zoneinfo import ZoneInfo
        rt = SimpleNamespace(calendar=WorkingCalendar(ZoneInfo("Asia/Ho_Chi_Minh")), engine=make_engine({settings.database_url!r}))
        for line in sys.stdin:
            calendar_entries.refresh(rt)
            print(json.dumps(rt.calendar.is_working_day(date(2027, 3, 3))), flush=True)
        """
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        worker.stdin.write("?\n")
        worker.stdin.flush()
        assert json.loads(worker.stdout.readline()) is True
        with time_machine.travel(MONDAY, tick=False):
            admin = people["admin"]
            preview = admin.post("/api/admin/calendar/changes/preview", json=_day_off()).json()
            assert (
                admin.post(
                    "/api/admin/calendar/changes", json={**_day_off(), "token": preview["token"]}
                ).status_code
                == 200
            )
        worker.stdin.write("?\n")
        worker.stdin.flush()
        assert json.loads(worker.stdout.readline()) is False
    finally:
        worker.stdin.close()
        worker.wait(30)
    with reading(rt.engine) as session:
        assert len(session.exec(select(CalendarEntry).where(CalendarEntry.source == "import")).all()) == 2


def test_a_command_in_a_process_with_an_old_calendar_computes_with_the_new_one(rt, settings, people):
    """A process whose calendar is behind (its last request or tick came before the change) still
    receives a dossier by the new calendar: the command reads the revision once it holds its lock."""
    worker = build_runtime(settings)  # another process's runtime: its own calendar
    try:
        with reading(rt.engine) as session:  # its start imported nothing again
            assert len(session.exec(select(CalendarEntry)).all()) == 2
        with time_machine.travel(MONDAY, tick=False):
            code = people["business"].submitted()
            admin = people["admin"]
            preview = admin.post("/api/admin/calendar/changes/preview", json=_day_off()).json()
            assert preview["deadlines_moved"] == 0  # nothing received yet
            saved = admin.post("/api/admin/calendar/changes", json={**_day_off(), "token": preview["token"]})
            assert saved.status_code == 200
            assert worker.calendar.is_working_day(date(2027, 3, 3))  # behind
            with reading(rt.engine) as session:
                clerk = session.exec(select(User).where(User.email == people["clerk"].email)).one()
                task = session.exec(
                    select(WorkTask).where(
                        WorkTask.dossier_id == _dossier(rt, code).id, WorkTask.status == "open"
                    )
                ).one()
            commands.complete_task(worker, clerk, task.id, {"completeness_decision": "receive"})
        assert as_utc(_dossier(rt, code).appointment_at) == local(2027, 3, 5, 9, 0)
        assert not worker.calendar.is_working_day(date(2027, 3, 3))
    finally:
        worker.engine.dispose()


def test_a_waiting_bpmn_timer_moves_with_the_day_off_and_fires_on_its_new_day(rt, people):
    """The business's 15 working days to supplement (the model's ``working_days(15)`` timer, from
    Monday 01/03/2027 09:00: Monday 22/03) end a day later after a day off on 03/03."""
    with time_machine.travel(MONDAY, tick=False):
        code = people["business"].submitted()
        people["clerk"].done(
            code, {"completeness_decision": "supplement", "missing_items": ["Nhãn hàng hóa"]}
        )
        with reading(rt.engine) as session:
            instance = session.exec(
                select(ProcessInstance).where(ProcessInstance.dossier_id == _dossier(rt, code).id)
            ).one()
        assert instance.next_timer_at is not None
        assert as_utc(instance.next_timer_at) - local(2027, 3, 22, 9, 0) < timedelta(seconds=1)
        preview = people["admin"].post("/api/admin/calendar/changes/preview", json=_day_off()).json()
        timers = [m for m in preview["moves"] if m["kind"] == "timer"]
        assert len(timers) == 1 and "15 ngày làm việc" in timers[0]["task_name"]
        assert datetime.fromisoformat(timers[0]["new"]) - datetime.fromisoformat(
            timers[0]["old"]
        ) == timedelta(days=1)
        saved = people["admin"].post(
            "/api/admin/calendar/changes", json={**_day_off(), "token": preview["token"]}
        )
        assert saved.status_code == 200 and saved.json()["deadlines_moved"] == preview["deadlines_moved"]
    with reading(rt.engine) as session:
        moved = session.get(ProcessInstance, instance.id)
    assert as_utc(moved.next_timer_at) - as_utc(instance.next_timer_at) == timedelta(days=1)
    with time_machine.travel(local(2027, 3, 22, 16, 0), tick=False):
        scheduler.tick(rt)
    assert _dossier(rt, code).completed_at is None  # the old day: still waiting
    with time_machine.travel(local(2027, 3, 23, 9, 5), tick=False):
        scheduler.tick(rt)
    assert _dossier(rt, code).outcome == "expired"


def test_a_day_off_declared_today_warns_again_of_a_risk_that_moved_later(rt, people):
    """A storm closes the offices on Wednesday 03/03/2027, declared at 14:00 that day: the dossier's
    "at risk" warning, given that morning, is given again when the risk comes back (on Thursday)."""
    with time_machine.travel(MONDAY, tick=False):
        code = _received(people)
    with time_machine.travel(local(2027, 3, 3, 14, 0), tick=False):
        scheduler.tick(rt)
        dossier = _dossier(rt, code)
        with reading(rt.engine) as session:
            fired = session.exec(
                select(Alarm).where(Alarm.dossier_id == dossier.id, Alarm.kind == "appointment_at_risk")
            ).one()
        assert fired.fired_at is not None
        relogin(people)
        storm = _day_off(name="Nghỉ do bão", decided_by="Công điện 05/CĐ-UBND ngày 03/03/2027")
        preview = people["admin"].post("/api/admin/calendar/changes/preview", json=storm).json()
        again = [m for m in preview["moves"] if m["kind"] == "alarm" and m["old"] is None]
        assert [m["alarm_kind"] for m in again] == ["appointment_at_risk"]
        saved = people["admin"].post("/api/admin/calendar/changes", json={**storm, "token": preview["token"]})
        assert saved.status_code == 200, saved.text
    with reading(rt.engine) as session:
        pending = session.exec(
            select(Alarm).where(
                Alarm.dossier_id == dossier.id, Alarm.kind == "appointment_at_risk", Alarm.fired_at.is_(None)
            )
        ).one()
    assert to_local(as_utc(pending.due_at)).date() == date(2027, 3, 4)
    assert datetime.fromisoformat(again[0]["new"]) == as_utc(pending.due_at)
    assert as_utc(_dossier(rt, code).appointment_at) == local(2027, 3, 5, 9, 0)
