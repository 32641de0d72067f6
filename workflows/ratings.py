"""Satisfaction: once a dossier has its result, its applicant (a business, or a TBT visitor through
the inquiry's follow link) rates the service from 1 to 5 with a comment, once per dossier. The
department's staff read the comments (on the dossier, and the list of the latest ones); the public
statistics show only the average (:mod:`workflows.statistics`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from workflows import audit, permissions
from workflows.clock import as_utc, now
from workflows.command_log import command, note_dossier
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.locking import lock_dossier_by_code
from workflows.models import Dossier, ServiceRating, User
from workflows.runtime import Runtime

SCORES = (1, 2, 3, 4, 5)
MAX_COMMENT = 2000
# What a score means, as the form offers it (vi, en).
SCORE_LABELS = {
    1: ("Rất không hài lòng", "Very dissatisfied"),
    2: ("Không hài lòng", "Dissatisfied"),
    3: ("Bình thường", "Neutral"),
    4: ("Hài lòng", "Satisfied"),
    5: ("Rất hài lòng", "Very satisfied"),
}


def _checked(score: object, comment: str) -> tuple[int, str]:
    problems = []
    try:
        value = int(str(score).strip())
    except ValueError:
        value = 0
    if value not in SCORES:
        problems.append(
            FieldProblem("score", "Hãy chọn mức điểm từ 1 đến 5.", "Choose a score from 1 to 5.", "enum")
        )
    text = comment.strip()
    if len(text) > MAX_COMMENT:
        problems.append(
            FieldProblem(
                "comment",
                f"Ý kiến dài tối đa {MAX_COMMENT} ký tự.",
                f"The comment is at most {MAX_COMMENT} characters.",
                "maxLength",
            )
        )
    if problems:
        raise InvalidInput("Đánh giá chưa hợp lệ.", "The rating is not valid.", "validation_error", problems)
    return value, text


@command("rate_service")
def rate(rt: Runtime, actor: User, code: str, score: object, comment: str = "") -> ServiceRating:
    """Record the applicant's rating of the dossier ``code``: once, after the result."""
    permissions.require(actor, permissions.DOSSIER_RATE)
    value, text = _checked(score, comment)
    with transaction(rt.engine) as session:
        locked = lock_dossier_by_code(session, code)
        if locked is None or locked[0].applicant_id != actor.id:
            # Another's dossier is "not found", as everywhere a business looks past its own.
            raise not_found("hồ sơ", "Dossier")
        dossier = locked[0]
        note_dossier(dossier.code)
        if not permissions.may_rate_dossier(actor, dossier):
            raise Conflict(
                "Hồ sơ chưa có kết quả giải quyết: chỉ đánh giá được sau khi có kết quả.",
                "The dossier has no result yet: the service is rated once the result is out.",
                "not_resolved",
            )
        if session.exec(select(ServiceRating.id).where(ServiceRating.dossier_id == dossier.id)).first():
            raise Conflict(
                "Hồ sơ này đã được đánh giá; mỗi hồ sơ được đánh giá một lần.",
                "This dossier was already rated; each dossier is rated once.",
                "already_rated",
            )
        at = now()
        rating = ServiceRating(
            dossier_id=dossier.id, score=value, comment=text, rated_by_id=actor.id, rated_at=at
        )
        session.add(rating)
        audit.record(
            session,
            f"dossier:{dossier.id}",
            "service_rated",
            actor,
            {"score": value, "comment": text},
            dossier_id=dossier.id,
            at=at,
        )
        session.flush()
        session.expunge(rating)
        return rating


def rating_of(rt: Runtime, dossier_id: int) -> ServiceRating | None:
    """The dossier's rating, if it was rated (the caller checked who may read it)."""
    with reading(rt.engine) as session:
        return session.exec(select(ServiceRating).where(ServiceRating.dossier_id == dossier_id)).first()


@dataclass(frozen=True)
class ListedRating:
    code: str
    procedure_code: str
    applicant_name: str
    score: int
    comment: str
    rated_at: datetime


@dataclass(frozen=True)
class RatingPage:
    items: list[ListedRating]
    total: int
    average: float | None
    page: int
    page_size: int


def rating_list(
    rt: Runtime, actor: User, page: int = 1, page_size: int = 50, max_score: int | None = None
) -> RatingPage:
    """The latest ratings first (``max_score``: only those at or below it, e.g. the unhappy ones),
    with their count and average; the department's staff only."""
    permissions.require(actor, permissions.RATINGS_READ)
    where = [] if max_score is None else [col(ServiceRating.score) <= max_score]
    with reading(rt.engine) as session:
        total, average = session.exec(
            select(func.count(col(ServiceRating.id)), func.avg(col(ServiceRating.score))).where(*where)
        ).one()
        rows = session.exec(
            select(ServiceRating, Dossier)
            .join(Dossier, col(Dossier.id) == ServiceRating.dossier_id)
            .where(*where)
            .order_by(col(ServiceRating.rated_at).desc(), col(ServiceRating.id).desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
    items = [
        ListedRating(
            dossier.code,
            dossier.procedure_code,
            dossier.applicant_name,
            rating.score,
            rating.comment,
            as_utc(rating.rated_at),
        )
        for rating, dossier in rows
    ]
    return RatingPage(
        items, int(total or 0), round(float(average), 2) if average is not None else None, page, page_size
    )
