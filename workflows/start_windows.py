"""Registration windows a procedure's start is gated by, named by the catalogue's ``start_window``
key. ``check`` runs before the dossier is created and raises a ``Conflict`` (vi + en, with the
dates) when the procedure cannot be started now, e.g. outside the award round's registration;
``notice`` tells the pages whether the window is open and what to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from workflows.award_rounds import check_registration_window, window_state
from workflows.db import reading
from workflows.models import User


@dataclass(frozen=True)
class WindowNotice:
    open: bool
    message: str
    message_en: str


@dataclass(frozen=True)
class StartWindow:
    # (session, procedure code, the applicant, the submission instant) -> None, or raise Conflict
    check: Callable[[Session, str, User, datetime], None]
    notice: Callable[[Session], WindowNotice]


def _award_notice(session: Session) -> WindowNotice:
    state = window_state(session)
    return WindowNotice(state.open, state.message, state.message_en)


START_WINDOWS: dict[str, StartWindow] = {
    "award_round": StartWindow(check_registration_window, _award_notice),
}


def notice_for(engine: Any, window: str | None) -> WindowNotice | None:
    """What the procedure and new-dossier pages say about the window (None: always open)."""
    if window is None:
        return None
    with reading(engine) as session:
        return START_WINDOWS[window].notice(session)
