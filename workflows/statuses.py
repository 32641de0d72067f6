"""The dossier statuses people see, with their Vietnamese and English labels.

Open statuses come from the ``dossierStatus`` property of the waiting user task in the model;
closed ones from the ``outcome`` of the model's ``tdcflow/close`` step, or from a withdrawal. The
statuses here are every procedure's; a procedure's own come with its plug-in.
"""

from __future__ import annotations

from workflows.plugins import plugin_statuses

CORE_STATUS_LABELS: dict[str, tuple[str, str]] = {
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
}


def status_labels() -> dict[str, tuple[str, str]]:
    """Every status known now: the core's and those of the plug-ins loaded."""
    return {**CORE_STATUS_LABELS, **plugin_statuses()}


def status_label(status: str) -> tuple[str, str]:
    return status_labels().get(status, (status, status))
