"""No login: look a dossier up by its code; verify a document by its verification code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.bounds import Day
from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import Label
from api.uploads import read_limited
from api.verification_schemas import FileCheckOut, PublicDossierOut, VerifiedDocumentOut
from workflows import queries, statistics, verification
from workflows.catalogue import office_day
from workflows.clock import format_date, now
from workflows.statuses import status_label

router = APIRouter(prefix="/api/public", tags=["public"], responses=ERROR_RESPONSES)


@router.get("/dossiers/{code}", response_model=PublicDossierOut)
def lookup(code: str, rt: RuntimeDep) -> PublicDossierOut:
    """Tra cứu tình trạng hồ sơ / Dossier status and appointment date only."""
    dossier = queries.public_lookup(rt, code)
    procedure = rt.catalogue.for_dossier(dossier)
    vi, en = status_label(dossier.status)
    return PublicDossierOut(
        code=dossier.code,
        procedure=Label(
            vi=procedure.name_vi if procedure else dossier.procedure_code,
            en=procedure.name_en if procedure else dossier.procedure_code,
        ),
        status=dossier.status,
        status_label=Label(vi=vi, en=en),
        appointment_date=format_date(dossier.appointment_at) or None,
    )


@router.get("/documents/{verification_code}", response_model=VerifiedDocumentOut)
def verify(verification_code: str, rt: RuntimeDep) -> VerifiedDocumentOut:
    """Xác thực văn bản theo mã / Verify a document by its code (what its QR code opens)."""
    return VerifiedDocumentOut.of(queries.verify_document(rt, verification_code))


@router.post("/documents/check", response_model=FileCheckOut)
async def check_file(
    rt: RuntimeDep,
    file: Annotated[
        UploadFile, File(description="Tệp văn bản nhận được (PDF hoặc .docx) / The file you were given")
    ],
) -> FileCheckOut:
    """Kiểm tra tệp văn bản: có đúng là văn bản đã phát hành, chữ ký số có hợp lệ / Is this file the
    issued document, and is its signature valid? Any file is accepted; nothing is stored."""
    content = await read_limited(file, rt.settings.max_upload_bytes)
    # Checking a signature is CPU work (and pyHanko runs its own event loop): off the server's loop.
    return FileCheckOut.of(await run_in_threadpool(verification.check_file, rt, content))


class FiguresOut(BaseModel):
    """Counts of one procedure in one month ("YYYY-MM"), or summed ("" month: the whole period;
    "" procedure: every procedure). Shares are fractions (0–1); None where nothing was counted."""

    procedure: str
    month: str
    received: int
    online: int
    online_share: float | None
    resolved: int
    early: int
    on_time: int
    late: int
    in_time_share: float | None
    legal_late: int
    average_processing_days: float | None
    rating_count: int
    average_rating: float | None

    @classmethod
    def of(cls, row: statistics.Figures) -> FiguresOut:
        return cls(
            procedure=row.procedure_code,
            month=row.month,
            received=row.received,
            online=row.online,
            online_share=row.online_share,
            resolved=row.resolved,
            early=row.early,
            on_time=row.on_time,
            late=row.late,
            in_time_share=row.in_time_share,
            legal_late=row.legal_late,
            average_processing_days=row.average_processing_days,
            rating_count=row.rating_count,
            average_rating=row.average_rating,
        )


class StatisticsOut(BaseModel):
    date_from: str
    date_to: str
    rows: list[FiguresOut]
    by_procedure: list[FiguresOut]
    total: FiguresOut
    notes: list[Label]


NOTES = [
    Label(
        vi="Hồ sơ trực tuyến là hồ sơ nộp qua cổng; hồ sơ giấy nộp trực tiếp tại bộ phận một cửa không được ghi nhận trong hệ thống này.",
        en="Online dossiers are those filed through the portal; paper dossiers filed at the desk are not recorded in this system.",
    ),
    Label(
        vi="Các chỉ số công khai, minh bạch và số hóa hồ sơ giấy của Quyết định 766/QĐ-TTg không tính được từ dữ liệu hồ sơ.",
        en="Decision 766's transparency and paper-digitisation indicators cannot be derived from the dossiers.",
    ),
]


@router.get("/statistics", response_model=StatisticsOut)
def public_statistics(
    rt: RuntimeDep,
    date_from: Annotated[Day | None, Query(description="YYYY-MM-DD; mặc định 01/01 năm nay")] = None,
    date_to: Annotated[Day | None, Query(description="YYYY-MM-DD, inclusive; mặc định hôm nay")] = None,
    procedure: Annotated[str, Query(max_length=60)] = "",
) -> StatisticsOut:
    """Thống kê giải quyết thủ tục (Quyết định 766/QĐ-TTg) / Public service figures per procedure and month."""
    start, end = statistics.period(date_from, date_to, office_day(now()))
    code = procedure if procedure in rt.catalogue.procedures else None
    stats = statistics.compute(rt, start, end, code)
    return StatisticsOut(
        date_from=start.isoformat(),
        date_to=end.isoformat(),
        rows=[FiguresOut.of(r) for r in stats.rows],
        by_procedure=[FiguresOut.of(r) for r in stats.by_procedure],
        total=FiguresOut.of(stats.total),
        notes=NOTES,
    )
