"""Administrators' acts on accounts through the API: e-mail a user a password reset link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.deps import Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import Accepted
from workflows import password_reset, permissions
from workflows.models import User

router = APIRouter(prefix="/api/admin/users", tags=["admin"], responses=ERROR_RESPONSES)

Admin = Annotated[User, Depends(Permitted(permissions.ACCOUNT_MANAGE))]


@router.post("/{user_id}/password-reset", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def send_password_reset(user_id: RowId, admin: Admin, rt: RuntimeDep) -> Accepted:
    """Gửi cho người dùng liên kết đặt lại mật khẩu / E-mail the user a password reset link
    (audited with the administrator; 409 for a locked account or one without a password)."""
    user = password_reset.send_reset_link(rt, admin, user_id)
    return Accepted(
        message=f"Đã gửi liên kết đặt lại mật khẩu tới {user.email}.",
        message_en=f"A password reset link was sent to {user.email}.",
    )
