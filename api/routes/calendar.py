"""The working calendar for administrators: its entries (days off, make-up working days with their
deciding document), a change's preview (what deadlines it moves) and applying it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import Permitted, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import LocalTimes
from workflows import calendar_change, permissions
from workflows.calendar_change import Change, Preview
from workflows.calendar_entries import all_entries
from workflows.db import reading
from workflows.errors import FieldProblem, InvalidInput
from workflows.models import CalendarEntry, User

router = APIRouter(prefix="/api/admin/calendar", tags=["admin"], responses=ERROR_RESPONSES)
Admin = Annotated[User, Depends(Permitted(permissions.CALENDAR_MANAGE))]


class CalendarEntryOut(LocalTimes):
    id: int
    day: date
    kind: str
    name: str
    decided_by: str
    source: str
    created_by_id: int | None
    created_at: datetime
    removed_at: datetime | None
    removed_by_id: int | None
    removal_decided_by: str | None


class ChangeIn(BaseModel):
    """Add a day (``day`` dd/mm/yyyy or yyyy-mm-dd, ``kind``, ``name``, ``decided_by``) or remove
    the entry ``entry_id`` (with the ``decided_by`` that cancels it). ``token``: the preview's, to
    apply it."""

    action: Literal["add", "remove"] = "add"
    day: str = Field(default="", max_length=40)
    kind: str = Field(default="day_off", max_length=20)
    name: str = Field(default="", max_length=1000)
    decided_by: str = Field(default="", max_length=1000)
    entry_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    token: str = Field(default="", max_length=100)


class MoveOut(LocalTimes):
    kind: str
    dossier_id: int
    dossier_code: str
    old: datetime | None
    new: datetime
    task_id: str | None
    task_name: str | None
    alarm_kind: str | None


class PreviewOut(BaseModel):
    action: str
    day: date
    kind: str
    name: str
    decided_by: str
    entry_id: int | None
    deadlines_moved: int
    alarms_moved: int
    dossiers: int
    moves: list[MoveOut]
    token: str


def parse_day(text: str, field: str = "day") -> date:
    """dd/mm/yyyy (or ISO yyyy-mm-dd) → a date; else InvalidInput on ``field``."""
    text = text.strip()
    for parse in (lambda t: datetime.strptime(t, "%d/%m/%Y").date(), date.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    raise InvalidInput(
        "Ngày phải có dạng ngày/tháng/năm (dd/mm/yyyy).",
        "The day must be dd/mm/yyyy.",
        "validation_error",
        [FieldProblem(field, "Ngày không hợp lệ (dd/mm/yyyy).", "Not a date (dd/mm/yyyy).")],
    )


def change_of(rt: RuntimeDep, user: User, body: ChangeIn) -> Change:
    """The change the body asks for, checked (InvalidInput naming the field)."""
    if body.action == "remove":
        if body.entry_id is None:
            raise InvalidInput(
                "Cần chọn ngày cần xóa.",
                "The entry to remove is required.",
                "validation_error",
                [FieldProblem("entry_id", "Bắt buộc.", "Required.")],
            )
        return calendar_change.propose_removal(rt, user, body.entry_id, body.decided_by)
    return calendar_change.propose_addition(
        rt, user, parse_day(body.day), body.kind, body.name, body.decided_by
    )


def preview_out(preview: Preview) -> PreviewOut:
    change = preview.change
    return PreviewOut(
        action=change.action,
        day=change.day,
        kind=change.kind,
        name=change.name,
        decided_by=change.decided_by,
        entry_id=change.entry_id,
        deadlines_moved=preview.count,
        alarms_moved=len(preview.alarms),
        dossiers=preview.dossiers,
        moves=[MoveOut.model_validate(m, from_attributes=True) for m in preview.moves],
        token=preview.token,
    )


def _entry_out(entry: CalendarEntry) -> CalendarEntryOut:
    return CalendarEntryOut.model_validate(entry, from_attributes=True)


@router.get("/entries", response_model=list[CalendarEntryOut])
def entries(user: Admin, rt: RuntimeDep) -> list[CalendarEntryOut]:
    """Các ngày điều chỉnh của lịch (cả ngày đã xóa) / The calendar's entries, removed ones too."""
    with reading(rt.engine) as session:
        return [_entry_out(e) for e in all_entries(session)]


@router.post("/changes/preview", response_model=PreviewOut)
def preview(body: ChangeIn, user: Admin, rt: RuntimeDep) -> PreviewOut:
    """Xem trước: thay đổi dời những thời hạn nào / What a change would move (nothing saved)."""
    return preview_out(calendar_change.preview(rt, user, change_of(rt, user, body)))


@router.post("/changes", response_model=PreviewOut)
def apply(body: ChangeIn, user: Admin, rt: RuntimeDep) -> PreviewOut:
    """Lưu thay đổi đã xem trước (409 nếu bản xem trước đã cũ) / Apply a previewed change (409 when
    its preview is out of date), recomputing what it moves in the same transaction (audited)."""
    if not body.token:
        raise InvalidInput(
            "Hãy xem trước thay đổi rồi lưu với mã của bản xem trước.",
            "Preview the change first, then apply it with the preview's token.",
            "validation_error",
            [FieldProblem("token", "Bắt buộc.", "Required.")],
        )
    return preview_out(calendar_change.apply(rt, user, change_of(rt, user, body), body.token))
