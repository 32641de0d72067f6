"""The dossier register (Sổ theo dõi hồ sơ, Mẫu số 07 of Circular 03/2025/TT-VPCP): every dossier
the one-stop unit received in a period, with its receipt, appointment, result and how it ended,
as officers read it on a page and keep it as a spreadsheet.

The columns follow the register the one-stop rules have asked for since Circular 01/2018 (the
code, the procedure, the applicant and how to reach them, receipt, appointment, result and return,
a note); the exact columns of the 2025 form are (check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlmodel import col, select

from workflows.clock import as_utc, format_datetime
from workflows.db import reading
from workflows.models import Dossier
from workflows.runtime import Runtime
from workflows.statuses import status_label

# What the register lists at most at once: a year of a busy department fits; a wider period is
# refused by the caller rather than read in full.
MAX_ROWS = 20_000


@dataclass(frozen=True)
class RegisterRow:
    code: str
    procedure_vi: str
    procedure_en: str
    applicant: str
    tax_code: str
    contact: str  # address, phone
    received_at: datetime | None  # aware UTC; None: submitted, not yet received
    submitted_at: datetime
    appointment_at: datetime | None
    completed_at: datetime | None
    status_vi: str
    status_en: str
    timeliness: str | None  # early / on_time / late against the appointment


def register_rows(
    rt: Runtime, day_from: date, day_to: date, procedure_code: str | None = None
) -> list[RegisterRow]:
    """Dossiers received (or, not yet received, submitted) from ``day_from`` to ``day_to``
    inclusive (office days), oldest first."""
    zone = rt.calendar.zone
    start = datetime.combine(day_from, time.min, zone)
    end = datetime.combine(day_to + timedelta(days=1), time.min, zone)
    query = select(Dossier).where(col(Dossier.submitted_at) >= start, col(Dossier.submitted_at) < end)
    if procedure_code:
        query = query.where(Dossier.procedure_code == procedure_code)
    with reading(rt.engine) as session:
        dossiers = session.exec(
            query.order_by(col(Dossier.submitted_at), col(Dossier.id)).limit(MAX_ROWS)
        ).all()
    rows = []
    for dossier in dossiers:
        procedure = rt.catalogue.for_dossier(dossier)
        section = procedure.applicant_section_of(dossier.data) if procedure else {}
        contact = ", ".join(str(v) for v in (section.get("address"), section.get("phone")) if v)
        status_vi, status_en = status_label(dossier.status)
        rows.append(
            RegisterRow(
                code=dossier.code,
                procedure_vi=procedure.name_vi if procedure else dossier.procedure_code,
                procedure_en=procedure.name_en if procedure else dossier.procedure_code,
                applicant=dossier.applicant_name,
                tax_code=dossier.applicant_tax_code
                or ((procedure.tax_code_of(dossier.data) or "") if procedure else ""),
                contact=contact,
                received_at=as_utc(dossier.received_at) if dossier.received_at else None,
                submitted_at=as_utc(dossier.submitted_at),
                appointment_at=as_utc(dossier.appointment_at) if dossier.appointment_at else None,
                completed_at=as_utc(dossier.completed_at) if dossier.completed_at else None,
                status_vi=status_vi,
                status_en=status_en,
                timeliness=dossier.timeliness_committed,
            )
        )
    return rows


TIMELINESS_VI = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Trễ hạn"}
HEADINGS = (
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục hành chính",
    "Tên tổ chức, cá nhân",
    "Mã số thuế",
    "Địa chỉ, số điện thoại",
    "Ngày nộp",
    "Ngày tiếp nhận",
    "Ngày hẹn trả kết quả",
    "Ngày có kết quả",
    "Tình trạng",
    "Trước hạn / đúng hạn / trễ hạn",
)


def register_xlsx(rows: list[RegisterRow], day_from: date, day_to: date, agency_name: str) -> bytes:
    """The register as a spreadsheet with Vietnamese headings (instants "HH:MM dd/mm/yyyy" in office time, as the pages show them)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "So theo doi ho so"
    sheet.append(["SỔ THEO DÕI HỒ SƠ (Mẫu số 07, Thông tư 03/2025/TT-VPCP)"])
    sheet.append([f"{agency_name} — từ ngày {day_from:%d/%m/%Y} đến ngày {day_to:%d/%m/%Y}"])
    sheet.append(list(HEADINGS))
    sheet["A1"].font = Font(bold=True, size=13)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for number, row in enumerate(rows, start=1):
        sheet.append(
            [
                number,
                row.code,
                row.procedure_vi,
                row.applicant,
                row.tax_code,
                row.contact,
                format_datetime(row.submitted_at),
                format_datetime(row.received_at),
                format_datetime(row.appointment_at),
                format_datetime(row.completed_at),
                row.status_vi,
                TIMELINESS_VI.get(row.timeliness or "", ""),
            ]
        )
    for letter, width in zip("ABCDEFGHIJKL", (5, 30, 40, 35, 14, 35, 17, 17, 17, 17, 28, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
