"""What the inspection campaign adds to the permissions policy (its plug-in's ``permissions``):
specialists open a campaign and record it; leaders approve (the model's leader lane) and read."""

from workflows.permissions import Action

OPEN = Action(
    "metrology.campaign.open",
    ("specialist",),
    "Lập kế hoạch kiểm tra về đo lường",
    "Open a metrology inspection campaign",
    "Chỉ chuyên viên lập kế hoạch kiểm tra.",
    "Only specialists open an inspection campaign.",
)
READ = Action(
    "metrology.campaign.read",
    ("specialist", "leader"),
    "Xem các đợt kiểm tra về đo lường",
    "Read the metrology inspection campaigns",
    "Chỉ chuyên viên và lãnh đạo xem các đợt kiểm tra.",
    "Only specialists and leaders read the inspection campaigns.",
)
ACTIONS = (OPEN, READ)
