"""WTO TBT notifications: the officer registers them, businesses subscribe (HS-code prefix and/or
keyword) and are alerted, comment until the deadline; the officer compiles the comments (.docx)
for the national TBT office."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from forms.limits import FIRST_DAY, LAST_DAY, day_in_range
from workflows import audit, permissions
from workflows.clock import now, to_local
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.documents import DocumentContext
from workflows.documents.issuing import IssuedFor, Numbering, authority_of, issue_document
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.folding import fold
from workflows.models import Document, User
from workflows.outbox import emit
from workflows.procedures.tbt import actions
from workflows.procedures.tbt.models import WtoComment, WtoNotification, WtoSubscription

if TYPE_CHECKING:
    from workflows.runtime import Runtime

COMMENT_DAYS = 60  # the usual comment period after circulation
_SYMBOL = re.compile(r"^G/TBT/N/[A-Z]{2,3}/\d+(/(Add|Rev|Corr)\.\d+)*$", re.IGNORECASE)
_HS = re.compile(r"^\d{2,10}$")


def _invalid(problems: list[FieldProblem]) -> InvalidInput:
    return InvalidInput(
        "Dữ liệu chưa hợp lệ, xin kiểm tra các trường được đánh dấu.",
        "The data is not valid; check the fields marked.",
        "validation_error",
        problems,
    )


def _require_officer(actor: User) -> None:
    permissions.require(actor, actions.WTO_MANAGE)


def hs_digits(code: str) -> str:
    return re.sub(r"[.\s]", "", code)


def deadline_text(deadline: date) -> str:
    return deadline.strftime("%d/%m/%Y")


def comments_open(notification: WtoNotification, at: Any = None) -> bool:
    """Comments are taken until the end of the deadline day, local time."""
    return to_local(at or now()).date() <= notification.comment_deadline


# --- registering and alerting ---------------------------------------------------------------------


def _parse_date(value: Any, field: str, problems: list[FieldProblem]) -> date | None:
    if value in (None, ""):
        return None
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        problems.append(FieldProblem(field, "Ngày không hợp lệ.", "Not a valid date.", "format"))
        return None
    if not day_in_range(day):
        problems.append(
            FieldProblem(
                field,
                f"Ngày từ {FIRST_DAY:%d/%m/%Y} đến {LAST_DAY:%d/%m/%Y}.",
                f"A day from {FIRST_DAY:%d/%m/%Y} to {LAST_DAY:%d/%m/%Y}.",
                "range",
            )
        )
        return None
    return day


@command("register_wto_notification")
def register_notification(rt: Runtime, actor: User, data: dict[str, Any]) -> WtoNotification:
    """Register a notification and alert the matching subscribers (outbox, same transaction).
    Without a comment deadline it is 60 days after circulation."""
    _require_officer(actor)
    problems: list[FieldProblem] = []

    def text(field: str, vi: str, en: str, limit: int, required: bool = True) -> str:
        value = str(data.get(field) or "").strip()
        if required and not value:
            problems.append(FieldProblem(field, f"Nhập {vi}.", f"Enter {en}.", "required"))
        if len(value) > limit:
            problems.append(
                FieldProblem(field, f"Tối đa {limit} ký tự.", f"At most {limit} characters.", "maxLength")
            )
        return value

    member = text("member", "thành viên WTO thông báo", "the notifying WTO member", 120)
    symbol = text("symbol", "ký hiệu thông báo", "the notification symbol", 60).replace(" ", "")
    if symbol and not _SYMBOL.match(symbol):
        problems.append(
            FieldProblem(
                "symbol",
                "Ký hiệu có dạng G/TBT/N/USA/1234 (có thể thêm /Add.1).",
                "The symbol looks like G/TBT/N/USA/1234 (optionally /Add.1).",
                "pattern",
            )
        )
    title = text("title", "tiêu đề", "the title", 500)
    products = text("products", "sản phẩm", "the products", 4000)
    description = text("description", "nội dung, mô tả", "the description", 20000)
    objective = text("objective", "mục tiêu", "the objective", 4000, required=False)
    raw_codes = data.get("hs_codes") or []
    if isinstance(raw_codes, str):
        raw_codes = re.split(r"[,;\s]+", raw_codes)
    hs_codes = [c.strip() for c in raw_codes if str(c).strip()]
    for code in hs_codes:
        if not _HS.match(hs_digits(code)):
            problems.append(
                FieldProblem(
                    "hs_codes", f"Mã HS không hợp lệ: {code}.", f"Not a valid HS code: {code}.", "pattern"
                )
            )
            break
    circulated = _parse_date(data.get("circulated_on"), "circulated_on", problems)
    if circulated is None and not any(p.field == "circulated_on" for p in problems):
        problems.append(
            FieldProblem("circulated_on", "Nhập ngày phát hành.", "Enter the circulation date.", "required")
        )
    deadline = _parse_date(data.get("comment_deadline"), "comment_deadline", problems)
    if circulated and deadline is None:
        deadline = circulated + timedelta(days=COMMENT_DAYS)
    if circulated and deadline and deadline < circulated:
        problems.append(
            FieldProblem(
                "comment_deadline",
                "Hạn góp ý không được trước ngày phát hành.",
                "The comment deadline cannot be before circulation.",
                "range",
            )
        )
    if problems:
        raise _invalid(problems)
    assert circulated is not None and deadline is not None
    try:
        with transaction(rt.engine) as session:
            notification = WtoNotification(
                member=member,
                symbol=symbol,
                title=title,
                products=products,
                hs_codes=hs_codes,
                description=description,
                objective=objective,
                circulated_on=circulated,
                comment_deadline=deadline,
                registered_by_id=actor.id,
            )
            session.add(notification)
            session.flush()
            alert_subscribers(session, notification)
            audit.record(
                session,
                f"wto:{notification.id}",
                "wto_notification_registered",
                actor,
                {"symbol": symbol, "member": member},
            )
            return notification
    except IntegrityError as exc:
        raise Conflict(
            f"Thông báo {symbol} đã được đăng ký.",
            f"Notification {symbol} is already registered.",
            "duplicate",
        ) from exc


def matches(subscription: WtoSubscription, notification: WtoNotification) -> bool:
    """Every criterion the subscription gives must match: an HS prefix of one of its codes, a
    keyword in its text (both spellings of Vietnamese)."""
    if subscription.hs_prefix:
        prefix = hs_digits(subscription.hs_prefix)
        if not any(hs_digits(code).startswith(prefix) for code in notification.hs_codes):
            return False
    if subscription.keyword:
        haystack = fold(
            " ".join(
                (notification.title, notification.products, notification.description, notification.objective)
            )
        )
        if fold(subscription.keyword.strip()) not in haystack:
            return False
    return bool(subscription.hs_prefix or subscription.keyword)


def alert_subscribers(session: Session, notification: WtoNotification) -> list[int]:
    users: list[int] = []
    for subscription in session.exec(select(WtoSubscription).order_by(WtoSubscription.id)).all():
        if subscription.user_id not in users and matches(subscription, notification):
            users.append(subscription.user_id)
    if users:
        emit(
            session,
            "wto_notification_alert",
            None,
            {
                "user_ids": users,
                "notification_id": notification.id,
                "symbol": notification.symbol,
                "member": notification.member,
                "title": notification.title,
                "products": notification.products,
                "comment_deadline": notification.comment_deadline.isoformat(),
                "link_path": f"/tbt/wto/{notification.id}",
            },
        )
    return users


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationList:
    items: list[WtoNotification]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def list_notifications(rt: Runtime, q: str = "", page: int = 1, page_size: int = 20) -> NotificationList:
    page = max(1, page)
    with reading(rt.engine) as session:
        rows = list(
            session.exec(
                select(WtoNotification).order_by(
                    WtoNotification.circulated_on.desc(), WtoNotification.id.desc()
                )
            ).all()
        )
    if q.strip():
        needle = fold(q.strip())
        rows = [
            n
            for n in rows
            if needle in fold(" ".join((n.symbol, n.member, n.title, n.products, " ".join(n.hs_codes))))
            or any(
                hs_digits(c).startswith(hs_digits(needle)) for c in n.hs_codes if hs_digits(needle).isdigit()
            )
        ]
    start = (page - 1) * page_size
    return NotificationList(rows[start : start + page_size], len(rows), page, page_size)


def get_notification(rt: Runtime, notification_id: int) -> WtoNotification:
    with reading(rt.engine) as session:
        notification = session.get(WtoNotification, notification_id)
    if notification is None:
        raise not_found("thông báo WTO", "WTO notification")
    return notification


def notification_json(n: WtoNotification, comment_count: int | None = None) -> dict[str, Any]:
    body = {
        "id": n.id,
        "member": n.member,
        "symbol": n.symbol,
        "title": n.title,
        "products": n.products,
        "hs_codes": list(n.hs_codes),
        "description": n.description,
        "objective": n.objective,
        "circulated_on": n.circulated_on.isoformat(),
        "comment_deadline": n.comment_deadline.isoformat(),
        "comment_deadline_text": deadline_text(n.comment_deadline),
        "comments_open": comments_open(n),
        "url": f"/tbt/wto/{n.id}",
    }
    if comment_count is not None:
        body["comment_count"] = comment_count
    return body


def comments_of(rt: Runtime, actor: User, notification_id: int) -> list[tuple[WtoComment, User]]:
    """Officers read every comment; a business its own."""
    with reading(rt.engine) as session:
        query = (
            select(WtoComment, User)
            .join(User, User.id == WtoComment.user_id)
            .where(WtoComment.notification_id == notification_id)
            .order_by(WtoComment.created_at, WtoComment.id)
        )
        if not permissions.may(actor, actions.WTO_ALL_COMMENTS):
            query = query.where(WtoComment.user_id == actor.id)
        return [(c, u) for c, u in session.exec(query).all()]


def comment_count(rt: Runtime, notification_id: int) -> int:
    with reading(rt.engine) as session:
        return session.exec(
            select(func.count()).select_from(WtoComment).where(WtoComment.notification_id == notification_id)
        ).one()


# --- subscriptions and comments ---------------------------------------------------------------------


@command("subscribe_wto")
def subscribe(rt: Runtime, actor: User, hs_prefix: str = "", keyword: str = "") -> WtoSubscription:
    permissions.require(actor, actions.WTO_SUBSCRIBE)
    hs_prefix, keyword = hs_digits(hs_prefix or ""), " ".join((keyword or "").split())
    problems = []
    if hs_prefix and not re.fullmatch(r"\d{2,10}", hs_prefix):
        problems.append(FieldProblem("hs_prefix", "2 đến 10 chữ số.", "2 to 10 digits.", "pattern"))
    if len(keyword) > 100:
        problems.append(FieldProblem("keyword", "Tối đa 100 ký tự.", "At most 100 characters.", "maxLength"))
    if not hs_prefix and not keyword:
        problems.append(
            FieldProblem(
                "hs_prefix",
                "Nhập mã HS (đầu mã) hoặc từ khóa.",
                "Enter an HS-code prefix or a keyword.",
                "required",
            )
        )
    if problems:
        raise _invalid(problems)
    with transaction(rt.engine) as session:
        existing = session.exec(
            select(WtoSubscription).where(
                WtoSubscription.user_id == actor.id,
                WtoSubscription.hs_prefix == hs_prefix,
                WtoSubscription.keyword == keyword,
            )
        ).first()
        if existing is not None:
            return existing
        subscription = WtoSubscription(user_id=actor.id, hs_prefix=hs_prefix, keyword=keyword)
        session.add(subscription)
        session.flush()
        return subscription


def subscriptions_of(rt: Runtime, actor: User) -> list[WtoSubscription]:
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(WtoSubscription)
                .where(WtoSubscription.user_id == actor.id)
                .order_by(WtoSubscription.id)
            ).all()
        )


@command("unsubscribe_wto")
def unsubscribe(rt: Runtime, actor: User, subscription_id: int) -> None:
    with transaction(rt.engine) as session:
        subscription = session.get(WtoSubscription, subscription_id)
        if subscription is None or subscription.user_id != actor.id:
            raise not_found("đăng ký theo dõi", "Subscription")
        session.delete(subscription)


@command("comment_wto_notification")
def add_comment(rt: Runtime, actor: User, notification_id: int, body: str) -> WtoComment:
    permissions.require(actor, actions.WTO_COMMENT)
    body = (body or "").strip()
    if len(body) < 10 or len(body) > 8000:
        raise _invalid(
            [
                FieldProblem(
                    "body",
                    "Nội dung góp ý từ 10 đến 8000 ký tự.",
                    "The comment must be 10 to 8000 characters.",
                    "length",
                )
            ]
        )
    with transaction(rt.engine) as session:
        notification = session.get(WtoNotification, notification_id)
        if notification is None:
            raise not_found("thông báo WTO", "WTO notification")
        if not comments_open(notification):
            day = deadline_text(notification.comment_deadline)
            raise Conflict(
                f"Đã hết hạn góp ý cho thông báo này (hạn cuối {day}).",
                f"Comments on this notification closed on {day}.",
                "comments_closed",
            )
        comment = WtoComment(notification_id=notification_id, user_id=actor.id, body=body)
        session.add(comment)
        session.flush()
        audit.record(
            session, f"wto:{notification_id}", "wto_comment_added", actor, {"comment_id": comment.id}
        )
        return comment


# --- compiling ----------------------------------------------------------------------------------


KIND = "tbt_wto_comments"
REFERENCE_LABELS = ("Thông báo TBT của WTO", "WTO TBT notification")


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


@command("compile_wto_comments")
def compile_comments(
    rt: Runtime, actor: User, notification_id: int, early_reason: str | None = None
) -> tuple[Document, bytes]:
    """Issue the compilation of every comment (.docx with number, SHA-256 and verification code).

    Only once the comment period is over (the day after the deadline, local time), when every
    business had its say; before that only with ``early_reason`` (e.g. the national TBT office
    asked for the comments early), which the audit trail records and the document prints."""
    _require_officer(actor)
    settings = rt.settings
    reason = (early_reason or "").strip()
    with transaction(rt.engine) as session:
        notification = session.get(WtoNotification, notification_id)
        if notification is None:
            raise not_found("thông báo WTO", "WTO notification")
        early = comments_open(notification)
        if early and not reason:
            deadline = deadline_text(notification.comment_deadline)
            raise Conflict(
                f"Chưa hết hạn góp ý (hạn cuối {deadline}): chỉ tổng hợp góp ý sau ngày {deadline}, "
                "hoặc nêu lý do phát hành sớm.",
                f"The comment period is still open (deadline {deadline}): compile the comments after "
                f"{deadline}, or give the reason for issuing early.",
                "comments_still_open",
            )
        if not early:
            reason = ""
        rows = session.exec(
            select(WtoComment, User)
            .join(User, User.id == WtoComment.user_id)
            .where(WtoComment.notification_id == notification_id)
            .order_by(WtoComment.created_at, WtoComment.id)
        ).all()
        at = now()
        comments = [
            {
                "organisation": f"{u.display_name}" + (f" (MST {u.tax_code})" if u.tax_code else ""),
                "date": to_local(c.created_at).strftime("%d/%m/%Y"),
                "body": c.body,
            }
            for c, u in rows
        ]

        def context(numbering: Numbering) -> DocumentContext:
            return DocumentContext(
                kind=KIND,
                number=numbering.number,
                issued_at=numbering.issued_at,
                agency_parent=settings.agency_parent,
                agency_name=settings.agency_name,
                place=settings.agency_place,
                dossier_code=notification.symbol,
                reference_label="Thông báo",
                applicant_name="",
                applicant_tax_code="",
                applicant_address="",
                data={},
                signer_name=actor.full_name,
                signer_title=authority_of(actor, settings),
                verification_code=numbering.verification_code,
                verify_url=numbering.verify_url,
                extra={
                    "notification": {
                        "symbol": notification.symbol,
                        "member": notification.member,
                        "title": notification.title,
                        "comment_deadline": deadline_text(notification.comment_deadline),
                    },
                    "comments": comments,
                    "early_reason": reason,
                },
            )

        return issue_document(
            session,
            rt,
            kind=KIND,
            issued_for=IssuedFor("wto_notification", notification_id, notification.symbol, *REFERENCE_LABELS),
            actor=actor,
            at=at,
            context=context,
            filename=f"tong-hop-gop-y-{_file_safe(notification.symbol)}.docx",
            stream=f"wto:{notification_id}",
            audit_action="wto_comments_compiled",
            audit_details={"comments": len(rows), **({"early_reason": reason} if reason else {})},
            details={"comment_count": len(rows), **({"early_reason": reason} if reason else {})},
        )


def compilations_of(rt: Runtime, actor: User, notification_id: int) -> list[Document]:
    """The compilations issued for a notification, newest first (officers only)."""
    _require_officer(actor)
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(Document)
                .where(Document.issued_for == "wto_notification", Document.issued_for_id == notification_id)
                .order_by(Document.issued_at.desc(), Document.id)
            ).all()
        )


def compilation_file(
    rt: Runtime, actor: User, notification_id: int, compilation_id: str
) -> tuple[Document, bytes]:
    """An issued compilation's stored .docx (officers only)."""
    _require_officer(actor)
    with reading(rt.engine) as session:
        compilation = session.get(Document, compilation_id)
        if (
            compilation is None
            or compilation.issued_for != "wto_notification"
            or compilation.issued_for_id != notification_id
        ):
            raise not_found("bản tổng hợp góp ý", "Compilation of comments")
    return compilation, rt.store.read(compilation.sha256)
