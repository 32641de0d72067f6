"""Asking the inquiry point, and following an inquiry by its secret link.

A logged-in business asks as itself (the answer goes to its account); anyone else asks as a
visitor (``workflows.procedures.tbt.visitors``) after the anti-abuse checks, and is rate-limited per client
IP and per e-mail address. Either way the inquiry is a dossier of the ``hoi-dap-tbt`` procedure,
started in one transaction with everything else the request writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from workflows import permissions, ratings, submission
from workflows.attachments import store_upload
from workflows.clock import now
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import FieldProblem, InvalidInput, not_found
from workflows.models import ClockPause, Document, Dossier, User
from workflows.procedures.tbt import actions, antiabuse
from workflows.procedures.tbt.visitors import check_follow_token, follow_path, visitor_for
from workflows.queries import being_signed

if TYPE_CHECKING:
    from workflows.runtime import Runtime

PROCEDURE = "hoi-dap-tbt"
MAX_FILES = 5  # sent with the question from the page (the form allows 10 attachments in all)


@dataclass(frozen=True)
class Asked:
    dossier: Dossier
    follow_path: str | None  # for a visitor: the secret link (also e-mailed)


def _asker_problems(asker: dict[str, Any]) -> list[FieldProblem]:
    problems = []
    if not str(asker.get("name") or "").strip():
        problems.append(FieldProblem("asker.name", "Nhập họ và tên.", "Enter your full name.", "required"))
    if not str(asker.get("email") or "").strip():
        problems.append(
            FieldProblem(
                "asker.email",
                "Nhập thư điện tử để nhận câu trả lời.",
                "Enter an e-mail address to receive the answer.",
                "required",
            )
        )
    return problems


@command("ask_tbt_question")
def ask(
    rt: Runtime,
    actor: User | None,
    data: dict[str, Any],
    *,
    client_ip: str,
    form_token: str | None = None,
    captcha_answer: str | None = None,
    honeypot: str | None = None,
    files: Sequence[tuple[str, bytes]] = (),
) -> Asked:
    """File an inquiry. ``actor`` is the logged-in user, None for a visitor; ``files`` (name,
    content) are stored as the asker's attachments in the same transaction."""
    procedure = rt.procedure_for_new_dossier(PROCEDURE, now()) or rt.procedure(PROCEDURE)
    data = dict(data)
    data.setdefault("consent_publish", False)
    if actor is not None:
        permissions.require(actor, actions.ASK_WITH_ACCOUNT)
        asker = dict(data.get("asker") or {})
        asker.setdefault("name", actor.full_name)
        asker.setdefault("email", actor.email)
        if actor.organisation_name:
            asker.setdefault("organisation", actor.organisation_name)
        data["asker"] = asker
        _check_file_count(files)
        with transaction(rt.engine) as session:
            _attach(rt, session, actor, data, files)
            dossier = submission.start_in_transaction(rt, session, actor, procedure, data)
        return Asked(dossier, None)

    antiabuse.check_challenge(rt.settings.signing_key(), form_token, captcha_answer, honeypot)
    asker = data.get("asker") if isinstance(data.get("asker"), dict) else {}
    problems = _asker_problems(asker)
    if problems:
        raise InvalidInput(
            "Dữ liệu biểu mẫu chưa hợp lệ, xin kiểm tra các trường được đánh dấu.",
            "The form data is not valid; check the fields marked.",
            "validation_error",
            problems,
        )
    if data.get("attachments"):
        raise InvalidInput(
            "Khách chưa đăng nhập không gửi kèm tệp; vui lòng mô tả trong câu hỏi hoặc đăng nhập.",
            "Visitors cannot attach files; describe them in the question or log in.",
            "validation_error",
            [
                FieldProblem(
                    "attachments", "Chỉ doanh nghiệp đã đăng nhập.", "Logged-in businesses only.", "forbidden"
                )
            ],
        )
    with transaction(rt.engine) as session:
        antiabuse.check_rate(session, client_ip, str(asker["email"]))
        visitor = visitor_for(
            session,
            str(asker["email"]),
            str(asker["name"]),
            str(asker.get("organisation") or ""),
            str(asker.get("phone") or ""),
        )
        _attach(rt, session, visitor, data, files)
        dossier = submission.start_in_transaction(rt, session, visitor, procedure, data)
    return Asked(dossier, follow_path(rt.settings.signing_key(), dossier.code))


def _check_file_count(files: Sequence[tuple[str, bytes]]) -> None:
    if len(files) > MAX_FILES:
        raise InvalidInput(
            f"Gửi tối đa {MAX_FILES} tệp cùng câu hỏi.",
            f"At most {MAX_FILES} files can be sent with a question.",
            "validation_error",
            [
                FieldProblem(
                    "attachments", f"Tối đa {MAX_FILES} tệp.", f"At most {MAX_FILES} files.", "maxItems"
                )
            ],
        )


def _attach(
    rt: Runtime, session: Session, owner: User, data: dict[str, Any], files: Sequence[tuple[str, bytes]]
) -> None:
    """Store the files sent with the question as the asker's, in the question's transaction."""
    if not files:
        return
    ids = list(data.get("attachments") or [])
    for name, content in files:
        attachment = store_upload(session, rt.store, owner, name, content, rt.settings.max_upload_bytes)
        ids.append(attachment.id)
    session.flush()
    data["attachments"] = ids


@dataclass(frozen=True)
class FollowView:
    dossier: Dossier
    documents: list[Document]
    forwarded: ClockPause | None  # the wait on an outside body, if any


def follow(rt: Runtime, code: str, token: str) -> FollowView:
    """What the secret link shows: the inquiry's status, deadline, the answer and its documents.
    A wrong token is "not found", as for a code that does not exist."""
    if not check_follow_token(rt.settings.signing_key(), code, token):
        raise not_found("câu hỏi", "Inquiry")
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
        if dossier is None or dossier.procedure_code != PROCEDURE:
            raise not_found("câu hỏi", "Inquiry")
        documents = list(
            session.exec(
                select(Document).where(Document.dossier_id == dossier.id).order_by(Document.issued_at)
            ).all()
        )
        forwarded = session.exec(
            select(ClockPause)
            .where(ClockPause.dossier_id == dossier.id, ClockPause.reason == "forwarded")
            .order_by(ClockPause.started_at.desc())
        ).first()
    return FollowView(dossier, documents, forwarded)


def follow_document(rt: Runtime, code: str, token: str, document_id: str) -> tuple[Document, bytes]:
    """The official copy (the signed PDF) of a document of the inquiry, through its follow link;
    ``Conflict`` ``document_being_signed`` for the seconds before the worker has signed it."""
    view = follow(rt, code, token)
    document = next((d for d in view.documents if d.id == document_id), None)
    if document is None:
        raise not_found("văn bản", "Document")
    if document.pdf_sha256 is None:
        raise being_signed()
    return document, rt.store.read(document.pdf_sha256)


def follow_rate(rt: Runtime, code: str, token: str, score: object, comment: str) -> None:
    """The visitor rates the answer's service through the follow link (the link stands for its
    sign-in): as the inquiry's applicant, once, after the answer (workflows.ratings)."""
    view = follow(rt, code, token)
    with reading(rt.engine) as session:
        asker = session.get(User, view.dossier.applicant_id)
    if asker is None:
        raise not_found("câu hỏi", "Inquiry")
    ratings.rate(rt, asker, code, score, comment)
