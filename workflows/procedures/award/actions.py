"""What the National Quality Award adds to the permissions policy (its plug-in's ``permissions``)."""

from workflows.permissions import DEPARTMENT_ROLES, Action

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
# The department's staff and the council read the rounds, the aggregated scores and the lists (a
# council member only of the rounds they sit on: rounds.may_read_round); to anyone else a round
# and its lists are "not found".
RESULTS_READ = Action(
    "award.results.read",
    (*DEPARTMENT_ROLES, "council"),
    "Xem đợt xét giải, điểm tổng hợp và danh sách đề xuất",
    "Read the award rounds, the scores and the lists",
    "Chỉ cán bộ của Sở và thành viên hội đồng xem đợt xét giải.",
    "Only the department's staff and the council read the award rounds.",
)

ACTIONS = (ROUND_MANAGE, RECOMMENDATIONS_ISSUE, RESULTS_READ)
