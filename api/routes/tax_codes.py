"""Tax codes: the officers verify or reject a business's tax code, a business corrects its own,
anyone contests a verified one (with the business registration certificate), the officers decide."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from pydantic import BaseModel, Field

from api.account_schemas import UserOut
from api.client_address import client_address
from api.deps import CurrentUser, Permitted, RowId, RuntimeDep, oauth2_scheme, user_from_token
from api.errors import ERROR_RESPONSES
from api.files import file_response
from api.schemas import Label, LocalTimes
from api.uploads import read_limited
from workflows import permissions, tax_code_contests, tax_codes
from workflows.models import TaxCodeContest, User

router = APIRouter(prefix="/api", tags=["tax codes"], responses=ERROR_RESPONSES)

Verifier = Annotated[User, Depends(Permitted(permissions.ACCOUNT_VERIFY_TAX_CODE))]


class HolderOut(LocalTimes):
    id: int
    email: str
    full_name: str
    organisation_name: str
    phone: str
    address: str
    registered_at: datetime
    status: str
    status_label: Label
    decided_at: datetime | None
    note: str
    dossiers: int
    received_dossiers: int


class TaxCodeGroupOut(BaseModel):
    tax_code: str
    contested: bool = Field(description="Several accounts (not rejected) hold it: the officer chooses")
    holders: list[HolderOut]


class EvidenceIn(BaseModel):
    evidence: str = Field(
        max_length=500, description="What was checked, e.g. 'GCN ĐKDN số 3200123452, ngày 05/03/2015'"
    )


class ReasonIn(BaseModel):
    reason: str = Field(max_length=500)


class TaxCodeIn(BaseModel):
    tax_code: str = Field(max_length=14, examples=["0101234567"])


class NoteIn(BaseModel):
    note: str = Field(max_length=2000, description="Accepted: what was checked; refused: why")


class ContestOut(LocalTimes):
    id: int
    tax_code: str
    organisation_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    statement: str
    certificate_filename: str
    certificate_url: str
    status: str
    filed_at: datetime
    handled_at: datetime | None
    decision_note: str
    verified_holder: str = Field(default="", description="Who holds the tax code verified now")
    handled_by: str = ""

    @classmethod
    def of(cls, contest: TaxCodeContest, holder: str = "", handled_by: str = "") -> ContestOut:
        return cls(
            id=contest.id or 0,
            tax_code=contest.tax_code,
            organisation_name=contest.organisation_name,
            contact_name=contest.contact_name,
            contact_email=contest.contact_email,
            contact_phone=contest.contact_phone,
            statement=contest.statement,
            certificate_filename=contest.certificate_filename,
            certificate_url=f"/api/tax-code-contests/{contest.id}/certificate",
            status=contest.status,
            filed_at=contest.filed_at,
            handled_at=contest.handled_at,
            decision_note=contest.decision_note,
            verified_holder=holder,
            handled_by=handled_by,
        )


class ContestFiledOut(BaseModel):
    id: int
    tax_code: str
    status: str
    message: Label


@router.get("/tax-codes/unverified", response_model=list[TaxCodeGroupOut])
def unverified(user: Verifier, rt: RuntimeDep) -> list[TaxCodeGroupOut]:
    """Tài khoản chưa xác minh mã số thuế, theo mã số thuế / Unverified accounts, grouped by tax
    code (those held by several accounts first)."""
    return [
        TaxCodeGroupOut(
            tax_code=group.tax_code,
            contested=group.contested,
            holders=[
                HolderOut(
                    id=h.id,
                    email=h.email,
                    full_name=h.full_name,
                    organisation_name=h.organisation_name,
                    phone=h.phone,
                    address=h.address,
                    registered_at=h.registered_at,
                    status=h.status,
                    status_label=Label(
                        vi=tax_codes.state_label(h.status)[0], en=tax_codes.state_label(h.status)[1]
                    ),
                    decided_at=h.decided_at,
                    note=h.note,
                    dossiers=h.dossiers,
                    received_dossiers=h.received,
                )
                for h in group.holders
            ],
        )
        for group in tax_codes.unverified_groups(rt, user)
    ]


@router.post("/accounts/{user_id}/tax-code/verify", response_model=UserOut)
def verify(user_id: RowId, body: EvidenceIn, user: Verifier, rt: RuntimeDep) -> UserOut:
    """Xác minh mã số thuế theo đăng ký doanh nghiệp; các tài khoản khác cùng mã số thuế bị từ chối /
    Verify the tax code against the business registration; the other accounts holding it are
    rejected (409 ``tax_code_verified`` when another account holds it verified)."""
    return UserOut.of(tax_codes.verify_tax_code(rt, user, user_id, body.evidence))


@router.post("/accounts/{user_id}/tax-code/reject", response_model=UserOut)
def reject(user_id: RowId, body: ReasonIn, user: Verifier, rt: RuntimeDep) -> UserOut:
    """Từ chối mã số thuế chưa xác minh (ghi rõ lý do) / Reject an unverified tax code (reason required)."""
    return UserOut.of(tax_codes.reject_tax_code(rt, user, user_id, body.reason))


@router.post("/me/tax-code", response_model=UserOut)
def correct(body: TaxCodeIn, user: CurrentUser, rt: RuntimeDep) -> UserOut:
    """Sửa mã số thuế của tài khoản khi chưa được xác minh / Correct the account's tax code while it
    is not verified (it is unverified again)."""
    return UserOut.of(tax_codes.correct_tax_code(rt, user, body.tax_code))


@router.post("/tax-code-contests", status_code=status.HTTP_201_CREATED, response_model=ContestFiledOut)
async def file_contest(
    request: Request,
    rt: RuntimeDep,
    tax_code: Annotated[str, Form(max_length=14)],
    organisation_name: Annotated[str, Form(max_length=300)],
    contact_name: Annotated[str, Form(max_length=200)],
    contact_email: Annotated[str, Form(max_length=254)],
    certificate: Annotated[UploadFile, File(description="Giấy chứng nhận đăng ký doanh nghiệp (PDF, ảnh)")],
    contact_phone: Annotated[str, Form(max_length=30)] = "",
    statement: Annotated[str, Form(max_length=2000)] = "",
    token: Annotated[str | None, Depends(oauth2_scheme)] = None,
) -> ContestFiledOut:
    """Khiếu nại mã số thuế đã được xác minh cho tài khoản khác, kèm Giấy chứng nhận đăng ký doanh
    nghiệp / Contest a tax code verified for another account, with the business registration
    certificate. No account needed; the answer comes by e-mail. Từ một địa chỉ, hoặc cho một địa
    chỉ thư, tối đa 3–5 khiếu nại một ngày: quá thì 429 / At most 5 a day from one client, 3 for one
    contact address: past that, 429 with Retry-After."""
    actor = user_from_token(rt, token) if token else None
    content = await read_limited(certificate, rt.settings.max_upload_bytes)
    contest = tax_code_contests.file_contest(
        rt,
        actor,
        tax_code=tax_code,
        organisation_name=organisation_name,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        statement=statement,
        certificate_name=certificate.filename or "",
        certificate=content,
        client_address=client_address(request, rt.settings),
    )
    return ContestFiledOut(
        id=contest.id or 0,
        tax_code=contest.tax_code,
        status=contest.status,
        message=Label(
            vi=f"Đã nhận khiếu nại số {contest.id}; Sở trả lời qua thư điện tử {contest.contact_email}.",
            en=f"Contest no. {contest.id} received; the Department answers by e-mail to {contest.contact_email}.",
        ),
    )


@router.get("/tax-code-contests", response_model=list[ContestOut])
def contests(user: Verifier, rt: RuntimeDep, decided: Annotated[bool, Query()] = False) -> list[ContestOut]:
    """Khiếu nại chờ giải quyết (``decided=true``: đã giải quyết) / Open contests (or decided ones)."""
    return [
        ContestOut.of(item.contest, item.holder, item.handled_by)
        for item in tax_code_contests.contest_list(rt, user, decided=decided)
    ]


@router.get("/tax-code-contests/{contest_id}/certificate", response_class=Response)
def certificate(contest_id: RowId, user: Verifier, rt: RuntimeDep) -> Response:
    contest, content = tax_code_contests.certificate(rt, user, contest_id)
    return file_response(content, contest.certificate_type, contest.certificate_filename, inline=True)


@router.post("/tax-code-contests/{contest_id}/accept", response_model=ContestOut)
def accept(contest_id: RowId, body: NoteIn, user: Verifier, rt: RuntimeDep) -> ContestOut:
    """Chấp nhận khiếu nại: chuyển xác minh / Accept: the verification moves (the holder is rejected;
    the contester's account, if it filed from one, is verified)."""
    return ContestOut.of(tax_code_contests.decide_contest(rt, user, contest_id, True, body.note))


@router.post("/tax-code-contests/{contest_id}/refuse", response_model=ContestOut)
def refuse(contest_id: RowId, body: NoteIn, user: Verifier, rt: RuntimeDep) -> ContestOut:
    """Không chấp nhận khiếu nại (ghi rõ lý do) / Refuse the contest (reason required)."""
    return ContestOut.of(tax_code_contests.decide_contest(rt, user, contest_id, False, body.note))
