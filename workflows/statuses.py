"""The dossier statuses people see, with their Vietnamese and English labels.

Open statuses come from the ``dossierStatus`` property of the waiting user task in the model;
closed ones from the ``outcome`` of the model's ``tdcflow/close`` step, or from a withdrawal.
"""

from __future__ import annotations

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "submitted": ("Đã nộp", "Submitted"),
    "awaiting_receipt": ("Chờ tiếp nhận", "Awaiting receipt"),
    "supplement_requested": ("Yêu cầu bổ sung", "Supplement requested"),
    "processing": ("Đang xử lý", "Being processed"),
    "awaiting_approval": ("Chờ phê duyệt", "Awaiting approval"),
    "issued": ("Đã trả kết quả", "Result issued"),
    "rejected": ("Không tiếp nhận", "Rejected"),
    "refused": ("Từ chối tiếp nhận", "Refused"),
    "withdrawn": ("Đã rút hồ sơ", "Withdrawn"),
    "expired": ("Dừng xử lý do quá hạn bổ sung", "Stopped: supplement not received in time"),
    "completed": ("Đã hoàn thành", "Completed"),
    # State quality inspection of imported goods
    "awaiting_confirmation": ("Chờ xác nhận đăng ký", "Awaiting confirmation of the registration"),
    "awaiting_clearance": ("Chờ báo cáo thông quan", "Awaiting the customs clearance report"),
    "awaiting_certificate": ("Chờ nộp chứng chỉ chất lượng", "Awaiting the certificate"),
    "certificate_overdue": ("Quá hạn nộp chứng chỉ chất lượng", "Certificate overdue"),
    "recorded": ("Đã ghi nhận (biện pháp 1)", "Recorded (measure 1)"),
    "passed": ("Đáp ứng yêu cầu chất lượng", "Meets the quality requirements"),
    "failed": ("Không đáp ứng yêu cầu chất lượng", "Does not meet the quality requirements"),
    # TBT inquiry point
    "tbt_classifying": ("Đang phân loại câu hỏi", "Being classified"),
    "tbt_awaiting_reply": ("Đã chuyển, chờ ý kiến cơ quan chuyên môn", "Forwarded, awaiting the reply"),
    "tbt_answering": ("Đang soạn câu trả lời", "Answer being written"),
    "tbt_publishing": ("Đã trả lời, đang biên tập để công bố", "Answered; being edited for publication"),
    "answered": ("Đã trả lời", "Answered"),
    # National Quality Award
    "scoring": ("Hội đồng đang chấm điểm", "Being scored by the council"),
    "awaiting_decision": ("Chờ lãnh đạo xử lý (không có phiếu chấm)", "Awaiting a decision (nobody scored)"),
    "site_visit": ("Chờ đánh giá tại cơ sở", "Awaiting the site visit"),
    "recommended": ("Được đề xuất lên Hội đồng quốc gia", "Recommended to the national council"),
    "not_recommended": ("Không được đề xuất", "Not recommended"),
}


def status_label(status: str) -> tuple[str, str]:
    return STATUS_LABELS.get(status, (status, status))
