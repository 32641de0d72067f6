"""Satisfaction: the applicant rates the service of a dossier with a result, once; the
department's staff list the ratings."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.bounds import PageNumber
from api.deps import CurrentUser, RuntimeDep
from api.errors import ERROR_RESPONSES
from workflows import permissions, ratings

router = APIRouter(prefix="/api", tags=["ratings"], responses=ERROR_RESPONSES)


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5, description="1 (rất không hài lòng) … 5 (rất hài lòng)")
    comment: str = Field(default="", max_length=ratings.MAX_COMMENT)


class RatingOut(BaseModel):
    code: str
    score: int
    comment: str
    rated_at: datetime


class RatingListOut(BaseModel):
    items: list[RatingOut]
    total: int
    average: float | None
    page: int


@router.post("/dossiers/{code}/rating", response_model=RatingOut, status_code=201)
def rate(code: str, body: RatingIn, user: CurrentUser, rt: RuntimeDep) -> RatingOut:
    """Đánh giá mức độ hài lòng (một lần mỗi hồ sơ, sau khi có kết quả) / Rate the service once."""
    rating = ratings.rate(rt, user, code, body.score, body.comment)
    return RatingOut(code=code, score=rating.score, comment=rating.comment, rated_at=rating.rated_at)


@router.get("/ratings", response_model=RatingListOut)
def rating_list(user: CurrentUser, rt: RuntimeDep, page: PageNumber = 1) -> RatingListOut:
    """Các đánh giá, mới nhất trước / The ratings, the latest first (the department's staff)."""
    permissions.require(user, permissions.RATINGS_READ)
    result = ratings.rating_list(rt, user, page=page)
    return RatingListOut(
        items=[
            RatingOut(code=r.code, score=r.score, comment=r.comment, rated_at=r.rated_at)
            for r in result.items
        ],
        total=result.total,
        average=result.average,
        page=result.page,
    )
