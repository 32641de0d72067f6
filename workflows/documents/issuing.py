"""Issuing a document, whatever it is issued for (DESIGN rule 8): number → verification code →
context → rendering → storage → the ``document`` row → the audit event, in the caller's
transaction. A dossier's outputs, a WTO notification's compilation of comments and an award
round's recommendation list are all issued here, so they number, store and verify alike.

A dossier's command defers the rendering (``defer``): everything the document says is fixed in
the command's transaction, and the .docx is rendered from it after the commit
(workflows.document_rendering)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from workflows import audit
from workflows.codes import document_symbol, new_document_number
from workflows.documents.authority import NoSigningAuthority, signer_authority
from workflows.documents.codes import new_verification_code
from workflows.documents.frozen import Unfreezable, freeze
from workflows.documents.model import DocumentContext, kind_named
from workflows.documents.template_versions import office_day, render_in_force, template_in_force
from workflows.documents.templating import prints_variable, signature_lines
from workflows.errors import Conflict
from workflows.models import Document, DocumentRendering, DocumentSigning, User

if TYPE_CHECKING:
    from workflows.config import Settings
    from workflows.runtime import Runtime


def authority_of(actor: User | None, settings: Settings) -> str:
    """The authority ``actor`` signs a letter or a result with (the lines over the signature,
    joined by "\n"), from their job title and roles and the director's title of the settings;
    "" for no actor or an officer who holds none (workflows.documents.authority)."""
    if actor is None:
        return ""
    return signer_authority(
        actor.job_title or "",
        actor.roles,
        director=settings.director_title,
        authorised_position=settings.tbt_signer_position,
    )


@dataclass(frozen=True)
class IssuedFor:
    """What a document is issued for: a dossier, or something a procedure keeps of its own."""

    subject: str  # "dossier", "wto_notification", "award_round"…
    subject_id: int | None
    reference: str  # what the document prints as its reference: a dossier code, a WTO symbol…
    label_vi: str  # "Hồ sơ", "Thông báo TBT của WTO"…
    label_en: str
    holder_name: str = ""
    dossier_id: int | None = None


@dataclass(frozen=True)
class Numbering:
    """What issuing gives a document before it is rendered."""

    number: str
    verification_code: str
    verify_url: str
    issued_at: datetime


def issue_document(
    session: Session,
    rt: Runtime,
    *,
    kind: str,
    issued_for: IssuedFor,
    actor: User | None,
    at: datetime,
    context: Callable[[Numbering], DocumentContext],
    filename: str,
    stream: str,
    audit_action: str = "document_issued",
    audit_details: Mapping[str, Any] | None = None,
    title: str | None = None,
    renditions: Callable[[Numbering], Mapping[str, tuple[str, bytes]]] | None = None,
    details: Mapping[str, Any] | None = None,
    procedure: str | None = None,
    defer: bool = False,
) -> tuple[Document, bytes | None]:
    """Issue one document of ``kind``; returns its row and its .docx bytes (None: rendered later).

    ``context`` builds what the document says once its number and verification code are known;
    ``renditions`` gives the same document in other formats ({format: (file name, bytes)});
    ``procedure`` (the dossier's procedure code) chooses among the kind's templates in force
    (workflows.documents.template_versions): the one that made it is in ``details["template"]``.
    ``defer``: the .docx is rendered after the command (workflows.document_rendering) when it
    can be: what it says and the template are fixed now, so it is the file the command would
    have made; its ``sha256`` is empty until then. Rendering takes tens of milliseconds, most of
    a command's time, and on SQLite it held the one write lock.
    """
    settings = rt.settings
    of_kind = kind_named(kind)
    symbol = document_symbol(
        of_kind.symbol, settings.document_symbol, settings.document_unit, letter=of_kind.letter
    )
    numbering = Numbering(
        number=new_document_number(session, symbol, at),
        verification_code=(code := new_verification_code()),
        verify_url=f"{settings.base_url.rstrip('/')}/verify/{code}",
        issued_at=at,
    )
    ctx = context(numbering)
    later = _rendering_later(session, rt, ctx, procedure) if defer and renditions is None else None
    content: bytes | None = None
    try:
        if later is None:
            content, made_by = render_in_force(session, rt.store, ctx, procedure)
        else:
            made_by = later.template
    except NoSigningAuthority as exc:
        raise Conflict(
            "Văn bản này phải do người có thẩm quyền ký (Giám đốc; KT., TL. hoặc TUQ. Giám đốc): chức danh "
            "của người thực hiện không phải là thẩm quyền ký.",
            "This document must be signed by an authority (the director, or KT./TL./TUQ. for the "
            "director): the acting officer's job title is not one.",
            "signing_authority_required",
        ) from exc
    digest = rt.store.put(content) if content is not None else ""
    other = {
        fmt: {"filename": name, "sha256": rt.store.put(data), "size": len(data)}
        for fmt, (name, data) in (renditions(numbering) if renditions else {}).items()
    }
    document = Document(
        id=secrets.token_hex(16),
        kind=kind,
        title=title or kind_named(kind).title_vi,
        number=numbering.number,
        issued_for=issued_for.subject,
        issued_for_id=issued_for.subject_id,
        dossier_id=issued_for.dossier_id,
        reference=issued_for.reference,
        reference_label_vi=issued_for.label_vi,
        reference_label_en=issued_for.label_en,
        holder_name=issued_for.holder_name,
        filename=filename,
        sha256=digest,
        size=len(content) if content is not None else 0,
        renditions=other,
        details={**(details or {}), **({"template": made_by} if made_by["source"] != "builder" else {})},
        verification_code=numbering.verification_code,
        issued_by_id=actor.id if actor else None,
        issued_at=at,
        audit_stream=stream,
    )
    session.add(document)
    if later is not None:
        session.add(
            DocumentRendering(
                document_id=document.id,
                context=later.context,
                template=later.template,
                procedure_code=procedure,
            )
        )
    # The signed PDF is made off the command's path, within seconds (workflows.document_signing).
    session.add(DocumentSigning(document_id=document.id, due_at=at))
    audit.record(
        session,
        stream,
        audit_action,
        actor,
        {
            "kind": kind,
            "number": numbering.number,
            "verification_code": numbering.verification_code,
            # Rendered later: its SHA-256 is recorded by the "document_rendered" event.
            **({} if content is None else {"sha256": digest}),
            **{f"{fmt}_sha256": rendition["sha256"] for fmt, rendition in other.items()},
            **(audit_details or {}),
        },
        dossier_id=issued_for.dossier_id,
        at=at,
    )
    return document, content


@dataclass(frozen=True)
class _Later:
    context: dict[str, Any]
    template: dict[str, Any]


def _rendering_later(
    session: Session, rt: Runtime, ctx: DocumentContext, procedure: str | None
) -> _Later | None:
    """What rendering ``ctx`` after the command needs, if nothing the rendering could refuse
    is left to it; None: render it now (its refusal, e.g. a signer without authority, is the
    command's)."""
    try:
        kind_named(ctx.kind).builder(ctx)  # what the kind refuses (a missing reason) fails here
        frozen = freeze(ctx)
    except (NoSigningAuthority, ValueError, Unfreezable):
        return None
    chosen = template_in_force(session, rt.store, ctx.kind, procedure, office_day(ctx.issued_at))
    try:
        signature_lines(ctx)
    except NoSigningAuthority:
        # A signer without authority: the rendering refuses only if it prints the authority (a
        # slip signed by the officer who received the dossier does not), as the template shows.
        if chosen is None or prints_variable(chosen.content, "signature_lines"):
            return None
    return _Later(frozen, chosen.record() if chosen else {"source": "builder"})


def rendition_of(document: Document, fmt: str) -> tuple[str, str] | None:
    """(file name, SHA-256) of the document in ``fmt`` ("docx" is the document itself, "pdf" its
    signed official copy once the worker made it), or None."""
    if fmt == "docx":
        return document.filename, document.sha256
    if fmt == "pdf":
        stem = document.filename.rsplit(".", 1)[0]
        return (f"{stem}.pdf", document.pdf_sha256) if document.pdf_sha256 else None
    rendition = (document.renditions or {}).get(fmt)
    return (rendition["filename"], rendition["sha256"]) if rendition else None
