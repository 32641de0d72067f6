"""The TBT inquiry point's API: asking (visitors too), following an inquiry by its secret link,
the knowledge base, WTO notifications, subscriptions and comments."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field

from api.bounds import PageNumber
from api.client_address import client_address
from api.deps import CurrentUser, RowId, RuntimeDep, user_from_token
from api.errors import ERROR_RESPONSES, ErrorBody
from api.files import PDF, file_response
from workflows.clock import as_utc
from workflows.config import Settings
from workflows.document_signing import pdf_filename
from workflows.models import User
from workflows.procedures.tbt import antiabuse, inquiries, knowledge, wto
from workflows.runtime import Runtime
from workflows.statuses import status_label

_TOO_MANY = {"model": ErrorBody, "description": "Quá nhiều yêu cầu / Too many requests (Retry-After)"}
router = APIRouter(prefix="/api/tbt", tags=["tbt"], responses={**ERROR_RESPONSES, 429: _TOO_MANY})

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_optional_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def optional_user(rt: RuntimeDep, token: Annotated[str | None, Depends(_optional_bearer)]) -> User | None:
    """The logged-in user if a token is sent (a bad token is refused, not ignored); else None."""
    return user_from_token(rt, token) if token else None


MaybeUser = Annotated[User | None, Depends(optional_user)]


def client_ip(request: Request, settings: Settings) -> str:
    """The asker's address for the rate limit (through trusted proxies: api.client_address)."""
    return client_address(request, settings)


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat() if value else None


# --- asking -------------------------------------------------------------------------------------


class FormTokenOut(BaseModel):
    token: str
    question: str
    question_en: str


@router.get("/form-token", response_model=FormTokenOut)
def form_token(rt: RuntimeDep) -> FormTokenOut:
    """Phiếu biểu mẫu có phép tính kiểm tra (khách chưa đăng nhập) / A signed form token with a small sum for visitors."""
    challenge = antiabuse.new_challenge(rt.settings.signing_key())
    return FormTokenOut(
        token=challenge.token, question=challenge.question_vi, question_en=challenge.question_en
    )


class AskIn(BaseModel):
    data: dict[str, Any]
    form_token: str | None = Field(default=None, max_length=500)
    captcha_answer: str | None = Field(default=None, max_length=10)
    website: str | None = Field(default=None, max_length=300, description="Honeypot: leave empty")


def inquiry_json(rt: Runtime, dossier: Any, follow: str | None = None) -> dict[str, Any]:
    vi, en = status_label(dossier.status)
    body = {
        "code": dossier.code,
        "status": dossier.status,
        "status_label": {"vi": vi, "en": en},
        "subject": dossier.subject,
        "submitted_at": _iso(dossier.submitted_at),
        "appointment_at": _iso(dossier.appointment_at),
        "completed_at": _iso(dossier.completed_at),
    }
    if follow:
        body["follow_url"] = f"{rt.settings.base_url.rstrip('/')}{follow}"
    return body


@router.post("/inquiries", status_code=status.HTTP_201_CREATED)
def ask(body: AskIn, request: Request, rt: RuntimeDep, user: MaybeUser) -> dict[str, Any]:
    """Gửi câu hỏi (doanh nghiệp đã đăng nhập, hoặc khách có họ tên và thư điện tử) / Ask a question."""
    asked = inquiries.ask(
        rt,
        user,
        body.data,
        client_ip=client_ip(request, rt.settings),
        form_token=body.form_token,
        captcha_answer=body.captcha_answer,
        honeypot=body.website,
    )
    return inquiry_json(rt, asked.dossier, asked.follow_path)


@router.get("/follow/{code}/{token}")
def follow(code: str, token: str, rt: RuntimeDep) -> dict[str, Any]:
    """Theo dõi câu hỏi bằng đường dẫn bí mật / Follow an inquiry by its secret link."""
    view = inquiries.follow(rt, code, token)
    data = view.dossier.data
    body = inquiry_json(rt, view.dossier)
    body.update(
        {
            "question": data.get("question"),
            "answer": data.get("answer") if view.documents and data.get("answer") else None,
            "forwarded": (
                {
                    "to": view.forwarded.details.get("forwarded_to"),
                    "at": _iso(view.forwarded.started_at),
                    "replied_at": _iso(view.forwarded.ended_at),
                }
                if view.forwarded
                else None
            ),
            "documents": [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "title": d.title,
                    "number": d.number,
                    "verification_code": d.verification_code,
                    # The signed PDF (the official copy) is ready; until then the url answers 409.
                    "signed": d.pdf_sha256 is not None,
                    "url": f"/api/tbt/follow/{code}/{token}/documents/{d.id}",
                }
                for d in view.documents
            ],
        }
    )
    return body


@router.get("/follow/{code}/{token}/documents/{document_id}", response_class=Response)
def follow_document(code: str, token: str, document_id: str, rt: RuntimeDep) -> Response:
    document, content = inquiries.follow_document(rt, code, token, document_id)
    return file_response(content, PDF, pdf_filename(document))


# --- knowledge base -----------------------------------------------------------------------------


def _segments(parts: list[tuple[str, bool]]) -> str:
    """Highlights as text with the matches in «»: JSON clients get plain text."""
    return "".join(f"«{t}»" if hit else t for t, hit in parts)


@router.get("/kb")
def kb_search(
    rt: RuntimeDep, q: str = Query(default="", max_length=200), page: PageNumber = 1
) -> dict[str, Any]:
    """Tra cứu hỏi đáp đã công bố (có dấu hoặc không dấu) / Search published answers."""
    results = knowledge.search(rt, q, page)
    return {
        "query": q,
        "total": results.total,
        "page": results.page,
        "page_size": results.page_size,
        "items": [{**knowledge.entry_json(h.entry), "highlight": _segments(h.snippet)} for h in results.hits],
    }


@router.get("/kb/{entry_id}")
def kb_entry(entry_id: RowId, rt: RuntimeDep) -> dict[str, Any]:
    return knowledge.entry_json(knowledge.get_entry(rt, entry_id))


class EntryChanges(BaseModel):
    subject: str | None = Field(default=None, max_length=400)
    question: str | None = Field(default=None, max_length=9000)
    answer: str | None = Field(default=None, max_length=13000)


@router.patch("/kb/{entry_id}")
def kb_edit(entry_id: RowId, body: EntryChanges, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """Cán bộ TBT sửa hỏi đáp đã công bố / The TBT officer corrects a published answer."""
    changes = body.model_dump(exclude_none=True)
    return knowledge.entry_json(knowledge.edit_entry(rt, user, entry_id, changes))


class UnpublishIn(BaseModel):
    reason: str = Field(max_length=2000)


@router.post("/kb/{entry_id}/unpublish", status_code=status.HTTP_204_NO_CONTENT)
def kb_unpublish(entry_id: RowId, body: UnpublishIn, rt: RuntimeDep, user: CurrentUser) -> Response:
    """Gỡ hỏi đáp khỏi cơ sở dữ liệu, có lý do / Take a published answer down, with a reason."""
    knowledge.unpublish(rt, user, entry_id, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- WTO notifications --------------------------------------------------------------------------


class NotificationIn(BaseModel):
    member: str = ""
    symbol: str = ""
    title: str = ""
    products: str = ""
    hs_codes: list[str] | str = []
    description: str = ""
    objective: str = ""
    circulated_on: str | None = None
    comment_deadline: str | None = None


@router.get("/wto-notifications")
def list_notifications(
    rt: RuntimeDep, q: str = Query(default="", max_length=200), page: PageNumber = 1
) -> dict[str, Any]:
    found = wto.list_notifications(rt, q, page)
    return {
        "total": found.total,
        "page": found.page,
        "items": [wto.notification_json(n) for n in found.items],
    }


@router.post("/wto-notifications", status_code=status.HTTP_201_CREATED)
def register_notification(body: NotificationIn, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """Đăng ký thông báo TBT của WTO, báo cho doanh nghiệp theo dõi / Register a WTO notification."""
    return wto.notification_json(wto.register_notification(rt, user, body.model_dump()), 0)


@router.get("/wto-notifications/{notification_id}")
def get_notification(notification_id: RowId, rt: RuntimeDep) -> dict[str, Any]:
    n = wto.get_notification(rt, notification_id)
    return wto.notification_json(n, wto.comment_count(rt, notification_id))


class CommentIn(BaseModel):
    body: str = Field(max_length=10000)


def comment_json(comment: Any, author: User) -> dict[str, Any]:
    return {
        "id": comment.id,
        "body": comment.body,
        "organisation": author.display_name,
        "tax_code": author.tax_code,
        "created_at": _iso(comment.created_at),
    }


@router.post("/wto-notifications/{notification_id}/comments", status_code=status.HTTP_201_CREATED)
def add_comment(notification_id: RowId, body: CommentIn, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """Góp ý cho thông báo trước hạn / Comment on a notification before its deadline."""
    return comment_json(wto.add_comment(rt, user, notification_id, body.body), user)


@router.get("/wto-notifications/{notification_id}/comments")
def list_comments(notification_id: RowId, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """Cán bộ xem mọi góp ý; doanh nghiệp xem góp ý của mình / Officers see all comments, a business its own."""
    wto.get_notification(rt, notification_id)
    return {"items": [comment_json(c, u) for c, u in wto.comments_of(rt, user, notification_id)]}


class CompilationIn(BaseModel):
    # Before the comment deadline has passed the compilation needs a reason (recorded and printed).
    early_reason: str = Field(default="", max_length=2000)


@router.post("/wto-notifications/{notification_id}/compilation", response_class=Response)
def compile_comments(
    notification_id: RowId,
    rt: RuntimeDep,
    user: CurrentUser,
    body: Annotated[CompilationIn | None, Body()] = None,
) -> Response:
    """Tổng hợp góp ý (.docx) gửi Văn phòng TBT Việt Nam, sau hạn góp ý hoặc trước hạn với lý do
    phát hành sớm (409 nếu thiếu) / Compile the comments (.docx), after the comment deadline, or
    before it with the reason for issuing early (409 without one)."""
    early_reason = body.early_reason if body is not None else ""
    compilation, content = wto.compile_comments(rt, user, notification_id, early_reason)
    response = file_response(content, DOCX, f"tong-hop-gop-y-{notification_id}.docx")
    # A letter's number holds the unit's abbreviation ("12/SKHCN-TĐC"): percent-encoded UTF-8, as
    # a header carries ASCII only.
    response.headers["X-Document-Number"] = quote(compilation.number, safe="/-")
    response.headers["X-Verification-Code"] = compilation.verification_code
    return response


class SubscriptionIn(BaseModel):
    hs_prefix: str = Field(default="", max_length=13)
    keyword: str = Field(default="", max_length=200)


def subscription_json(s: Any) -> dict[str, Any]:
    return {"id": s.id, "hs_prefix": s.hs_prefix, "keyword": s.keyword, "created_at": _iso(s.created_at)}


@router.get("/subscriptions")
def my_subscriptions(rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    return {"items": [subscription_json(s) for s in wto.subscriptions_of(rt, user)]}


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def subscribe(body: SubscriptionIn, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """Theo dõi thông báo theo đầu mã HS và/hoặc từ khóa / Follow notifications by HS prefix and/or keyword."""
    return subscription_json(wto.subscribe(rt, user, body.hs_prefix, body.keyword))


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(subscription_id: RowId, rt: RuntimeDep, user: CurrentUser) -> Response:
    wto.unsubscribe(rt, user, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
