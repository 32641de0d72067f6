"""The certificate a declaration rests on: the notice is valid only while it is (Circular 28/2012
as amended by 02/2017), so officers are warned when it has expired or expires before the result
is due while the dossier is open."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any


def certificate_warnings(
    data: Mapping[str, Any], today: date, appointment: date | None
) -> list[tuple[str, str]]:
    """[(Vietnamese, English)] for an open dossier whose certificate ran out or will before the
    appointment; nothing for a self-assessed declaration."""
    if data.get("basis") != "certificate":
        return []
    certificate = data.get("certificate") or {}
    try:
        until = date.fromisoformat(str(certificate.get("valid_until") or ""))
    except ValueError:
        return []
    number = str(certificate.get("number") or "")
    if until < today:
        return [
            (
                f"Giấy chứng nhận số {number} đã hết hiệu lực từ ngày {until:%d/%m/%Y}: thông báo tiếp nhận "
                "không thể có hiệu lực.",
                f"Certificate {number} expired on {until:%d/%m/%Y}: a notice of receipt could not be valid.",
            )
        ]
    if appointment is not None and until < appointment:
        return [
            (
                f"Giấy chứng nhận số {number} hết hiệu lực ngày {until:%d/%m/%Y}, trước ngày hẹn trả kết quả "
                f"{appointment:%d/%m/%Y}.",
                f"Certificate {number} expires on {until:%d/%m/%Y}, before the appointment on "
                f"{appointment:%d/%m/%Y}.",
            )
        ]
    return []
