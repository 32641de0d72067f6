"""Registration windows a procedure's start is gated by (a procedure's plug-in gives its own).

``check`` runs before the dossier is created and raises a ``Conflict`` (vi + en, with the
dates) when the procedure cannot be started now, e.g. outside the award round's registration;
``notice`` tells the pages whether the window is open for the person asking and what to say, e.g.
that their organisation has already applied in the open round (with the application's code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from workflows.db import reading
from workflows.models import User


@dataclass(frozen=True)
class WindowNotice:
    """What the procedure and new-dossier pages show about the window.

    ``open``: the person asking may start the procedure now (False when the window is closed, or
    when their organisation already holds a place in the open round). ``already_registered_code``:
    the code of that application; ``link_url`` and its label (vi, en) lead to it, for the pages to
    show instead of the form.
    """

    open: bool
    message: str
    message_en: str
    already_registered_code: str | None = None
    link_url: str | None = None
    link_label: str = ""
    link_label_en: str = ""


@dataclass(frozen=True)
class StartWindow:
    # (session, procedure code, the applicant, the submission instant) -> None, or raise Conflict
    check: Callable[[Session, str, User, datetime], None]
    # (session, the person asking or None) -> what the pages say
    notice: Callable[[Session, User | None], WindowNotice]


def notice_for(engine: Any, window: StartWindow | None, user: User | None = None) -> WindowNotice | None:
    """What the procedure and new-dossier pages say about the window to ``user`` (None: anyone
    not signed in); None when the procedure has no window (always open)."""
    if window is None:
        return None
    with reading(engine) as session:
        return window.notice(session, user)
