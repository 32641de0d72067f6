"""The metrology database's API: the list of instrument kinds (public), verification bodies and
their keys (the administrator), reports of verification results (a body, by its API key, in the
``X-API-Key`` header), a business's own instruments, an instrument's file (the department's
staff) and the public stamp lookup (by stamp number or the token a stamp's QR code carries)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import PERMISSION_ATTRIBUTE, Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES, NotAuthenticated
from api.schemas import Label
from api.uploads import read_limited
from workflows import permissions
from workflows.catalogue import office_day
from workflows.clock import as_utc, now
from workflows.metrology import alerts, bodies, bulk, registry, reports
from workflows.metrology.kinds import KINDS, kind
from workflows.metrology.models import BodyApiKey, Instrument, VerificationBody, VerificationRecord
from workflows.models import User

router = APIRouter(prefix="/api/metrology", tags=["metrology"], responses=ERROR_RESPONSES)
public_router = APIRouter(prefix="/api/public/stamps", tags=["public"], responses=ERROR_RESPONSES)

Admin = Annotated[User, Depends(Permitted(permissions.METROLOGY_BODIES_MANAGE))]
Owner = Annotated[User, Depends(Permitted(permissions.METROLOGY_MY_INSTRUMENTS))]
Staff = Annotated[User, Depends(Permitted(permissions.METROLOGY_READ))]
Inspector = Annotated[User, Depends(Permitted(permissions.METROLOGY_WARNINGS))]
StampReporter = Annotated[User, Depends(Permitted(permissions.METROLOGY_STAMP_LOST))]


def kind_label(code: str) -> Label:
    """An instrument kind's name in both languages (its code, for a kind no longer listed)."""
    found = kind(code)
    return Label(vi=found.name_vi, en=found.name_en) if found else Label(vi=code, en=code)


def _dmy(day: date | None) -> str | None:
    return day.strftime("%d/%m/%Y") if day else None


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


class KindOut(BaseModel):
    code: str
    name: Label
    interval_months: int | None = Field(description="None: no figure recorded here")
    interval: Label
    confirmed: bool = Field(description="false: the interval is to be checked against the legal text")
    source: str
    effective_from: str


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
            effective_from=_dmy(k.effective_from) or "",
        )
        for k in KINDS
    ]


# --- verification bodies and keys (the administrator) ---------------------------------------------


class BodyIn(BaseModel):
    code: str = Field(max_length=40)
    name: str = Field(max_length=300)
    designation: str = Field(default="", max_length=200)


class KeyOut(BaseModel):
    id: int
    prefix: str
    label: str
    created_at: str
    revoked_at: str | None

    @classmethod
    def of(cls, row: BodyApiKey) -> KeyOut:
        assert row.id is not None
        return cls(
            id=row.id,
            prefix=row.prefix,
            label=row.label,
            created_at=as_utc(row.created_at).isoformat(),
            revoked_at=as_utc(row.revoked_at).isoformat() if row.revoked_at else None,
        )


class BodyOut(BaseModel):
    id: int
    code: str
    name: str
    designation: str
    keys: list[KeyOut] = []

    @classmethod
    def of(cls, body: VerificationBody, keys: list[BodyApiKey] | None = None) -> BodyOut:
        assert body.id is not None
        return cls(
            id=body.id,
            code=body.code,
            name=body.name,
            designation=body.designation,
            keys=[KeyOut.of(k) for k in keys or []],
        )


class KeyIn(BaseModel):
    label: str = Field(default="", max_length=200)


class NewKeyOut(KeyOut):
    key: str = Field(description="Khóa API, chỉ hiện một lần / The API key, shown this once")


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


class ReportIn(BaseModel):
    """One verification, as its certificate says. Dates dd/mm/yyyy (or yyyy-mm-dd)."""

    kind: str = Field(max_length=40, description="Mã loại phương tiện đo (GET /api/metrology/kinds)")
    model: str = Field(max_length=100)
    approval_mark: str = Field(default="", max_length=60)
    serial_number: str = Field(max_length=60)
    measuring_range: str = Field(default="", max_length=100)
    accuracy_class: str = Field(default="", max_length=30)
    owner_type: str = Field(max_length=12, description="business | household")
    owner_tax_code: str = Field(default="", max_length=14)
    owner_name: str = Field(max_length=300)
    commune: str = Field(max_length=120, description="Xã, phường, đặc khu (từ 01/07/2025)")
    address: str = Field(default="", max_length=300)
    purpose: str = Field(default="", max_length=300)
    certificate_number: str = Field(max_length=60)
    stamp_number: str = Field(default="", max_length=60)
    verified_on: str = Field(max_length=10)
    result: str = Field(max_length=12, description="pass | fail")
    valid_until: str = Field(default="", max_length=10)


class ReportOut(BaseModel):
    outcome: str = Field(description="created | unchanged")
    message: Label
    record_id: int
    instrument_id: int
    certificate_number: str
    stamp_number: str | None
    stamp_token: str = Field(description="Mã cho mã QR trên tem / What a QR code on the stamp carries")
    valid_until: str | None


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
    return _report_out(outcome, record)


def _report_out(outcome: str, record: VerificationRecord) -> ReportOut:
    assert record.id is not None
    return ReportOut(
        outcome=outcome,
        message=_outcome_label(outcome, record.certificate_number),
        record_id=record.id,
        instrument_id=record.instrument_id,
        certificate_number=record.certificate_number,
        stamp_number=record.stamp_number,
        stamp_token=record.stamp_token,
        valid_until=_dmy(record.valid_until),
    )


class RowProblemOut(BaseModel):
    field: str
    message: str
    message_en: str
    code: str


class RowOut(BaseModel):
    row: int = Field(description="Số dòng trong tệp (dòng 1 là tiêu đề) / Row number in the file (1: header)")
    certificate_number: str
    outcome: str = Field(description="created | unchanged | rejected")
    record_id: int | None
    stamp_token: str | None
    errors: list[RowProblemOut]


class UploadOut(BaseModel):
    created: int
    unchanged: int
    rejected: int
    message: Label
    rows: list[RowOut]


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


class InstrumentOut(BaseModel):
    id: int
    kind: str
    kind_name: Label
    model: str
    approval_mark: str
    serial_number: str
    measuring_range: str
    accuracy_class: str
    commune: str
    address: str
    purpose: str
    status: str = Field(description="verified | expiring_soon | overdue | failed | never_verified")
    status_label: Label
    verified_on: str | None
    valid_until: str | None

    @classmethod
    def of(cls, instrument: Instrument, today: date) -> InstrumentOut:
        assert instrument.id is not None
        state = registry.status_of(instrument, today)
        vi, en = registry.status_label(state, instrument.current_valid_until)
        return cls(
            id=instrument.id,
            kind=instrument.kind,
            kind_name=kind_label(instrument.kind),
            model=instrument.model,
            approval_mark=instrument.approval_mark,
            serial_number=instrument.serial_number,
            measuring_range=instrument.measuring_range,
            accuracy_class=instrument.accuracy_class,
            commune=instrument.commune,
            address=instrument.address,
            purpose=instrument.purpose,
            status=state,
            status_label=Label(vi=vi, en=en),
            verified_on=_dmy(instrument.current_verified_on),
            valid_until=_dmy(instrument.current_valid_until),
        )


class InstrumentPageOut(BaseModel):
    items: list[InstrumentOut]
    total: int


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


# --- an instrument's file (the department) --------------------------------------------------------


class RecordOut(BaseModel):
    id: int
    body: str
    certificate_number: str
    stamp_number: str | None
    verified_on: str
    result: str
    valid_until: str | None


class HistoryOut(BaseModel):
    seq: int
    action: str
    at: str
    actor: str
    details: dict[str, Any]


class InstrumentFileOut(BaseModel):
    instrument: InstrumentOut
    owner_type: str
    owner_name: str
    owner_tax_code: str | None
    records: list[RecordOut]
    history: list[HistoryOut]


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
                verified_on=_dmy(r.verified_on) or "",
                result=r.result,
                valid_until=_dmy(r.valid_until),
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


class WarningOut(BaseModel):
    id: int
    cause: str = Field(description="overdue / failed / stamp_lost")
    cause_label: Label
    state: str = Field(description="open / inspection_planned / owner_contacted / closed")
    state_label: Label
    version: int = Field(description="Send it back with an action: a stale one is refused (409)")
    since: str = Field(description="The day the violation began, dd/mm/yyyy")
    days: int = Field(description="Days since then")
    note: str
    closed_reason: str
    instrument_id: int
    kind: str
    kind_label: Label
    model: str
    serial_number: str
    owner_name: str
    commune: str
    address: str

    @classmethod
    def of(cls, warning: Any, instrument: Instrument, today: date) -> WarningOut:
        cause_vi, cause_en = alerts.CAUSE_LABELS[warning.cause]
        state_vi, state_en = alerts.STATE_LABELS[warning.state]
        return cls(
            id=warning.id or 0,
            cause=warning.cause,
            cause_label=Label(vi=cause_vi, en=cause_en),
            state=warning.state,
            state_label=Label(vi=state_vi, en=state_en),
            version=warning.version,
            since=_dmy(warning.since) or "",
            days=(today - warning.since).days,
            note=warning.note,
            closed_reason=warning.closed_reason,
            instrument_id=instrument.id or 0,
            kind=instrument.kind,
            kind_label=kind_label(instrument.kind),
            model=instrument.model,
            serial_number=instrument.serial_number,
            owner_name=instrument.owner_name,
            commune=instrument.commune,
            address=instrument.address,
        )


class WarningPageOut(BaseModel):
    items: list[WarningOut]
    total: int


@router.get("/warnings", response_model=WarningPageOut)
def warnings(
    rt: RuntimeDep,
    actor: Inspector,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    commune: Annotated[str | None, Query(max_length=120)] = None,
    cause: Annotated[str | None, Query(pattern="^(overdue|failed|stamp_lost)$")] = None,
    closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> WarningPageOut:
    """Cảnh báo vi phạm, lâu nhất trước / Violation warnings, longest-standing first."""
    page = alerts.warnings(
        rt, actor, kind=kind, commune=commune, cause=cause, closed=closed, limit=limit, offset=offset
    )
    return WarningPageOut(
        items=[WarningOut.of(row.warning, row.instrument, page.today) for row in page.items], total=page.total
    )


class WarningActionIn(BaseModel):
    action: str = Field(pattern="^(plan_inspection|contact_owner|close)$")
    version: int = Field(ge=1, le=1_000_000_000, description="The version the officer saw")
    note: str = Field(default="", max_length=1000, description="Required to close: the reason")


@router.post("/warnings/{warning_id}/actions", response_model=WarningOut)
def handle_warning(warning_id: RowId, body: WarningActionIn, rt: RuntimeDep, actor: Inspector) -> WarningOut:
    """Xử lý cảnh báo: lên kế hoạch kiểm tra, đã liên hệ chủ, đóng kèm lý do / Handle a warning."""
    warning = alerts.handle(rt, actor, warning_id, body.action, body.version, body.note)
    return WarningOut.of(warning, alerts.warning_instrument(rt, warning), office_day(now()))


class StampLostIn(BaseModel):
    note: str = Field(default="", max_length=1000, description="When and how it was lost")


@router.post("/stamps/{stamp_number}/lost", status_code=status.HTTP_201_CREATED, response_model=WarningOut)
def report_stamp_lost(
    stamp_number: Annotated[str, Path(max_length=60)], body: StampLostIn, rt: RuntimeDep, actor: StampReporter
) -> WarningOut:
    """Báo mất tem kiểm định (chủ phương tiện đo hoặc cán bộ) / Report a verification stamp lost."""
    warning = alerts.report_stamp_lost(rt, actor, stamp_number, body.note)
    return WarningOut.of(warning, alerts.warning_instrument(rt, warning), office_day(now()))


# --- the public stamp lookup ----------------------------------------------------------------------


class StampOut(BaseModel):
    """What anyone may read of a stamp: no personal data (a household owner's name is never shown)."""

    stamp_number: str
    valid: bool
    message: Label
    valid_until: str | None
    verified_on: str
    kind: Label
    model: str
    serial_number: str
    commune: str
    owner_name: str | None = Field(
        description="Tên doanh nghiệp; không hiện với hộ, cá nhân / A business's name only"
    )
    verification_body: str
    lost: bool = Field(default=False, description="Tem đã được báo mất / The stamp was reported lost")

    @classmethod
    def of(cls, answer: registry.StampAnswer) -> StampOut:
        until = _dmy(answer.valid_until)
        if answer.lost:
            message = Label(
                vi="Tem kiểm định này đã được báo mất: không chứng minh kiểm định còn hiệu lực",
                en="This verification stamp was reported lost: it proves no valid verification",
            )
        elif answer.valid:
            message = Label(vi=f"Còn hiệu lực kiểm định đến {until}", en=f"Verified until {until}")
        else:
            message = Label(vi="Không có kiểm định còn hiệu lực", en="No valid verification")
        return cls(
            stamp_number=answer.stamp_number,
            valid=answer.valid,
            message=message,
            valid_until=until,
            verified_on=_dmy(answer.verified_on) or "",
            kind=kind_label(answer.kind),
            model=answer.model,
            serial_number=answer.serial_number,
            commune=answer.commune,
            owner_name=answer.owner_name,
            verification_body=answer.body_name,
            lost=answer.lost,
        )


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
