"""The metrology database's API: the list of instrument kinds (public), verification bodies and
their keys (the administrator), reports of verification results (a body, by its API key, in the
``X-API-Key`` header), a business's own instruments, an instrument's file (the department's
staff) and the public stamp lookup (by stamp number or the token a stamp's QR code carries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Path, Query, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.deps import PERMISSION_ATTRIBUTE, CurrentUser, Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES, NotAuthenticated
from api.metrology_schemas import (
    BodyIn,
    BodyOut,
    HistoryOut,
    InstrumentFileOut,
    InstrumentIn,
    InstrumentOut,
    InstrumentPageOut,
    InstrumentPatchIn,
    KeyIn,
    KeyOut,
    KindOut,
    NewKeyOut,
    RecordOut,
    ReportIn,
    ReportOut,
    RowOut,
    RowProblemOut,
    StampLostIn,
    StampOut,
    UploadOut,
    WarningActionIn,
    WarningOut,
    WarningPageOut,
    dmy,
)
from api.schemas import Label
from api.uploads import read_limited
from workflows import permissions
from workflows.catalogue import office_day
from workflows.clock import as_utc, now
from workflows.metrology import alerts, bodies, bulk, registration, registry, reports, warning_list
from workflows.metrology.kinds import KINDS
from workflows.metrology.models import VerificationRecord
from workflows.models import User

router = APIRouter(prefix="/api/metrology", tags=["metrology"], responses=ERROR_RESPONSES)
public_router = APIRouter(prefix="/api/public/stamps", tags=["public"], responses=ERROR_RESPONSES)

Admin = Annotated[User, Depends(Permitted(permissions.METROLOGY_BODIES_MANAGE))]
Owner = Annotated[User, Depends(Permitted(permissions.METROLOGY_MY_INSTRUMENTS))]
Staff = Annotated[User, Depends(Permitted(permissions.METROLOGY_READ))]
Inspector = Annotated[User, Depends(Permitted(permissions.METROLOGY_WARNINGS))]
StampReporter = Annotated[User, Depends(Permitted(permissions.METROLOGY_STAMP_LOST))]


def verification_body(
    rt: RuntimeDep,
    x_api_key: Annotated[
        str | None, Header(max_length=200, description="Khóa API của tổ chức kiểm định / The body's API key")
    ] = None,
) -> bodies.BodyPrincipal:
    """The verification body of the request's API key (401 without a valid, unrevoked key), which
    the policy must allow to report."""
    body = bodies.body_of_key(rt, x_api_key)
    if body is None:
        raise NotAuthenticated(
            "Cần khóa API hợp lệ của tổ chức kiểm định (tiêu đề X-API-Key); khóa có thể đã bị thu hồi.",
            "A valid API key of a verification body is required (X-API-Key header); it may have been revoked.",
            "invalid_api_key",
        )
    permissions.require(body, permissions.METROLOGY_REPORT)
    return body


setattr(verification_body, PERMISSION_ATTRIBUTE, permissions.METROLOGY_REPORT.name)
Body = Annotated[bodies.BodyPrincipal, Depends(verification_body)]


# --- the list of kinds ----------------------------------------------------------------------------


@router.get("/kinds", response_model=list[KindOut])
def kinds() -> list[KindOut]:
    """Danh mục phương tiện đo nhóm 2 và chu kỳ kiểm định / Group 2 instrument kinds and intervals."""
    return [
        KindOut(
            code=k.code,
            name=Label(vi=k.name_vi, en=k.name_en),
            interval_months=k.interval_months,
            interval=Label(vi=k.interval_label()[0], en=k.interval_label()[1]),
            confirmed=k.confirmed,
            source=k.source,
            effective_from=dmy(k.effective_from) or "",
        )
        for k in KINDS
    ]


# --- verification bodies and keys (the administrator) ---------------------------------------------


@router.post("/bodies", status_code=status.HTTP_201_CREATED, response_model=BodyOut)
def create_body(payload: BodyIn, rt: RuntimeDep, actor: Admin) -> BodyOut:
    """Đăng ký tổ chức kiểm định / Register a verification body."""
    return BodyOut.of(bodies.create_body(rt, actor, payload.code, payload.name, payload.designation))


@router.get("/bodies", response_model=list[BodyOut])
def list_bodies(rt: RuntimeDep, actor: Admin) -> list[BodyOut]:
    """Các tổ chức kiểm định và khóa API / Verification bodies and their keys."""
    return [BodyOut.of(b, keys) for b, keys in bodies.list_bodies(rt, actor)]


@router.post("/bodies/{body_id}/keys", status_code=status.HTTP_201_CREATED, response_model=NewKeyOut)
def create_key(body_id: RowId, payload: KeyIn, rt: RuntimeDep, actor: Admin) -> NewKeyOut:
    """Cấp khóa API cho tổ chức kiểm định / Give a verification body an API key (shown once)."""
    row, key = bodies.create_key(rt, actor, body_id, payload.label)
    return NewKeyOut(**KeyOut.of(row).model_dump(), key=key)


@router.post("/keys/{key_id}/revoke", response_model=KeyOut)
def revoke_key(key_id: RowId, rt: RuntimeDep, actor: Admin) -> KeyOut:
    """Thu hồi khóa API / Revoke an API key (its next request is refused)."""
    return KeyOut.of(bodies.revoke_key(rt, actor, key_id))


# --- reports (a verification body) ----------------------------------------------------------------


def _outcome_label(outcome: str, number: str) -> Label:
    if outcome == reports.UNCHANGED:
        return Label(
            vi=f"Giấy chứng nhận số {number} đã được báo cáo với cùng nội dung: không có gì thay đổi.",
            en=f"Certificate {number} was already reported with the same content: nothing changed.",
        )
    return Label(vi=f"Đã ghi nhận giấy chứng nhận số {number}.", en=f"Certificate {number} recorded.")


@router.post(
    "/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportOut,
    responses={200: {"model": ReportOut, "description": "Đã báo cáo trước đó / Already reported, unchanged"}},
)
def report(payload: ReportIn, rt: RuntimeDep, body: Body, response: Response) -> ReportOut:
    """Báo cáo một kết quả kiểm định / Report one verification (idempotent by certificate number)."""
    outcome, record = bulk.report_one(rt, body, payload.model_dump())
    if outcome == reports.UNCHANGED:
        response.status_code = status.HTTP_200_OK
    return _report_out(outcome, record, rt.settings.base_url)


def _report_out(outcome: str, record: VerificationRecord, base_url: str) -> ReportOut:
    assert record.id is not None
    return ReportOut(
        outcome=outcome,
        message=_outcome_label(outcome, record.certificate_number),
        record_id=record.id,
        instrument_id=record.instrument_id,
        certificate_number=record.certificate_number,
        stamp_number=record.stamp_number,
        stamp_token=record.stamp_token,
        # The page anyone opens from the stamp's QR code (a failed verification has no stamp).
        stamp_url=f"{base_url.rstrip('/')}/stamps/qr/{record.stamp_token}" if record.stamp_number else None,
        valid_until=dmy(record.valid_until),
    )


@router.post("/reports/upload", response_model=UploadOut)
async def upload(
    rt: RuntimeDep,
    body: Body,
    file: Annotated[UploadFile, File(description="Tệp .csv (UTF-8) hoặc .xlsx, dòng 1 là tiêu đề")],
) -> UploadOut:
    """Báo cáo nhiều kết quả bằng tệp / Report many verifications in a CSV or .xlsx file: the good
    rows are recorded, each bad row is reported with its row number and fields."""
    content = await read_limited(file, rt.settings.max_upload_bytes)
    rows = await run_in_threadpool(reports.read_file, file.filename or "", content)
    outcomes = await run_in_threadpool(bulk.report_rows, rt, body, rows)
    counts = {k: sum(1 for o in outcomes if o.outcome == k) for k in (reports.CREATED, reports.UNCHANGED)}
    rejected = sum(1 for o in outcomes if o.outcome == reports.REJECTED)
    return UploadOut(
        created=counts[reports.CREATED],
        unchanged=counts[reports.UNCHANGED],
        rejected=rejected,
        message=Label(
            vi=f"Đã ghi nhận {counts[reports.CREATED]} dòng mới, {counts[reports.UNCHANGED]} dòng không đổi, "
            f"{rejected} dòng bị từ chối (xem lỗi từng dòng).",
            en=f"{counts[reports.CREATED]} rows recorded, {counts[reports.UNCHANGED]} unchanged, "
            f"{rejected} rejected (see each row's errors).",
        ),
        rows=[
            RowOut(
                row=o.row,
                certificate_number=o.certificate_number,
                outcome=o.outcome,
                record_id=o.record_id,
                stamp_token=o.stamp_token,
                errors=[
                    RowProblemOut(field=p.field, message=p.message, message_en=p.message_en, code=p.code)
                    for p in o.problems
                ],
            )
            for o in outcomes
        ],
    )


@router.get("/reports/template.csv", response_class=Response)
def template(body: Body) -> Response:
    """Tệp mẫu (dòng tiêu đề) / The file template (the header row)."""
    return Response(
        ",".join(reports.COLUMNS) + "\r\n",
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="bao-cao-kiem-dinh.csv"'},
    )


# --- a business's own instruments -----------------------------------------------------------------


StatusFilter = Annotated[
    str | None, Query(pattern="^(verified|expiring_soon|overdue|failed|never_verified)$")
]


@router.get("/my-instruments", response_model=InstrumentPageOut)
def my_instruments(
    rt: RuntimeDep,
    actor: Owner,
    status_filter: Annotated[StatusFilter, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> InstrumentPageOut:
    """Phương tiện đo của doanh nghiệp và tình trạng kiểm định / The business's instruments and status."""
    page = registry.own_instruments(rt, actor, status_filter, limit, offset)
    return InstrumentPageOut(items=[InstrumentOut.of(i, page.today) for i in page.items], total=page.total)


# --- registering an instrument (its owner, or an officer for any owner) --------------------------


@router.post("/instruments", status_code=status.HTTP_201_CREATED, response_model=InstrumentOut)
def register_instrument(payload: InstrumentIn, rt: RuntimeDep, actor: CurrentUser) -> InstrumentOut:
    """Đăng ký phương tiện đo đang sử dụng / Register an instrument in use: a business its own
    (metrology.register_own), a specialist or leader anyone's (metrology.register)."""
    instrument = registration.register(rt, actor, payload.model_dump())
    return InstrumentOut.of(instrument, office_day(now()))


@router.patch("/instruments/{instrument_id}", response_model=InstrumentOut)
def correct_instrument(
    instrument_id: RowId, payload: InstrumentPatchIn, rt: RuntimeDep, actor: CurrentUser
) -> InstrumentOut:
    """Sửa thông tin đăng ký / Correct a registration: the owner until the first verification,
    an officer at any time; a stale version is refused (409)."""
    changes = payload.model_dump(exclude_unset=True, exclude={"version"})
    instrument = registration.correct(rt, actor, instrument_id, payload.version, changes)
    return InstrumentOut.of(instrument, office_day(now()))


# --- an instrument's file (the department) --------------------------------------------------------


@router.get("/instruments/{instrument_id}", response_model=InstrumentFileOut)
def instrument_file(instrument_id: RowId, rt: RuntimeDep, actor: Staff) -> InstrumentFileOut:
    """Hồ sơ phương tiện đo: các lần kiểm định và lịch sử / An instrument, its verifications and history."""
    found = registry.instrument_file(rt, actor, instrument_id)
    i = found.instrument
    return InstrumentFileOut(
        instrument=InstrumentOut.of(i, found.today),
        owner_type=i.owner_type,
        owner_name=i.owner_name,
        owner_tax_code=i.owner_tax_code,
        records=[
            RecordOut(
                id=r.id or 0,
                body=name,
                certificate_number=r.certificate_number,
                stamp_number=r.stamp_number,
                verified_on=dmy(r.verified_on) or "",
                result=r.result,
                valid_until=dmy(r.valid_until),
            )
            for r, name in found.records
        ],
        history=[
            HistoryOut(
                seq=e.seq,
                action=e.action,
                at=as_utc(e.at).isoformat(),
                actor=e.actor_label,
                details=e.details,
            )
            for e in found.history
        ],
    )


# --- violation warnings (specialists and leaders) and lost stamps ----------------------------------


@router.get("/warnings", response_model=WarningPageOut)
def warnings(
    rt: RuntimeDep,
    actor: Inspector,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    commune: Annotated[str | None, Query(max_length=120)] = None,
    cause: Annotated[str | None, Query(pattern="^(overdue|failed|stamp_lost|unverified)$")] = None,
    closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> WarningPageOut:
    """Cảnh báo vi phạm, lâu nhất trước / Violation warnings, longest-standing first."""
    page = warning_list.warnings(
        rt, actor, kind=kind, commune=commune, cause=cause, closed=closed, limit=limit, offset=offset
    )
    return WarningPageOut(
        items=[WarningOut.of(row.warning, row.instrument, page.today) for row in page.items], total=page.total
    )


@router.post("/warnings/{warning_id}/actions", response_model=WarningOut)
def handle_warning(warning_id: RowId, body: WarningActionIn, rt: RuntimeDep, actor: Inspector) -> WarningOut:
    """Xử lý cảnh báo: lên kế hoạch kiểm tra, đã liên hệ chủ, đóng kèm lý do / Handle a warning."""
    warning = warning_list.handle(rt, actor, warning_id, body.action, body.version, body.note)
    return WarningOut.of(warning, warning_list.warning_instrument(rt, warning), office_day(now()))


@router.post("/stamps/{stamp_number}/lost", status_code=status.HTTP_201_CREATED, response_model=WarningOut)
def report_stamp_lost(
    stamp_number: Annotated[str, Path(max_length=60)], body: StampLostIn, rt: RuntimeDep, actor: StampReporter
) -> WarningOut:
    """Báo mất tem kiểm định (chủ phương tiện đo hoặc cán bộ) / Report a verification stamp lost."""
    warning = alerts.report_stamp_lost(rt, actor, stamp_number, body.note)
    return WarningOut.of(warning, warning_list.warning_instrument(rt, warning), office_day(now()))


# --- the public stamp lookup ----------------------------------------------------------------------


@public_router.get("/qr/{token}", response_model=StampOut)
def stamp_by_token(
    token: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")], rt: RuntimeDep
) -> StampOut:
    """Tra cứu tem qua mã QR / Check a stamp by the token its QR code carries."""
    return StampOut.of(registry.lookup_stamp_token(rt, token))


@public_router.get("/{stamp_number}", response_model=StampOut)
def stamp(stamp_number: Annotated[str, Path(max_length=60)], rt: RuntimeDep) -> StampOut:
    """Tra cứu tem kiểm định theo số tem / Check a verification stamp by its number."""
    return StampOut.of(registry.lookup_stamp(rt, stamp_number))
