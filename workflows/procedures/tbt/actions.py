"""What the TBT inquiry point adds to the permissions policy (its plug-in's ``permissions``)."""

from workflows.permissions import OFFICERS, Action

_TBT_ONLY = ("Chỉ cán bộ điểm hỏi đáp TBT.", "Only the TBT inquiry point's officers.")
_BUSINESSES_ONLY = ("Chỉ tổ chức, doanh nghiệp.", "Businesses only.")

# A signed-in asker must be a business: officers do not ask with their work account (a visitor
# without an account asks too, and is not asked about).
ASK_WITH_ACCOUNT = Action(
    "tbt.inquiry.ask_with_account",
    ("business",),
    "Gửi câu hỏi TBT bằng tài khoản",
    "Ask the TBT inquiry point with an account",
    "Cán bộ không gửi câu hỏi bằng tài khoản công vụ.",
    "Officers do not ask with their work account.",
)
KB_EDIT = Action(
    "tbt.kb.edit",
    ("tbt_officer",),
    "Sửa, gỡ hỏi đáp đã công bố",
    "Correct or take down a published answer",
    *_TBT_ONLY,
)
WTO_MANAGE = Action(
    "tbt.wto.manage",
    ("tbt_officer",),
    "Đăng ký thông báo WTO, tổng hợp góp ý",
    "Register WTO notifications, compile the comments",
    *_TBT_ONLY,
)
WTO_PAGES = Action(
    "tbt.wto.pages",
    ("tbt_officer",),
    "Trang đăng ký thông báo WTO",
    "The WTO notification registration pages",
    "Trang này dành cho cán bộ điểm hỏi đáp TBT.",
    "This page is for TBT officers.",
)
WTO_COMMENT = Action(
    "tbt.wto.comment",
    ("business",),
    "Góp ý thông báo WTO",
    "Comment on a WTO notification",
    *_BUSINESSES_ONLY,
)
WTO_SUBSCRIBE = Action(
    "tbt.wto.subscribe",
    ("business",),
    "Theo dõi thông báo WTO",
    "Subscribe to WTO notifications",
    *_BUSINESSES_ONLY,
)
SUBSCRIPTION_PAGES = Action(
    "tbt.subscriptions.pages",
    ("business",),
    "Trang theo dõi thông báo WTO",
    "The WTO subscription page",
    "Trang này dành cho doanh nghiệp.",
    "This page is for businesses.",
)
# Officers read every business's comments on a notification; a business reads its own.
WTO_ALL_COMMENTS = Action("tbt.wto.all_comments", (OFFICERS,), "Đọc mọi góp ý", "Read every comment")

ACTIONS = (
    ASK_WITH_ACCOUNT,
    KB_EDIT,
    WTO_MANAGE,
    WTO_PAGES,
    WTO_COMMENT,
    WTO_SUBSCRIBE,
    SUBSCRIPTION_PAGES,
    WTO_ALL_COMMENTS,
)
