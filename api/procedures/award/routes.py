"""National Quality Award: yearly rounds (registration window, scoring deadline, council), the
registration window's state, a round's applicants and its recommendation list (.docx, .xlsx)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from api.bounds import Day, RowIdValue
from api.deps import CurrentUser, Permitted, RoundYear, RuntimeDep, oauth2_scheme, user_from_token
from api.errors import ERROR_RESPONSES
from api.files import file_response
from workflows.db import reading
from workflows.models import User
from workflows.procedures.award import actions as award_actions
from workflows.procedures.award import recommendations as award_recommendations
from workflows.procedures.award import reports as award_reports
from workflows.procedures.award import rounds as award_rounds
from workflows.procedures.award.rounds import AwardRound, RoundInput

router = APIRouter(prefix="/api/award", tags=["award"], responses=ERROR_RESPONSES)

# The department's staff and the council (a member sees only the rounds they sit on).
RoundReader = Annotated[User, Depends(Permitted(award_actions.RESULTS_READ))]


class RoundIn(BaseModel):
    year: int  # the command checks the range (rounds.MIN_YEAR..MAX_YEAR) before any query
    registration_opens: Day
    registration_closes: Day
    scoring_deadline: Day
    council_member_ids: list[RowIdValue] = Field(default_factory=list, max_length=50)
    note: str = Field(default="", max_length=2000)

    def command(self) -> RoundInput:
        return RoundInput(
            year=self.year,
            registration_opens=self.registration_opens,
            registration_closes=self.registration_closes,
            scoring_deadline=self.scoring_deadline,
            council_member_ids=list(self.council_member_ids),
            note=self.note,
        )


class MemberOut(BaseModel):
    id: int
    full_name: str
    email: str


class RoundOut(BaseModel):
    year: int
    registration_opens: date
    registration_closes: date
    scoring_deadline: date
    council_member_ids: list[int]
    council_members: list[MemberOut]
    note: str
    open_now: bool

    @classmethod
    def of(cls, row: AwardRound, members: dict[int, MemberOut]) -> RoundOut:
        return cls(
            year=row.year,
            registration_opens=row.registration_opens,
            registration_closes=row.registration_closes,
            scoring_deadline=row.scoring_deadline,
            council_member_ids=list(row.council_member_ids),
            council_members=[members[i] for i in row.council_member_ids if i in members],
            note=row.note,
            open_now=row.is_open_on(award_rounds.today()),
        )


class WindowOut(BaseModel):
    open: bool
    year: int | None
    registration_opens: date | None
    registration_closes: date | None
    message: str
    message_en: str
    # For a signed-in business that has already applied in the open round: its application.
    already_registered_code: str | None = None


class EntryOut(BaseModel):
    code: str
    applicant_name: str
    sector: str
    status: str
    scored_count: int | None
    member_count: int
    total_mean: float | None
    total_spread: float | None
    criteria_means: dict[str, float | None]
    recommendation: str | None


class RoundDetailOut(RoundOut):
    dossiers: list[EntryOut]


def _members(rt: RuntimeDep) -> dict[int, MemberOut]:
    return {
        u.id: MemberOut(id=u.id, full_name=u.full_name, email=u.email)
        for u in award_rounds.council_members(rt)
    }


def _maybe_user(rt: RuntimeDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User | None:
    """The caller when a bearer token is sent (a bad one is still a 401), else None."""
    return user_from_token(rt, token) if token else None


@router.get("/window", response_model=WindowOut)
def window(rt: RuntimeDep, user: Annotated[User | None, Depends(_maybe_user)]) -> WindowOut:
    """Đợt đăng ký đang mở hay chưa; với doanh nghiệp đã đăng ký: mã hồ sơ / Whether registration
    is open and when it opens; for a business that has applied already: its dossier code."""
    with reading(rt.engine) as session:
        state = award_rounds.window_state_for(session, user)
    shown = state.round or state.next
    return WindowOut(
        open=state.open,
        year=shown.year if shown else None,
        registration_opens=shown.registration_opens if shown else None,
        registration_closes=shown.registration_closes if shown else None,
        message=state.message,
        message_en=state.message_en,
        already_registered_code=state.already_registered_code,
    )


@router.get("/council-members", response_model=list[MemberOut])
def council_members(user: RoundReader, rt: RuntimeDep) -> list[MemberOut]:
    """Tài khoản có vai trò thành viên hội đồng / Accounts with the council role."""
    return list(_members(rt).values())


@router.get("/rounds", response_model=list[RoundOut])
def rounds(user: RoundReader, rt: RuntimeDep) -> list[RoundOut]:
    members = _members(rt)
    return [RoundOut.of(r, members) for r in award_rounds.list_rounds(rt, user)]


@router.post("/rounds", response_model=RoundOut, status_code=201)
def open_round(body: RoundIn, user: CurrentUser, rt: RuntimeDep) -> RoundOut:
    """Mở đợt xét giải (quản trị) / Open a round (administrators)."""
    row = award_rounds.create_round(rt, user, body.command())
    return RoundOut.of(row, _members(rt))


@router.put("/rounds/{year}", response_model=RoundOut)
def edit_round(year: RoundYear, body: RoundIn, user: CurrentUser, rt: RuntimeDep) -> RoundOut:
    """Sửa đợt xét giải, phân công hội đồng (quản trị) / Edit a round, assign its council."""
    row = award_rounds.update_round(rt, user, year, body.command())
    return RoundOut.of(row, _members(rt))


@router.get("/rounds/{year}", response_model=RoundDetailOut)
def round_detail(year: RoundYear, user: RoundReader, rt: RuntimeDep) -> RoundDetailOut:
    """Đợt xét giải và các hồ sơ đăng ký / A round and its applications."""
    row = award_rounds.get_round(rt, year, user)
    with reading(rt.engine) as session:
        entries = award_reports.round_entries(session, row)
    base = RoundOut.of(row, _members(rt)).model_dump()
    return RoundDetailOut(**base, dossiers=[EntryOut(**e.__dict__) for e in entries])


@router.get("/rounds/{year}/recommendations.docx", response_class=Response)
def recommendations_docx(year: RoundYear, user: RoundReader, rt: RuntimeDep) -> Response:
    """Danh sách đề xuất lên Hội đồng quốc gia (.docx) / The recommendation list (.docx)."""
    content, filename = award_reports.draft_list_file(rt, year, user, "docx")
    return file_response(content, award_reports.MEDIA_TYPES["docx"], filename)


@router.get("/rounds/{year}/recommendations.xlsx", response_class=Response)
def recommendations_xlsx(year: RoundYear, user: RoundReader, rt: RuntimeDep) -> Response:
    """Danh sách đề xuất (.xlsx) / The recommendation list (.xlsx)."""
    content, filename = award_reports.draft_list_file(rt, year, user, "xlsx")
    return file_response(content, award_reports.MEDIA_TYPES["xlsx"], filename)


class IssuedListOut(BaseModel):
    id: str
    number: str
    verification_code: str
    listed_count: int
    recommended_count: int
    docx_sha256: str
    xlsx_sha256: str
    issued_by: str
    issued_at: datetime


@router.get("/rounds/{year}/recommendation-lists", response_model=list[IssuedListOut])
def issued_lists(year: RoundYear, user: RoundReader, rt: RuntimeDep) -> list[IssuedListOut]:
    """Danh sách đề xuất đã ban hành / The round's issued recommendation lists, newest first."""
    return [
        IssuedListOut(**award_recommendations.list_json(row, by))
        for row, by in award_recommendations.issued_lists(rt, year, user)
    ]


@router.post("/rounds/{year}/recommendation-lists", response_model=IssuedListOut, status_code=201)
def issue_list(year: RoundYear, user: CurrentUser, rt: RuntimeDep) -> IssuedListOut:
    """Lãnh đạo ban hành danh sách đề xuất (số, mã xác thực, QR) / A leader issues the list."""
    row = award_recommendations.issue_recommendation_list(rt, user, year)
    return IssuedListOut(**award_recommendations.list_json(row, user.full_name))


@router.get("/rounds/{year}/recommendation-lists/{list_id}.{fmt}", response_class=Response)
def issued_list_file(year: RoundYear, list_id: str, fmt: str, user: RoundReader, rt: RuntimeDep) -> Response:
    """Tệp danh sách đã ban hành (.docx hoặc .xlsx) / An issued list's file."""
    content, filename = award_recommendations.issued_file(rt, user, year, list_id, fmt)
    return file_response(content, award_reports.MEDIA_TYPES[fmt], filename)
