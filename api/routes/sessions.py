"""The signed-in user's sessions (one per login): list them, end one, the others, or all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from api.account_schemas import SessionOut, SessionsOut
from api.deps import CurrentUser, RuntimeDep, current_session_id
from api.errors import ERROR_RESPONSES
from workflows import sessions

router = APIRouter(prefix="/api/me/sessions", tags=["auth"], responses=ERROR_RESPONSES)

SessionId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", response_model=SessionsOut)
def list_sessions(user: CurrentUser, request: Request, rt: RuntimeDep) -> SessionsOut:
    """Các phiên đăng nhập đang mở / The account's open sessions, the most recently used first;
    ``current`` marks this token's."""
    mine = current_session_id(request)
    return SessionsOut(
        items=[
            SessionOut.model_validate({**row.model_dump(), "current": row.id == mine})
            for row in sessions.active(rt, user)
        ]
    )


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def end_session(session_id: SessionId, user: CurrentUser, rt: RuntimeDep) -> None:
    """Kết thúc một phiên / End one session (its token or cookie is refused from now on)."""
    sessions.end(rt, user, session_id)


@router.post("/end-others", status_code=status.HTTP_204_NO_CONTENT)
def end_other_sessions(user: CurrentUser, request: Request, rt: RuntimeDep) -> None:
    """Kết thúc mọi phiên khác / End every session but this token's."""
    sessions.end_others(rt, user, current_session_id(request))


@router.post("/end-all", status_code=status.HTTP_204_NO_CONTENT)
def end_all_sessions(user: CurrentUser, rt: RuntimeDep) -> None:
    """Kết thúc mọi phiên, cả phiên này / End every session of the account, this token's too, on
    every device."""
    sessions.end_all(rt, user)
