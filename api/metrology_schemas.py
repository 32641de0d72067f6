"""Request and response bodies of the metrology API (``api.routes.metrology``): the kinds, the
verification bodies and their keys, reports, instruments and their files, warnings and the public
stamp lookup. Dates are dd/mm/yyyy; instants ISO 8601."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from api.schemas import Label
from workflows.clock import as_utc
from workflows.metrology import alerts, registry
from workflows.metrology.kinds import kind
from workflows.metrology.models import BodyApiKey, Instrument, VerificationBody


def kind_label(code: str) -> Label:
    """An instrument kind's name in both languages (its code, for a kind no longer listed)."""
    found = kind(code)
    return Label(vi=found.name_vi, en=found.name_en) if found else Label(vi=code, en=code)


def dmy(day: date | None) -> str | None:
    return day.strftime("%d/%m/%Y") if day else None


class KindOut(BaseModel):
    code: str
    name: Label
    interval_months: int | None = Field(description="None: no figure recorded here")
    interval: Label
    confirmed: bool = Field(description="false: the interval is to be checked against the legal text")
    source: str
    effective_from: str


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
    stamp_url: str | None = Field(
        description="Địa chỉ tra cứu tem để in thành mã QR (không có tem: None) / "
        "The stamp check's public URL, to print as the stamp's QR code (None without a stamp)"
    )
    valid_until: str | None


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
    version: int = Field(description="Send it back with a correction: a stale one is refused (409)")

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
            verified_on=dmy(instrument.current_verified_on),
            valid_until=dmy(instrument.current_valid_until),
            version=instrument.version,
        )


class InstrumentPageOut(BaseModel):
    items: list[InstrumentOut]
    total: int


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


class WarningOut(BaseModel):
    id: int
    cause: str = Field(description="overdue / failed / stamp_lost / unverified")
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
            since=dmy(warning.since) or "",
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


class WarningActionIn(BaseModel):
    action: str = Field(pattern="^(plan_inspection|contact_owner|close)$")
    version: int = Field(ge=1, le=1_000_000_000, description="The version the officer saw")
    note: str = Field(default="", max_length=1000, description="Required to close: the reason")


class StampLostIn(BaseModel):
    note: str = Field(default="", max_length=1000, description="When and how it was lost")


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
        until = dmy(answer.valid_until)
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
            verified_on=dmy(answer.verified_on) or "",
            kind=kind_label(answer.kind),
            model=answer.model,
            serial_number=answer.serial_number,
            commune=answer.commune,
            owner_name=answer.owner_name,
            verification_body=answer.body_name,
            lost=answer.lost,
        )


class InstrumentIn(BaseModel):
    """An instrument in use. A business registers its own (leave the owner's fields out: the owner
    is the account's business); an officer gives the owner: a business by its tax code, a
    household by its name and address."""

    kind: str = Field(max_length=40, description="Mã loại phương tiện đo (GET /api/metrology/kinds)")
    model: str = Field(max_length=100)
    approval_mark: str = Field(default="", max_length=60, description="Dấu phê duyệt mẫu")
    serial_number: str = Field(max_length=60)
    measuring_range: str = Field(default="", max_length=100)
    accuracy_class: str = Field(default="", max_length=30)
    commune: str = Field(max_length=120, description="Xã, phường, đặc khu (từ 01/07/2025)")
    address: str = Field(default="", max_length=300)
    purpose: str = Field(default="", max_length=300)
    owner_type: str = Field(default="", max_length=12, description="business | household (officers only)")
    owner_tax_code: str = Field(default="", max_length=14, description="officers only")
    owner_name: str = Field(default="", max_length=300, description="officers only")


class InstrumentPatchIn(BaseModel):
    """A correction: the fields to change, and the version the person saw."""

    version: int = Field(ge=1, le=1_000_000_000, description="The instrument's version as read")
    kind: str | None = Field(default=None, max_length=40)
    model: str | None = Field(default=None, max_length=100)
    approval_mark: str | None = Field(default=None, max_length=60)
    serial_number: str | None = Field(default=None, max_length=60)
    measuring_range: str | None = Field(default=None, max_length=100)
    accuracy_class: str | None = Field(default=None, max_length=30)
    commune: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=300)
    purpose: str | None = Field(default=None, max_length=300)
    owner_type: str | None = Field(default=None, max_length=12)
    owner_tax_code: str | None = Field(default=None, max_length=14)
    owner_name: str | None = Field(default=None, max_length=300)
