"""The officers' page of metrology violation warnings (issue 18): the list the API gives
(``GET /api/metrology/warnings``), with its filters (kind, commune, cause, open or closed), and
its actions — plan an inspection, record that the owner was contacted, close with a reason —
as forms (CSRF) that send back the version the officer read, so that a change made meanwhile by
another officer is refused (409) rather than overwritten. Specialists and leaders, as the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from api.bounds import PageNumber
from api.deps import RowId, RuntimeDep
from api.errors import status_of
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.metrology_pages import kind_name
from api.web.session import PagePermitted
from api.web.templating import render
from workflows import permissions
from workflows.errors import Conflict, DomainError, FieldProblem, InvalidInput, NotFound
from workflows.metrology import alerts, warning_list
from workflows.metrology.kinds import KINDS
from workflows.models import User
from workflows.runtime import Runtime

router = APIRouter(include_in_schema=False)
Inspector = Annotated[User, Depends(PagePermitted(permissions.METROLOGY_WARNINGS))]
PAGE_SIZE = 50
PATH = "/work/instrument-warnings"
DONE = {
    "plan_inspection": ("Đã ghi nhận: lên kế hoạch kiểm tra.", "Recorded: inspection planned."),
    "contact_owner": ("Đã ghi nhận: đã liên hệ chủ phương tiện đo.", "Recorded: owner contacted."),
    "close": ("Đã đóng cảnh báo.", "Warning closed."),
}


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    commune: str = ""
    cause: str = ""
    closed: bool = False

    @classmethod
    def read(cls, kind: str, commune: str, cause: str, show: str) -> Filters:
        """The filters as typed, what is not a known kind or cause dropped."""
        return cls(
            kind=kind if any(k.code == kind for k in KINDS) else "",
            commune=" ".join(commune.split()),
            cause=cause if cause in alerts.CAUSES else "",
            closed=show == "closed",
        )

    def query(self) -> str:
        """The filters as a query string: an action's form keeps the list the officer was reading."""
        pairs = {"kind": self.kind, "commune": self.commune, "cause": self.cause}
        chosen = {name: value for name, value in pairs.items() if value}
        if self.closed:
            chosen["show"] = "closed"
        return urlencode(chosen)


@dataclass(frozen=True)
class Paged:
    """What the pager reads."""

    items: list[warning_list.WarningRow]
    total: int
    page: int
    page_size: int


def _page(
    request: Request,
    rt: Runtime,
    user: User,
    filters: Filters,
    page: int = 1,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    found = warning_list.warnings(
        rt,
        user,
        kind=filters.kind or None,
        commune=filters.commune or None,
        cause=filters.cause or None,
        closed=filters.closed,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    done = request.query_params.get("done", "")
    return render(
        request,
        "instrument_warnings.html",
        user,
        {
            "result": Paged(found.items, found.total, page, PAGE_SIZE),
            "today": found.today,
            "filters": filters,
            "filter_query": filters.query(),
            "kinds": [(k.code, i18n.pick(k.name_vi, k.name_en)) for k in KINDS],
            "causes": [(c, i18n.pick(*alerts.CAUSE_LABELS[c])) for c in alerts.CAUSES],
            "cause_text": lambda c: i18n.pick(*alerts.CAUSE_LABELS[c]),
            "state_text": lambda s: i18n.pick(*alerts.STATE_LABELS[s]),
            "kind_name": kind_name,
            "error": _error_text(error) if error else None,
            "flash": i18n.pick(*DONE[done]) if done in DONE else None,
            "flash_kind": "success",
        },
        status_code=status_code,
    )


def _error_text(error: DomainError) -> str:
    return " ".join(
        [i18n.pick(error.message, error.message_en)]
        + [i18n.pick(f.message, f.message_en) for f in error.fields]
    )


@router.get(PATH)
def warnings(
    request: Request,
    rt: RuntimeDep,
    user: Inspector,
    kind: Annotated[str, Query(max_length=40)] = "",
    commune: Annotated[str, Query(max_length=120)] = "",
    cause: Annotated[str, Query(max_length=20)] = "",
    show: Annotated[str, Query(max_length=10)] = "open",
    page: PageNumber = 1,
) -> Response:
    """The warnings still to handle (``show=closed``: the closed ones), longest-standing first."""
    return _page(request, rt, user, Filters.read(kind, commune, cause, show), page)


NOTE_LIMIT = 1000  # the column's (metrology_warning.note, closed_reason)


def _checked(action: str, version: str, note: str) -> tuple[str, int]:
    """The action and version of a form, or InvalidInput naming the field (a forged or stale form,
    a note longer than the page's field allows)."""
    problems = []
    if len(note.strip()) > NOTE_LIMIT:
        problems.append(
            FieldProblem(
                "note",
                f"Ghi chú tối đa {NOTE_LIMIT} ký tự.",
                f"The note is at most {NOTE_LIMIT} characters.",
                "maxLength",
            )
        )
    if action not in alerts.ACTIONS:
        problems.append(FieldProblem("action", "Thao tác không hợp lệ.", "Not a valid action.", "enum"))
    number = int(version) if version.isdigit() and len(version) <= 9 else 0
    if number < 1:
        problems.append(
            FieldProblem(
                "version",
                "Phiên bản cảnh báo không hợp lệ; hãy tải lại trang.",
                "The warning's version is not valid; reload the page.",
                "invalid",
            )
        )
    if problems:
        raise InvalidInput("Biểu mẫu chưa hợp lệ.", "The form is not valid.", "validation_error", problems)
    return action, number


@router.post(f"{PATH}/{{warning_id}}", dependencies=[Depends(verify_csrf)])
def handle(
    warning_id: RowId,
    request: Request,
    rt: RuntimeDep,
    user: Inspector,
    action: Annotated[str, Form(max_length=20)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    # Longer than the column, so that a longer note is told why (422) rather than a bare 400.
    note: Annotated[str, Form(max_length=20_000)] = "",
    kind: Annotated[str, Query(max_length=40)] = "",
    commune: Annotated[str, Query(max_length=120)] = "",
    cause: Annotated[str, Query(max_length=20)] = "",
    show: Annotated[str, Query(max_length=10)] = "open",
) -> Response:
    """One action on one warning; back to the list the officer was reading (its filters) with what
    was done, or that list with why not."""
    filters = Filters.read(kind, commune, cause, show)
    try:
        chosen, number = _checked(action, version, note)
        warning_list.handle(rt, user, warning_id, chosen, number, note)
    except (InvalidInput, Conflict, NotFound) as refused:
        return _page(request, rt, user, filters, error=refused, status_code=status_of(refused))
    kept = filters.query()
    return RedirectResponse(f"{PATH}?done={chosen}" + (f"&{kept}" if kept else ""), status_code=303)
