"""State quality inspection of imported goods: its documents, statuses, the confirmation event the
customs partner hears of, the importer's history its measure table reads, and its demo."""

from pathlib import Path

from workflows.plugins import EventType, ProcedurePlugin
from workflows.procedures.import_inspection import documents  # noqa: F401  (registers its document kinds)
from workflows.procedures.import_inspection.demo import make_demo
from workflows.procedures.import_inspection.history import import_history

PLUGIN = ProcedurePlugin(
    name="import_inspection",
    document_kinds=("import_registration_confirmation", "import_inspection_result"),
    statuses={
        "awaiting_confirmation": ("Chờ xác nhận đăng ký", "Awaiting confirmation of the registration"),
        "awaiting_clearance": ("Chờ báo cáo thông quan", "Awaiting the customs clearance report"),
        "awaiting_certificate": ("Chờ nộp chứng chỉ chất lượng", "Awaiting the certificate"),
        "certificate_overdue": ("Quá hạn nộp chứng chỉ chất lượng", "Certificate overdue"),
        "recorded": (
            "Đã ghi nhận, không kiểm tra nhà nước tại cửa khẩu",
            "Recorded: no state inspection at the border",
        ),
        "passed": ("Đáp ứng yêu cầu chất lượng", "Meets the quality requirements"),
        "failed": ("Không đáp ứng yêu cầu chất lượng", "Does not meet the quality requirements"),
    },
    event_types=(EventType("registration_confirmed", applicant_hears=True, model_may_emit=True),),
    start_facts=import_history,
    demo=make_demo,
    web_module="api.procedures.import_inspection",
    templates=Path(__file__).resolve().parent / "templates",
)
