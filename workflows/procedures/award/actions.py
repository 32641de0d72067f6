"""What the National Quality Award adds to the permissions policy (its plug-in's ``permissions``)."""

from workflows.permissions import OFFICERS, Action

ROUND_MANAGE = Action(
    "award.round.manage",
    ("admin",),
    "Mở và sửa đợt xét giải",
    "Open and edit an award round",
    "Chỉ quản trị viên được mở và sửa đợt xét giải.",
    "Only an administrator can open or edit an award round.",
)
RECOMMENDATIONS_ISSUE = Action(
    "award.recommendations.issue",
    ("leader",),
    "Ban hành danh sách đề xuất",
    "Issue the recommendation list",
    "Chỉ lãnh đạo Sở ban hành danh sách đề xuất.",
    "Only a leader of the department issues the recommendation list.",
)
# Officers read the issued lists and the council's aggregated scores; to anyone else an issued
# list is "not found".
RESULTS_READ = Action(
    "award.results.read", (OFFICERS,), "Xem điểm tổng hợp và danh sách đề xuất", "Read the scores and lists"
)

ACTIONS = (ROUND_MANAGE, RECOMMENDATIONS_ISSUE, RESULTS_READ)
