"""Satisfaction on pages: the applicant's rating form on its dossier (posted here), and the list of
ratings and comments for the department's staff (leaders read it first)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.bounds import PageNumber
from api.deps import RuntimeDep
from api.web.csrf import verify_csrf
from api.web.session import PagePermitted, PageUser
from api.web.templating import render
from workflows import permissions, ratings
from workflows.errors import DomainError
from workflows.models import User

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
RatingReader = Annotated[User, Depends(PagePermitted(permissions.RATINGS_READ))]


@router.post("/dossiers/{code}/rating", dependencies=[Csrf])
def rate(
    code: str,
    rt: RuntimeDep,
    user: PageUser,
    score: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=ratings.MAX_COMMENT)] = "",
) -> Response:
    try:
        ratings.rate(rt, user, code, score, comment)
    except DomainError as exc:
        if exc.code not in ("validation_error", "already_rated", "not_resolved"):
            raise
        return RedirectResponse(f"/dossiers/{code}?flash=rating_{exc.code}#rating", status_code=303)
    return RedirectResponse(f"/dossiers/{code}?flash=rated#rating", status_code=303)


@router.get("/work/ratings")
def rating_list(
    request: Request,
    rt: RuntimeDep,
    user: RatingReader,
    page: PageNumber = 1,
    low: Annotated[bool, Query(description="only scores 1–2")] = False,
) -> Response:
    """The applicants' ratings and comments, the latest first; ``low``: only the unhappy ones."""
    result = ratings.rating_list(rt, user, page=page, max_score=2 if low else None)
    return render(
        request,
        "ratings.html",
        user,
        {"result": result, "low": low, "catalogue": rt.catalogue, "labels": ratings.SCORE_LABELS},
    )
