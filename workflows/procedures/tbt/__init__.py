"""The TBT inquiry point (điểm hỏi đáp TBT, domain.md §4): inquiries from businesses and visitors,
the knowledge base of published answers, WTO TBT notifications with subscriptions and comments."""

from pathlib import Path

from workflows.plugins import EventType, NavLink, ProcedurePlugin
from workflows.procedures.tbt import documents, knowledge, models, wto  # noqa: F401  (tables, kinds, finder)
from workflows.procedures.tbt.actions import ACTIONS
from workflows.procedures.tbt.demo import DEMO_ACCOUNTS, make_demo
from workflows.procedures.tbt.operators import pause_ceiling, publish, remind
from workflows.procedures.tbt.rules import script_functions
from workflows.procedures.tbt.visitors import visitor_link

PLUGIN = ProcedurePlugin(
    name="tbt",
    document_kinds=("tbt_forward_letter", "tbt_answer", "tbt_decline_slip", "tbt_wto_comments"),
    statuses={
        "tbt_classifying": ("Đang phân loại câu hỏi", "Being classified"),
        "tbt_awaiting_reply": ("Đã chuyển, chờ ý kiến cơ quan chuyên môn", "Forwarded, awaiting the reply"),
        "tbt_answering": ("Đang soạn câu trả lời", "Answer being written"),
        "tbt_publishing": ("Đã trả lời, đang biên tập để công bố", "Answered; being edited for publication"),
        "answered": ("Đã trả lời", "Answered"),
        "tbt_declined": ("Từ chối trả lời (ngoài phạm vi)", "Declined (out of scope)"),
    },
    roles={"tbt_officer": ("Điểm hỏi đáp TBT", "TBT inquiry point")},
    permissions=ACTIONS,
    event_types=(
        EventType("tbt_inquiry_forwarded", applicant_hears=True, model_may_emit=True),
        EventType("tbt_answer_issued", applicant_hears=True, model_may_emit=True),
        EventType("tbt_inquiry_declined", applicant_hears=True, model_may_emit=True),
        EventType("tbt_reply_overdue", roles=("tbt_officer",)),
        # The paused clock reached its ceiling: it counts again, and the leaders hear of it.
        EventType("tbt_pause_ceiling_reached", roles=("leader", "tbt_officer")),
        EventType("wto_notification_alert", users_key="user_ids"),
    ),
    operators={"tbt_publish": publish, "tbt_remind": remind, "tbt_pause_ceiling": pause_ceiling},
    script_functions=script_functions,
    processing_role="tbt_officer",
    # A question is received on submission: the inquiry point receives it (Decision 46/2017/QĐ-TTg
    # names the provincial inquiry points), no officer in person.
    receiving_unit="Điểm hỏi đáp TBT tỉnh {place}",
    visitor_link=visitor_link,
    demo_accounts=DEMO_ACCOUNTS,
    demo=make_demo,
    web_module="api.procedures.tbt",
    templates=Path(__file__).resolve().parent / "templates",
    nav=(NavLink("main", "/tbt", "Hỏi đáp TBT", "TBT inquiries"),),
    history_labels={
        "tbt_published": ("Công bố hỏi đáp trong cơ sở dữ liệu", "Q&A published in the knowledge base"),
        "tbt_reply_reminder": (
            "Nhắc đôn đốc cơ quan được chuyển câu hỏi",
            "Reminder to chase the body the inquiry was forwarded to",
        ),
        "tbt_pause_ceiling": (
            "Quá thời gian tạm dừng tối đa: tiếp tục tính thời gian, báo lãnh đạo",
            "Longest pause reached: the clock counts again, the leader is told",
        ),
        "tbt_entry_edited": ("Sửa hỏi đáp đã công bố", "Published answer corrected"),
        "tbt_entry_unpublished": ("Gỡ hỏi đáp khỏi cơ sở dữ liệu", "Published answer taken down"),
    },
    pause_labels={
        "forwarded": (
            (
                "Chuyển câu hỏi xin ý kiến (tạm dừng tính thời gian)",
                "Inquiry forwarded for an opinion (clock paused)",
            ),
            ("Nhận ý kiến trả lời (tiếp tục tính thời gian)", "Reply received (clock resumed)"),
        )
    },
)
