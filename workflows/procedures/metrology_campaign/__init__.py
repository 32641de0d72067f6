"""The metrology inspection campaign (issue 18): the department's officers plan a campaign, a
leader approves it, the team records each site visited and its findings per instrument, decides
how each violation is handled (the metrology warning list follows), and the leader issues the
report. Internal: started by a specialist (``started_by``), never by a business."""

from pathlib import Path

from workflows.plugins import NavLink, ProcedurePlugin
from workflows.procedures.metrology_campaign import models  # noqa: F401  (its table)
from workflows.procedures.metrology_campaign.actions import ACTIONS, OPEN, READ
from workflows.procedures.metrology_campaign.demo import make_demo
from workflows.procedures.metrology_campaign.documents import REPORT, issue_report
from workflows.procedures.metrology_campaign.findings import handle_violations, record_site
from workflows.procedures.metrology_campaign.rules import check_parameters, check_plan, script_functions

PLUGIN = ProcedurePlugin(
    name="metrology_campaign",
    document_kinds=(REPORT,),
    statuses={
        "campaign_plan_review": (
            "Kế hoạch kiểm tra chờ lãnh đạo duyệt",
            "Plan awaiting the leader's approval",
        ),
        "campaign_plan_revision": ("Kế hoạch kiểm tra đang được sửa", "Plan being revised"),
        "campaign_in_field": ("Đang kiểm tra tại cơ sở", "Sites being inspected"),
        "campaign_handling": ("Đang xử lý vi phạm", "Violations being handled"),
        "campaign_reporting": ("Đang lập báo cáo", "Report being drafted"),
        "campaign_report_review": ("Báo cáo chờ lãnh đạo duyệt", "Report awaiting the leader's approval"),
        "campaign_reported": ("Đã ban hành báo cáo", "Report issued"),
        "campaign_cancelled": ("Kế hoạch không được duyệt", "Plan not approved"),
    },
    permissions=ACTIONS,
    started_by=OPEN,
    operators={
        "campaign_record_site": record_site,
        "campaign_handle": handle_violations,
        "campaign_issue_report": issue_report,
    },
    script_functions=script_functions,
    check_parameters=check_parameters,
    check_start=check_plan,
    demo=make_demo,
    templates=Path(__file__).resolve().parent / "templates",
    web_module="api.procedures.metrology_campaign",
    nav=(
        NavLink(
            "main",
            "/work/dossiers?procedure=kiem-tra-do-luong",
            "Kiểm tra đo lường",
            "Metrology inspections",
            READ.name,
        ),
    ),
    history_labels={
        "campaign_site_recorded": ("Ghi nhận kết quả kiểm tra tại cơ sở", "Site inspection recorded"),
        "campaign_violations_handled": (
            "Quyết định biện pháp xử lý vi phạm",
            "Action on the violations decided",
        ),
    },
)
