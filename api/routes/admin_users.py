"""Administrators' acts on accounts through the API: the three lists (officers, businesses, TBT
visitors), an officer's roles and job title, lock and unlock, a password reset link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from api.account_schemas import Accepted, UserOut
from api.bounds import PageNumber
from api.deps import Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import SingleLine
from workflows import account_lists, accounts, password_reset, permissions
from workflows.models import User

router = APIRouter(prefix="/api/admin/users", tags=["admin"], responses=ERROR_RESPONSES)

Admin = Annotated[User, Depends(Permitted(permissions.ACCOUNT_MANAGE))]


class AccountOut(UserOut):
    is_active: bool


class AccountPageOut(BaseModel):
    kind: account_lists.Kind
    query: str
    page: int
    pages: int
    total: int = Field(description="Accounts of the list matching the query")
    counts: dict[str, int] = Field(description="Every list's size, whatever the query")
    items: list[AccountOut]


class OfficerChange(BaseModel):
    roles: list[SingleLine] = Field(max_length=20, description="The officer's roles (at least one)")
    job_title: SingleLine = Field(
        default="", max_length=120, description="Printed over a signature, e.g. PHÓ GIÁM ĐỐC; empty for none"
    )


def _account(user: User) -> AccountOut:
    return AccountOut.model_validate({**UserOut.of(user).model_dump(), "is_active": user.is_active})


@router.get("", response_model=AccountPageOut)
def list_accounts(
    admin: Admin,
    rt: RuntimeDep,
    kind: Annotated[account_lists.Kind, Query()] = "officers",
    q: Annotated[str, Query(max_length=200, description="Searched without case or diacritics")] = "",
    page: PageNumber = 1,
) -> AccountPageOut:
    """Một danh sách tài khoản / one list of accounts, 25 a page."""
    listing = account_lists.account_page(rt, kind, q.strip(), page)
    return AccountPageOut(
        kind=listing.kind,
        query=listing.query,
        page=listing.page,
        pages=listing.pages,
        total=listing.total,
        counts=dict(listing.counts),
        items=[_account(u) for u in listing.accounts],
    )


@router.patch("/{user_id}", response_model=AccountOut)
def update_officer(user_id: RowId, body: OfficerChange, admin: Admin, rt: RuntimeDep) -> AccountOut:
    """Sửa vai trò và chức vụ của cán bộ / set an officer's roles and job title (audited; 422 for a
    business or visitor account, an unknown role or none; 409 for removing one's own admin role)."""
    return _account(
        accounts.update_officer(rt, admin, user_id, roles=list(body.roles), job_title=body.job_title)
    )


@router.post("/{user_id}/lock", response_model=AccountOut)
def lock(user_id: RowId, admin: Admin, rt: RuntimeDep) -> AccountOut:
    """Khóa tài khoản / lock an account: every session ends (409 for one's own)."""
    return _account(accounts.set_active(rt, admin, user_id, False))


@router.post("/{user_id}/unlock", response_model=AccountOut)
def unlock(user_id: RowId, admin: Admin, rt: RuntimeDep) -> AccountOut:
    """Mở khóa tài khoản / unlock an account (no old session comes back)."""
    return _account(accounts.set_active(rt, admin, user_id, True))


@router.post("/{user_id}/password-reset", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def send_password_reset(user_id: RowId, admin: Admin, rt: RuntimeDep) -> Accepted:
    """Gửi cho người dùng liên kết đặt lại mật khẩu / E-mail the user a password reset link
    (audited with the administrator; 409 for a locked account or one without a password)."""
    user = password_reset.send_reset_link(rt, admin, user_id)
    return Accepted(
        message=f"Đã gửi liên kết đặt lại mật khẩu tới {user.email}.",
        message_en=f"A password reset link was sent to {user.email}.",
    )
