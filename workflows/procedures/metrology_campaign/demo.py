"""Demo inspection campaigns (``make run``): one plan waiting for the leader, one in the field with
its first site recorded (an instrument not in the registry, which the demo's registry may lack)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from workflows import commands, submission
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.demo import LEADER, SPECIALIST, demo_user, open_task
from workflows.runtime import Runtime

PROCEDURE = "kiem-tra-do-luong"


def _plan(title: str, kinds: list[str]) -> dict[str, Any]:
    today = office_day(now())
    return {
        "plan": {
            "title": title,
            "legal_basis": "Luật Đo lường năm 2011; kế hoạch kiểm tra năm của Sở",
            "period_from": today.isoformat(),
            "period_to": (today + timedelta(days=14)).isoformat(),
            "areas": ["Phường Đông Hà", "Phường Đồng Hới"],
            "instrument_kinds": kinds,
            "team": ["Trần Văn Nam, chuyên viên"],
        }
    }


def make_demo(rt: Runtime) -> list[str]:
    specialist, leader = demo_user(rt, SPECIALIST), demo_user(rt, LEADER)
    waiting, _ = submission.submit_dossier(
        rt, specialist, PROCEDURE, _plan("Kiểm tra cột đo xăng dầu quý IV", ["fuel_dispenser"])
    )
    in_field, _ = submission.submit_dossier(
        rt, specialist, PROCEDURE, _plan("Kiểm tra cân tại chợ, taximet", ["platform_scale", "taximeter"])
    )
    commands.complete_task(
        rt, leader, open_task(rt, in_field.code, "approve_plan"), {"plan_decision": "approve"}
    )
    site = {
        "owner_name": "Hộ kinh doanh Nguyễn Thị Lan",
        "address": "Chợ Đông Hà, ki-ốt 14",
        "commune": "Phường Đông Hà",
        "visited_on": office_day(now()).isoformat(),
        "findings": [
            {
                "unregistered": {"kind": "platform_scale", "model": "TCS-150", "serial_number": "C-77"},
                "result": "other_violation",
                "note": "Cân chưa kiểm định, sai số vượt mức cho phép",
            }
        ],
    }
    commands.complete_task(
        rt, specialist, open_task(rt, in_field.code, "record_site"), {"site": site, "more_sites": True}
    )
    return [waiting.code, in_field.code]
