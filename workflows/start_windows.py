"""Registration windows a procedure's start is gated by, named by the catalogue's ``start_window``
key. A check runs before the dossier is created and raises a ``Conflict`` (vi + en, with the
dates) when the procedure cannot be started now, e.g. outside the award round's registration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from workflows.award_rounds import check_registration_window
from workflows.models import User

# (session, procedure code, the applicant, the submission instant) -> None, or raise Conflict
WindowCheck = Callable[[Session, str, User, datetime], None]

START_WINDOWS: dict[str, WindowCheck] = {
    "award_round": check_registration_window,
}
