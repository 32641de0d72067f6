"""National Quality Award (provincial preliminary assessment): yearly rounds and their registration
window, the council's independent scoring (sealed until aggregated), the recommendation list of a
round, the award's documents and statuses, and its demo."""

from pathlib import Path

from workflows.plugins import NavLink, ProcedurePlugin
from workflows.procedures.award import documents, recommendations  # noqa: F401  (document kinds, finder)
from workflows.procedures.award.actions import ACTIONS, RESULTS_READ
from workflows.procedures.award.criteria import check_parameters, fit_form
from workflows.procedures.award.demo import DEMO_ACCOUNTS, make_demo
from workflows.procedures.award.documents import extra_values
from workflows.procedures.award.eligibility import check_eligibility
from workflows.procedures.award.privacy import AwardPrivacy
from workflows.procedures.award.rounds import round_facts
from workflows.procedures.award.scoring import script_functions
from workflows.procedures.award.window import AWARD_WINDOW

PLUGIN = ProcedurePlugin(
    name="award",
    document_kinds=("award_scoring_sheet", "award_letter", "award_recommendation_list"),
    statuses={
        "scoring": ("Hội đồng đang chấm điểm", "Being scored by the council"),
        "awaiting_decision": (
            "Chờ lãnh đạo xử lý (không có phiếu chấm)",
            "Awaiting a decision (nobody scored)",
        ),
        "site_visit": ("Chờ đánh giá tại cơ sở", "Awaiting the site visit"),
        "recommended": ("Được đề xuất lên Hội đồng quốc gia", "Recommended to the national council"),
        "not_recommended": ("Không được đề xuất", "Not recommended"),
    },
    roles={"council": ("Hội đồng sơ tuyển", "Preliminary council")},
    permissions=ACTIONS,
    document_values={"award_scoring_sheet": extra_values, "award_letter": extra_values},
    start_facts=round_facts,
    start_window=AWARD_WINDOW,
    script_functions=script_functions,
    check_parameters=check_parameters,
    fit_form=fit_form,
    check_start=check_eligibility,
    privacy=AwardPrivacy(),
    demo_accounts=DEMO_ACCOUNTS,
    demo=make_demo,
    web_module="api.procedures.award",
    templates=Path(__file__).resolve().parent / "templates",
    nav=(
        NavLink(
            "main", "/award/rounds", "Giải thưởng chất lượng", "Quality award", audience=RESULTS_READ.name
        ),
        NavLink("admin", "/admin/award-rounds", "Đợt xét giải thưởng", "Award rounds", audience="admins"),
    ),
)
