"""National Quality Award rounds: one a year, with its registration window, its scoring deadline
and the council members who score every application of the round.

An administrator opens and edits a round (an audit event per change, stream ``award_round:<id>``).
The procedure's catalogue entry names this module's registration window (``start_window =
"award_round"``): outside every round's window the procedure cannot be started, and the message
says when registration opens. The round's facts (id, year, council member ids, scoring deadline)
enter the process as start facts (``start_facts = "award_round"``), so a dossier keeps the council
of the round it was filed in even if the round's members change later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Date, DateTime
from sqlmodel import Field, Session, SQLModel, select

from forms.limits import FIRST_DAY, LARGEST_INTEGER, LAST_DAY, day_in_range
from workflows import audit, permissions
from workflows.clock import now, to_local
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import Dossier, User
from workflows.procedures.award import actions
from workflows.procedures.award.scoring import local_day_end

if TYPE_CHECKING:
    from workflows.runtime import Runtime

AWARD_PROCEDURE = "giai-thuong-chat-luong-quoc-gia"
# A dossier in these states no longer holds the organisation's place in the round.
_GIVEN_UP = frozenset({"withdrawn", "refused", "expired"})
MIN_YEAR, MAX_YEAR = 2000, 2100


class AwardRound(SQLModel, table=True):
    """One yearly round of the National Quality Award at the provincial council."""

    __tablename__ = "award_round"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, index=True)
    # Local calendar dates, inclusive.
    registration_opens: date = Field(sa_column=Column(Date, nullable=False))
    registration_closes: date = Field(sa_column=Column(Date, nullable=False))
    scoring_deadline: date = Field(sa_column=Column(Date, nullable=False))
    council_member_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=2000)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

    def is_open_on(self, day: date) -> bool:
        return self.registration_opens <= day <= self.registration_closes

    def snapshot(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "registration_opens": self.registration_opens.isoformat(),
            "registration_closes": self.registration_closes.isoformat(),
            "scoring_deadline": self.scoring_deadline.isoformat(),
            "council_member_ids": list(self.council_member_ids),
            "note": self.note,
        }


@dataclass(frozen=True)
class RoundInput:
    year: int
    registration_opens: date
    registration_closes: date
    scoring_deadline: date
    council_member_ids: list[int]
    note: str = ""


def vn_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def today() -> date:
    return to_local(now()).date()


# --- reading ------------------------------------------------------------------------------------


def may_read_round(reader: User, row: AwardRound) -> bool:
    """The department's staff read every round; a council member the rounds they sit on."""
    return permissions.may(reader, permissions.DOSSIER_SEE_ALL) or (
        permissions.may(reader, actions.RESULTS_READ) and reader.id in row.council_member_ids
    )


def list_rounds(rt: Runtime, reader: User | None = None) -> list[AwardRound]:
    """Every round, newest first; with ``reader``, the rounds that person may read."""
    with reading(rt.engine) as session:
        rows = list(session.exec(select(AwardRound).order_by(AwardRound.year.desc())).all())
    return [r for r in rows if reader is None or may_read_round(reader, r)]


def get_round(rt: Runtime, year: int, reader: User | None = None) -> AwardRound:
    """The round of ``year``; with ``reader``, "not found" unless that person may read it."""
    with reading(rt.engine) as session:
        found = session.exec(select(AwardRound).where(AwardRound.year == year)).first()
    if found is None or (reader is not None and not may_read_round(reader, found)):
        raise not_found(f"đợt xét giải năm {year}", f"Award round {year}")
    return found


def open_round(session: Session, day: date) -> AwardRound | None:
    return session.exec(
        select(AwardRound).where(AwardRound.registration_opens <= day, AwardRound.registration_closes >= day)
    ).first()


def next_round(session: Session, day: date) -> AwardRound | None:
    return session.exec(
        select(AwardRound).where(AwardRound.registration_opens > day).order_by(AwardRound.registration_opens)
    ).first()


def last_closed_round(session: Session, day: date) -> AwardRound | None:
    return session.exec(
        select(AwardRound)
        .where(AwardRound.registration_closes < day)
        .order_by(AwardRound.registration_closes.desc())
    ).first()


@dataclass(frozen=True)
class WindowState:
    """Whether registration is open today, and the message a person reads when it is not.

    ``already_registered_code`` is set (by ``window_state_for``) when the business asking has
    an application in the open round that still holds its place: the message then says so.
    """

    open: bool
    round: AwardRound | None
    next: AwardRound | None
    message: str
    message_en: str
    already_registered_code: str | None = None


def window_state(session: Session, day: date | None = None) -> WindowState:
    day = day or today()
    current = open_round(session, day)
    if current is not None:
        return WindowState(
            True,
            current,
            None,
            f"Đợt xét Giải thưởng Chất lượng Quốc gia năm {current.year} đang nhận hồ sơ đến hết ngày "
            f"{vn_date(current.registration_closes)}.",
            f"The {current.year} National Quality Award round takes applications until "
            f"{vn_date(current.registration_closes)} inclusive.",
        )
    upcoming = next_round(session, day)
    if upcoming is not None:
        return WindowState(
            False,
            None,
            upcoming,
            f"Chưa đến thời gian đăng ký: đợt xét Giải thưởng Chất lượng Quốc gia năm {upcoming.year} "
            f"nhận hồ sơ từ ngày {vn_date(upcoming.registration_opens)} đến ngày "
            f"{vn_date(upcoming.registration_closes)}.",
            f"Registration has not opened yet: the {upcoming.year} National Quality Award round takes applications "
            f"from {vn_date(upcoming.registration_opens)} to {vn_date(upcoming.registration_closes)}.",
        )
    last = last_closed_round(session, day)
    if last is not None:
        return WindowState(
            False,
            None,
            None,
            f"Đã hết thời gian đăng ký: đợt xét năm {last.year} đã đóng ngày "
            f"{vn_date(last.registration_closes)}. Thời gian đăng ký đợt sau sẽ được thông báo.",
            f"Registration is closed: the {last.year} round closed on {vn_date(last.registration_closes)}. "
            "The next round's dates will be announced.",
        )
    return WindowState(
        False,
        None,
        None,
        "Chưa mở đợt đăng ký Giải thưởng Chất lượng Quốc gia. Thời gian đăng ký sẽ được thông báo.",
        "No National Quality Award round is open for registration yet. The dates will be announced.",
    )


def _round_of(dossier: Dossier) -> Any:
    return (dossier.data or {}).get("award_round_id")


def registration_in(session: Session, award_round: AwardRound, user: User) -> Dossier | None:
    """The business's application in ``award_round`` that holds its place (not withdrawn,
    refused or expired), if any; the earliest one."""
    mine = session.exec(
        select(Dossier)
        .where(Dossier.procedure_code == AWARD_PROCEDURE, Dossier.applicant_id == user.id)
        .order_by(Dossier.id)
    ).all()
    return next((d for d in mine if _round_of(d) == award_round.id and d.status not in _GIVEN_UP), None)


def already_registered(year: int, code: str) -> tuple[str, str]:
    """The message (vi, en) a business reads when it has applied in the round already."""
    return (
        f"Tổ chức đã đăng ký đợt xét năm {year} (hồ sơ {code}). Mỗi tổ chức đăng ký một lần "
        "mỗi đợt; theo dõi hồ sơ đã nộp để biết kết quả.",
        f"The organisation has already applied in the {year} round (dossier {code}). An "
        "organisation applies once per round; follow the application already filed.",
    )


def window_state_for(session: Session, user: User | None, day: date | None = None) -> WindowState:
    """The window's state for the person asking: as ``window_state``, and for a business that
    has already applied in the open round, the code of its application and a message saying so
    (the pages then link to the application instead of offering the form)."""
    state = window_state(session, day)
    if user is None or state.round is None or not user.has_role("business"):
        return state
    dossier = registration_in(session, state.round, user)
    if dossier is None:
        return state
    message, message_en = already_registered(state.round.year, dossier.code)
    return replace(state, message=message, message_en=message_en, already_registered_code=dossier.code)


# --- the start window and the start facts (named by the catalogue) -----------------------------


def check_registration_window(session: Session, procedure_code: str, actor: User, at: datetime) -> None:
    """Refuse a registration outside every round's window (409, with the dates), or a second one
    by the same organisation in the same round (409, naming the application already filed)."""
    state = window_state_for(session, actor, to_local(at).date())
    if not state.open or state.round is None:
        raise Conflict(state.message, state.message_en, "registration_closed")
    if state.already_registered_code is not None:
        raise Conflict(state.message, state.message_en, "already_registered")


def round_facts(session: Session, procedure_code: str, tax_code: str, at: datetime) -> dict[str, Any]:
    """The open round's facts the process starts with."""
    current = open_round(session, to_local(at).date())
    if current is None:
        state = window_state(session, to_local(at).date())
        raise Conflict(state.message, state.message_en, "registration_closed")
    return {
        "award_round_id": current.id,
        "award_year": current.year,
        "council_member_ids": list(current.council_member_ids),
        "scoring_deadline": current.scoring_deadline.isoformat(),
        "scoring_deadline_at": local_day_end(current.scoring_deadline),
        "scoring_round": 1,
    }


def round_dossiers(session: Session, round_id: int) -> list[Dossier]:
    """The award dossiers filed in a round (a handful a year: filtered on the data they carry)."""
    rows = session.exec(
        select(Dossier)
        .where(Dossier.procedure_code == AWARD_PROCEDURE)
        .order_by(Dossier.submitted_at, Dossier.id)
    ).all()
    return [d for d in rows if _round_of(d) == round_id]


# --- commands -----------------------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    permissions.require(actor, actions.ROUND_MANAGE)


def _problems(session: Session, data: RoundInput, round_id: int | None) -> list[FieldProblem]:
    problems = []
    if not MIN_YEAR <= data.year <= MAX_YEAR:
        problems.append(
            FieldProblem(
                "year",
                f"Năm từ {MIN_YEAR} đến {MAX_YEAR}.",
                f"A year from {MIN_YEAR} to {MAX_YEAR}.",
                "range",
            )
        )
    for name in ("registration_opens", "registration_closes", "scoring_deadline"):
        if not day_in_range(getattr(data, name)):
            problems.append(
                FieldProblem(
                    name,
                    f"Ngày từ {FIRST_DAY:%d/%m/%Y} đến {LAST_DAY:%d/%m/%Y}.",
                    f"A day from {FIRST_DAY:%d/%m/%Y} to {LAST_DAY:%d/%m/%Y}.",
                    "range",
                )
            )
    if problems:  # the order of days outside the calendar means nothing
        return problems
    if data.registration_closes < data.registration_opens:
        problems.append(
            FieldProblem(
                "registration_closes",
                "Ngày đóng đăng ký phải sau hoặc bằng ngày mở đăng ký.",
                "Registration must close on or after the day it opens.",
                "order",
            )
        )
    if data.scoring_deadline <= data.registration_closes:
        problems.append(
            FieldProblem(
                "scoring_deadline",
                "Hạn chấm điểm phải sau ngày đóng đăng ký.",
                "The scoring deadline must come after registration closes.",
                "order",
            )
        )
    ids = list(dict.fromkeys(data.council_member_ids))
    if not ids:
        problems.append(
            FieldProblem(
                "council_member_ids",
                "Chọn ít nhất một thành viên Hội đồng.",
                "Choose at least one council member.",
                "minItems",
            )
        )
    else:
        # An id the database cannot hold names nobody (and cannot be asked for).
        storable = [i for i in ids if 1 <= i <= LARGEST_INTEGER]
        found = {u.id: u for u in session.exec(select(User).where(User.id.in_(storable))).all()}
        wrong = [
            i for i in ids if i not in found or not found[i].has_role("council") or not found[i].is_active
        ]
        if wrong:
            problems.append(
                FieldProblem(
                    "council_member_ids",
                    f"Không phải thành viên Hội đồng đang hoạt động: {', '.join(map(str, wrong))}.",
                    f"Not an active council member: {', '.join(map(str, wrong))}.",
                    "council",
                )
            )
    # A year out of range is already a problem; asking the database about it could overflow an INTEGER.
    same_year = (
        session.exec(select(AwardRound).where(AwardRound.year == data.year)).first()
        if MIN_YEAR <= data.year <= MAX_YEAR
        else None
    )
    if same_year is not None and same_year.id != round_id:
        problems.append(
            FieldProblem(
                "year",
                f"Đã có đợt xét giải năm {data.year}.",
                f"There is already a round for {data.year}.",
                "unique",
            )
        )
    overlapping = session.exec(
        select(AwardRound).where(
            AwardRound.registration_opens <= data.registration_closes,
            AwardRound.registration_closes >= data.registration_opens,
        )
    ).all()
    for other in overlapping:
        if other.id != round_id:
            problems.append(
                FieldProblem(
                    "registration_opens",
                    f"Thời gian đăng ký trùng với đợt năm {other.year} "
                    f"({vn_date(other.registration_opens)} – {vn_date(other.registration_closes)}).",
                    f"The registration window overlaps the {other.year} round "
                    f"({vn_date(other.registration_opens)} – {vn_date(other.registration_closes)}).",
                    "overlap",
                )
            )
            break
    return problems


def _invalid(problems: list[FieldProblem]) -> InvalidInput:
    return InvalidInput(
        "Thông tin đợt xét giải chưa hợp lệ.", "The award round is not valid.", "validation_error", problems
    )


@command("create_award_round")
def create_round(rt: Runtime, actor: User, data: RoundInput) -> AwardRound:
    _require_admin(actor)
    with transaction(rt.engine) as session:
        problems = _problems(session, data, None)
        if problems:
            raise _invalid(problems)
        row = AwardRound(
            year=data.year,
            registration_opens=data.registration_opens,
            registration_closes=data.registration_closes,
            scoring_deadline=data.scoring_deadline,
            council_member_ids=list(dict.fromkeys(data.council_member_ids)),
            note=data.note.strip(),
            created_by_id=actor.id,
        )
        session.add(row)
        session.flush()
        audit.record(session, f"award_round:{row.id}", "award_round_opened", actor, {"after": row.snapshot()})
        return row


@command("update_award_round")
def update_round(rt: Runtime, actor: User, year: int, data: RoundInput) -> AwardRound:
    _require_admin(actor)
    with transaction(rt.engine) as session:
        row = session.exec(select(AwardRound).where(AwardRound.year == year)).first()
        if row is None:
            raise not_found(f"đợt xét giải năm {year}", f"Award round {year}")
        problems = _problems(session, data, row.id)
        if problems:
            raise _invalid(problems)
        before = row.snapshot()
        row.year = data.year
        row.registration_opens = data.registration_opens
        row.registration_closes = data.registration_closes
        row.scoring_deadline = data.scoring_deadline
        row.council_member_ids = list(dict.fromkeys(data.council_member_ids))
        row.note = data.note.strip()
        row.updated_at = now()
        session.add(row)
        after = row.snapshot()
        if after != before:
            audit.record(
                session,
                f"award_round:{row.id}",
                "award_round_changed",
                actor,
                {"before": before, "after": after},
            )
        return row


def council_members(rt: Runtime) -> list[User]:
    """The accounts that may sit on a round's council (role ``council``, active)."""
    with reading(rt.engine) as session:
        users = session.exec(select(User).order_by(User.full_name)).all()
        return [u for u in users if u.has_role("council") and u.is_active]


def names_of(session: Session, ids: list[Any]) -> dict[str, str]:
    wanted = [int(i) for i in ids if str(i).isdigit()]
    if not wanted:
        return {}
    return {str(u.id): u.full_name for u in session.exec(select(User).where(User.id.in_(wanted))).all()}
