"""The award's registration window: a round's dates gate the start of an application, and the
pages tell a visitor when registration opens, or that their organisation has already applied."""

from __future__ import annotations

from sqlmodel import Session

from workflows.models import User
from workflows.procedures.award.rounds import check_registration_window, window_state_for
from workflows.start_windows import StartWindow, WindowNotice


def _award_notice(session: Session, user: User | None) -> WindowNotice:
    state = window_state_for(session, user)
    code = state.already_registered_code
    if code is None:
        return WindowNotice(state.open, state.message, state.message_en)
    return WindowNotice(
        False,
        state.message,
        state.message_en,
        code,
        link_url=f"/dossiers/{code}",
        link_label=f"Xem hồ sơ {code}",
        link_label_en=f"Open application {code}",
    )


AWARD_WINDOW = StartWindow(check_registration_window, _award_notice)
