"""The working-time clock in the running system: receipt rule, alarms, timers, extension, timeliness.

Time moves with time-machine only; the scheduler is ticked by hand at chosen instants.
"""

from __future__ import annotations

import threading

import pytest
import time_machine
from sqlmodel import func, select

from tests.support import cast_of, docx_text, issued_docx, local, relogin
from workflows import scheduler
from workflows.db import reading
from workflows.models import Alarm, AuditEvent, Dossier
from workflows.runtime import build_runtime


@pytest.fixture
def cast(client, rt):
    return cast_of(client, rt, "Công ty TNHH An Toàn")


def events(rt, code: str, action: str) -> list[dict]:
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.dossier_id == dossier.id, AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        ).all()
        return [r.details for r in rows]


@pytest.mark.parametrize(
    ("submitted", "received"),
    [
        (local(2026, 3, 3, 16, 59), "2026-03-03T16:59:00+07:00"),  # inside office hours
        (local(2026, 3, 3, 17, 1), "2026-03-04T07:30:00+07:00"),  # after 17:00: next morning
        (local(2026, 3, 8, 10, 0), "2026-03-09T07:30:00+07:00"),  # a Sunday: Monday morning
    ],
)
def test_online_submission_outside_office_hours_counts_from_the_next_working_period(
    cast, submitted, received
):
    firm, clerk = cast["business"], cast["clerk"]
    with time_machine.travel(submitted, tick=False) as travel:
        relogin(cast)
        code = firm.submitted()
        travel.move_to(local(2026, 3, 9, 9, 0))
        clerk.relogin()
        clerk.done(code, {"completeness_decision": "receive"})
        assert clerk.get(f"/api/dossiers/{code}").json()["received_at"] == received


def test_task_reminder_at_75_percent_and_escalation_at_the_due_time(cast, rt):
    firm = cast["business"]
    # Monday 02/03/2026 08:00. The clerk's check has a budget of half a working day (3h45 of office
    # time): due 13:45 (the lunch break does not count), reminder at 75% = 2h48m45s → 10:48:45.
    with time_machine.travel(local(2026, 3, 2, 8, 0), tick=False) as travel:
        relogin(cast)
        code = firm.submitted()
        task = cast["clerk"].task(code)
        assert task["due_at"] == "2026-03-02T13:45:00+07:00"
        for instant, expected in [
            (local(2026, 3, 2, 10, 48), []),
            (local(2026, 3, 2, 10, 49), ["task_reminder"]),
            (local(2026, 3, 2, 13, 44), ["task_reminder"]),
            (local(2026, 3, 2, 13, 46), ["task_reminder", "task_escalation"]),
            (local(2026, 3, 2, 15, 0), ["task_reminder", "task_escalation"]),  # each fires once
        ]:
            travel.move_to(instant)
            scheduler.tick(rt)
            assert [e["kind"] for e in events(rt, code, "alarm")] == expected, instant
    reminder, escalation = events(rt, code, "alarm")
    assert reminder["recipient_role"] == "clerk" and escalation["recipient_role"] == "leader"


def test_a_done_task_fires_no_alarm(cast, rt):
    firm, clerk = cast["business"], cast["clerk"]
    with time_machine.travel(local(2026, 3, 2, 8, 0), tick=False) as travel:
        relogin(cast)
        code = firm.submitted()
        clerk.done(code, {"completeness_decision": "refuse", "refusal_reason": "Sai thẩm quyền tiếp nhận."})
        travel.move_to(local(2026, 3, 5, 8, 0))
        scheduler.tick(rt)
    assert events(rt, code, "alarm") == []


def test_a_timer_due_while_the_app_was_stopped_fires_once_after_restart(cast, rt, settings):
    firm, clerk = cast["business"], cast["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(cast)
        code = firm.submitted()
        clerk.done(code, {"completeness_decision": "supplement", "missing_items": ["Nhãn hàng hóa"]})
        # The business never answers; the app is down when the 15 working days run out
        # (Mon 02/03 + 15 working days = Mon 23/03 09:00).
        rt.engine.dispose()
        travel.move_to(local(2026, 3, 23, 8, 59))
        restarted = build_runtime(settings)
        assert scheduler.tick(restarted).timers == 0
        travel.move_to(local(2026, 3, 25, 10, 0))
        assert scheduler.tick(restarted).timers == 1
        assert scheduler.tick(restarted).timers == 0
        restarted_again = build_runtime(settings)
        assert scheduler.tick(restarted_again).timers == 0
        clerk.relogin()
        dossier = clerk.get(f"/api/dossiers/{code}").json()
    assert dossier["status"] == "expired"
    assert dossier["open_tasks"] == []
    assert len(events(rt, code, "timer_fired")) == 1
    # Mẫu 05 of Circular 03/2025/TT-VPCP tells the business why the processing stopped.
    stop = next(d for d in dossier["documents"] if d["kind"] == "stop_notice")
    text = docx_text(issued_docx(clerk.relogin(), stop))
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text and "Quá thời hạn bổ sung" in text and code in text
    restarted.engine.dispose()
    restarted_again.engine.dispose()


def test_two_scheduler_workers_never_fire_the_same_work_twice(cast, rt, settings):
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("concurrent workers are a PostgreSQL deployment (SKIP LOCKED); SQLite has one writer")
    firm, clerk = cast["business"], cast["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(cast)
        codes = [firm.submitted() for _ in range(6)]
        for code in codes[:3]:
            clerk.done(code, {"completeness_decision": "supplement", "missing_items": ["Nhãn"]})
        travel.move_to(local(2026, 4, 10, 9, 0))  # every alarm and every supplement timer is due
        workers = [build_runtime(settings) for _ in range(2)]
        barrier = threading.Barrier(2)
        reports = []

        def work(runtime):
            barrier.wait()
            reports.append(scheduler.tick(runtime))

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sum(r.timers for r in reports) == 3
    for code in codes[:3]:
        assert len(events(rt, code, "timer_fired")) == 1
    with reading(rt.engine) as session:
        fired = session.exec(select(func.count()).select_from(Alarm).where(Alarm.fired_at.is_not(None))).one()
        audited = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "alarm")
        ).one()
    assert fired == audited == sum(r.alarms for r in reports) > 0
    for worker in workers:
        worker.engine.dispose()


def finish(cast, code):
    cast["specialist"].done(code, {"examination_findings": "Đạt.", "examination_conclusion": "accept"})
    return cast["leader"].complete(code, {"approval_decision": "approve"})


@pytest.mark.parametrize(
    ("finished", "committed", "legal"),
    [
        (local(2026, 3, 4, 10, 0), "early", "early"),  # appointment Thu 05/03 09:00, legal Mon 09/03 09:00
        (local(2026, 3, 5, 8, 30), "on_time", "early"),
    ],
)
def test_completion_is_classified_against_both_limits(cast, rt, finished, committed, legal):
    firm, clerk = cast["business"], cast["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(cast)
        code = firm.submitted()
        clerk.done(code, {"completeness_decision": "receive"})
        travel.move_to(finished)
        relogin(cast)
        assert finish(cast, code).status_code == 200
        dossier = clerk.get(f"/api/dossiers/{code}").json()
    assert (dossier["timeliness_committed"], dossier["timeliness_legal"]) == (committed, legal)
    kinds = [d["kind"] for d in dossier["documents"]]
    assert kinds == ["receipt_slip", "declaration_notice", "process_control_slip"]


def test_a_missed_appointment_needs_the_apology_slip_before_the_result(cast, rt):
    firm, clerk, leader = cast["business"], cast["clerk"], cast["leader"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(cast)
        code = firm.submitted()
        clerk.done(code, {"completeness_decision": "receive"})
        travel.move_to(local(2026, 3, 6, 9, 0))  # the appointment (Thu 05/03 09:00) has passed
        relogin(cast)
        refused = finish(cast, code)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "apology_required"
        assert leader.task(code)["step"] == "approve"  # nothing moved
        short = leader.post(f"/api/dossiers/{code}/extend", json={"days": 2, "reason": "ngắn"})
        assert short.status_code == 422
        extended = leader.post(
            f"/api/dossiers/{code}/extend",
            json={"days": 2, "reason": "Chờ kết quả thử nghiệm bổ sung của phòng thí nghiệm."},
        )
        assert extended.status_code == 200, extended.text
        # The new appointment: the committed 3 + 2 working days from Mon 02/03 09:00 = Mon 09/03 09:00.
        assert extended.json()["appointment_at"] == "2026-03-09T09:00:00+07:00"
        again = leader.post(
            f"/api/dossiers/{code}/extend", json={"days": 1, "reason": "Thêm một ngày nữa để xem xét."}
        )
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_extended"
        assert (
            clerk.post(
                f"/api/dossiers/{code}/extend", json={"days": 1, "reason": "Cán bộ không có quyền này."}
            ).status_code
            == 403
        )
        assert leader.complete(code, {"approval_decision": "approve"}).status_code == 200
        dossier = firm.get(f"/api/dossiers/{code}").json()
    kinds = [d["kind"] for d in dossier["documents"]]
    assert "apology_slip" in kinds and "declaration_notice" in kinds
    # An apology does not make a late dossier on time.
    assert dossier["timeliness_committed"] == "late" and dossier["timeliness_legal"] == "early"


def test_at_risk_list_and_timeliness_report(cast, rt):
    firm, clerk, leader = cast["business"], cast["clerk"], cast["leader"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(cast)
        safe, risky = firm.submitted(), firm.submitted()
        clerk.done(safe, {"completeness_decision": "receive"})
        travel.move_to(local(2026, 3, 3, 9, 0))
        clerk.relogin()
        clerk.done(risky, {"completeness_decision": "receive"})  # received Mon too: same appointment
        travel.move_to(local(2026, 3, 4, 10, 0))  # the appointment is Thu 05/03 09:00: within a day
        relogin(cast)
        at_risk = [d["code"] for d in leader.get("/api/reports/at-risk").json()]
        assert set(at_risk) == {safe, risky}
        assert firm.get("/api/reports/at-risk").status_code == 403
        finish(cast, safe)
        assert [d["code"] for d in leader.get("/api/reports/at-risk").json()] == [risky]
        report = leader.get("/api/reports/timeliness?group_by=procedure").json()
        assert report == [
            {
                "group": "cong-bo-hop-chuan-hop-quy",
                "total": 1,
                "early": 1,
                "on_time": 0,
                "late": 0,
                "legal_late": 0,
            }
        ]
        by_month = leader.get("/api/reports/timeliness?group_by=month").json()
        assert by_month[0]["group"] == "03/2026"
        by_officer = leader.get("/api/reports/timeliness?group_by=officer").json()
        assert by_officer[0]["group"] == "Nguyễn Minh Đức"


def test_as_of_moves_the_clock_of_its_own_context_only():
    """Loading past dossiers runs "as of" an earlier instant; a request served meanwhile by another
    thread sees the real clock."""
    import threading
    from datetime import UTC, datetime

    from workflows.clock import as_of, now

    earlier = datetime(2026, 6, 29, 2, 0, tzinfo=UTC)
    seen: list[datetime] = []
    with as_of(earlier):
        assert now() == earlier
        thread = threading.Thread(target=lambda: seen.append(now()))
        thread.start()
        thread.join()
    assert seen[0] > earlier and now() > earlier
