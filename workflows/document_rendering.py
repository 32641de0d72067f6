"""The .docx of a document issued by a command, rendered after the command committed.

Rendering a document from its template takes tens of milliseconds, more than the rest of the
command that issues it, and on SQLite the command holds the database's one write lock meanwhile.
So a command issues the document (its number, verification code, what it says and the template
of its issue day are fixed in the command's transaction: a ``document_rendering`` row,
workflows.documents.issuing) and the file is rendered afterwards, by whoever needs it first:

* the signing worker, within seconds (it renders every pending document before it signs any);
* a reader of the file or its SHA-256 (the officers' editable copy, the verification page, a
  dossier's documents in the API) who comes sooner.

Rendering happens outside any transaction; a short transaction then stores the result if the
document is still pending, deletes the row and records ``document_rendered`` (the .docx's SHA-256)
on the document's audit stream. Two renderers at once make the same bytes (rendering is
deterministic) and only the first is recorded. A rendering that fails is logged with its
traceback and left pending: the next reader or worker pass tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlmodel import col, select

from workflows import audit
from workflows.db import reading, transaction
from workflows.documents.frozen import thaw
from workflows.documents.template_versions import chosen_template, render_chosen
from workflows.models import Document, DocumentRendering

if TYPE_CHECKING:
    from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.documents")


def render_pending(rt: Runtime, document_id: str) -> bool:
    """Render ``document_id`` if it is still pending; whether it is rendered now (by us or another)."""
    with reading(rt.engine) as session:
        pending = session.get(DocumentRendering, document_id)
    if pending is None:
        return True
    ctx = thaw(pending.context)
    try:
        content, made_by = render_chosen(ctx, chosen_template(rt.store, ctx.kind, pending.template))
    except Exception:
        log.exception("rendering document %s failed; it stays pending and is tried again", document_id)
        return False
    digest = rt.store.put(content)
    with transaction(rt.engine) as session:
        row = session.exec(
            select(DocumentRendering).where(DocumentRendering.document_id == document_id).with_for_update()
        ).first()
        if row is None:  # another renderer stored the same bytes meanwhile
            return True
        document = session.get(Document, document_id)
        assert document is not None  # the foreign key
        document.sha256 = digest
        document.size = len(content)
        if made_by.get("source") != "builder" or "failed_upload_id" in made_by:
            document.details = {**(document.details or {}), "template": made_by}
        session.add(document)
        session.delete(row)
        audit.record(
            session,
            document.audit_stream or f"document:{document.id}",
            "document_rendered",
            None,
            {"kind": document.kind, "number": document.number, "sha256": digest},
            dossier_id=document.dossier_id,
        )
    return True


def rendered(rt: Runtime, document: Document) -> Document:
    """``document`` with its .docx: rendered now if it was still pending (read again after)."""
    if document.sha256:
        return document
    render_pending(rt, document.id)
    with reading(rt.engine) as session:
        fresh = session.get(Document, document.id)
    assert fresh is not None
    return fresh


def all_rendered(rt: Runtime, documents: Iterable[Document]) -> list[Document]:
    return [rendered(rt, d) for d in documents]


def render_due(rt: Runtime, max_items: int = 200, budget_seconds: float | None = None) -> int:
    """Render the pending documents, oldest first, within ``max_items`` and the time budget;
    how many were rendered."""
    started = time.monotonic()
    with reading(rt.engine) as session:
        due = session.exec(
            select(DocumentRendering.document_id)
            .join(Document, col(Document.id) == col(DocumentRendering.document_id))
            .order_by(col(Document.issued_at), col(Document.id))
            .limit(max_items)
        ).all()
    done = 0
    for document_id in due:
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
        done += render_pending(rt, document_id)
    return done
