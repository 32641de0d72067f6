"""Login locks for administrators: the counters whose wait runs now, and lifting one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.account_schemas import LoginLockOut
from api.deps import Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES
from workflows import login_throttle, permissions
from workflows.models import User

router = APIRouter(prefix="/api/admin/login-locks", tags=["admin"], responses=ERROR_RESPONSES)
Admin = Annotated[User, Depends(Permitted(permissions.LOGIN_LOCKS_MANAGE))]


@router.get("", response_model=list[LoginLockOut])
def login_locks(user: Admin, rt: RuntimeDep) -> list[LoginLockOut]:
    """Khóa đăng nhập đang có hiệu lực / Login locks and delays in force, the latest to end first."""
    return [
        LoginLockOut.model_validate(lock, from_attributes=True) for lock in login_throttle.current_locks(rt)
    ]


@router.post("/{lock_id}/lift", status_code=status.HTTP_204_NO_CONTENT)
def lift(lock_id: RowId, user: Admin, rt: RuntimeDep) -> None:
    """Gỡ khóa: bộ đếm bắt đầu lại (ghi nhật ký) / Lift a lock: its counter starts again (audited)."""
    login_throttle.lift(rt, user, lock_id)
