"""A leader signs a result personally: the prepared PDF out, the leader's signed PDF back in.

A leader with a registered certificate (``workflows.signer_certificates``) who chose to sign
personally has the results they approve held for them: the document is issued as always, but its
``document_signing`` row names the leader (``awaiting_user_id``) and the agency's worker skips it.
The leader downloads the prepared PDF (rendered once, stored content-addressed, its SHA-256 kept on
the row), signs it with their token's software, and uploads the result. It is accepted only when

1. its first bytes are the prepared PDF's, exactly: an incremental-update signature appends to the
   file, so the original revision stays a prefix — and pyHanko's reading of the file agrees: its
   one signature was added in a revision after the prepared ones, and what those revisions change
   is no more than a signature: the objects of the prepared file it rewrites are the catalogue (its
   form), pages (their annotations), the document information and metadata, nothing else — a prefix
   alone would let the update rewrite a page's content;
2. ``validate_pdf`` finds one signature, intact, valid, trusted against the configured roots and
   covering the whole file (nothing appended after it);
3. its signer's certificate is the leader's registered one (SHA-256), not revoked.

Accepting is one transaction that re-reads the row under a lock: a second upload, a hand-back or a
revocation that got there first makes the later one a 409, and the agency's worker never has the
row while it waits for the leader. A leader may also hand the document back to the agency.
"""

from __future__ import annotations

import logging
from datetime import datetime
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import Session, col, select

from workflows import audit, permissions
from workflows.awaiting_signature import hand_to_agency
from workflows.clock import now
from workflows.db import reading, transaction
from workflows.document_rendering import rendered
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import Document, DocumentSigning, User
from workflows.official_copy import render_pdf, validate_signatures
from workflows.outbox import emit
from workflows.runtime import Runtime
from workflows.signer_certificates import active_for

log = logging.getLogger("tdcflow.documents")

PERSONAL = "personal"


def _refused(vi: str, en: str, code: str) -> InvalidInput:
    return InvalidInput(vi, en, code, [FieldProblem("file", vi, en, code)])


# --- issuing: who signs --------------------------------------------------------------------------


def hold_for_signer(session: Session, document: Document, actor: User | None, at: datetime) -> bool:
    """In the issuing command's transaction: when ``actor`` is a leader who signs personally (an
    active registration with ``signs_personally``), the document waits for them, and they hear of
    it. Returns whether it does."""
    if actor is None or actor.id is None or not actor.has_role("leader"):
        return False
    registration = active_for(session, actor.id)
    if registration is None or not registration.signs_personally:
        return False
    session.flush()  # the issuing step added the queue row
    job = session.get(DocumentSigning, document.id)
    if job is None:
        return False
    job.awaiting_user_id = actor.id
    session.add(job)
    emit(
        session,
        "personal_signature_requested",
        document.dossier_id,
        {
            "user_ids": [actor.id],
            "waiting_document_id": document.id,
            "number": document.number,
            "title": document.title,
            "reference": document.reference,
            # The dossier's code: its page is where the leader downloads, signs and uploads it.
            "code": document.reference if document.dossier_id else "",
            **({} if document.dossier_id else {"link_path": "/account/signing"}),
        },
        at,
    )
    return True


# --- the leader's side ---------------------------------------------------------------------------


def waiting_in(rt: Runtime, document_ids: list[str]) -> dict[str, int]:
    """Of ``document_ids``, those waiting for a leader's own signature, and whose."""
    if not document_ids:
        return {}
    with reading(rt.engine) as session:
        rows = session.exec(
            select(DocumentSigning.document_id, DocumentSigning.awaiting_user_id).where(
                col(DocumentSigning.document_id).in_(document_ids),
                col(DocumentSigning.awaiting_user_id).is_not(None),
            )
        ).all()
    return {document_id: user_id for document_id, user_id in rows if user_id is not None}


def _waiting_job(session: Session, user: User, document_id: str, *, lock: bool = False) -> DocumentSigning:
    job = session.get(DocumentSigning, document_id, with_for_update=lock)
    if job is None or job.awaiting_user_id != user.id:
        raise not_found("văn bản chờ bạn ký", "Document waiting for your signature")
    return job


def prepared_pdf(rt: Runtime, user: User, document_id: str) -> tuple[Document, bytes]:
    """The prepared, unsigned PDF of a document waiting for ``user``: rendered on first request,
    stored content-addressed; the first rendering recorded is the one the upload is compared with."""
    permissions.require(user, permissions.PERSONAL_SIGNING)
    with reading(rt.engine) as session:
        job = _waiting_job(session, user, document_id)
        document = session.get(Document, document_id)
        assert document is not None
    if job.prepared_sha256 is not None:
        return document, rt.store.read(job.prepared_sha256)
    document = rendered(rt, document)
    pdf = render_pdf(rt.store.read(document.sha256), title=document.title)
    digest = rt.store.put(pdf)
    with transaction(rt.engine) as session:
        job = _waiting_job(session, user, document_id, lock=True)
        if job.prepared_sha256 is None:
            job.prepared_sha256 = digest
            session.add(job)
        else:  # another request rendered it first: theirs is the one
            digest = job.prepared_sha256
    return document, rt.store.read(digest)


def accept_signed(rt: Runtime, user: User, document_id: str, content: bytes) -> Document:
    """Make the leader's signed PDF the document's official copy, after the checks of the module;
    ``InvalidInput`` (field ``file``) says why not, and nothing is stored then."""
    permissions.require(user, permissions.PERSONAL_SIGNING)
    with reading(rt.engine) as session:
        registration = active_for(session, user.id)
    # The registration first: once revoked, the documents went back to the agency too.
    if registration is None:
        raise _refused(
            "Bạn không có chứng thư số đã đăng ký còn hiệu lực (chưa đăng ký, đã hết hạn hoặc đã bị thu hồi).",
            "You have no registered certificate in force (none, expired or revoked).",
            "no_registered_certificate",
        )
    with reading(rt.engine) as session:
        job = _waiting_job(session, user, document_id)
    if job.prepared_sha256 is None:
        raise Conflict(
            "Hãy tải bản PDF chuẩn bị để ký trước.",
            "Download the prepared PDF to sign first.",
            "not_prepared",
        )
    prepared = rt.store.read(job.prepared_sha256)
    _check_revisions(prepared, content)
    report = validate_signatures(rt.settings, content)
    if len(report.signatures) != 1 or report.problems:
        problems = "; ".join(report.all_problems) or "—"
        raise _refused(
            f"Tệp phải có đúng một chữ ký số, của bạn: {problems}",
            f"The file must carry exactly one signature, yours: {problems}",
            "signature_missing",
        )
    (info,) = report.signatures
    if not info.ok:
        problems = "; ".join(info.problems)
        raise _refused(
            f"Chữ ký số không đạt: {problems}",
            f"The signature does not hold: {problems}",
            "signature_invalid",
        )
    if info.certificate_sha256 != registration.sha256:
        raise _refused(
            "Tệp không được ký bằng chứng thư số đã đăng ký của bạn.",
            "The file is not signed with your registered certificate.",
            "certificate_not_registered",
        )
    at = now()
    signature = {
        "mode": PERSONAL,
        "signer": ", ".join(p for p in (info.signer_common_name, info.signer_organisation) if p)
        or user.full_name,
        "signer_user_id": user.id,
        "signer_name": user.full_name,
        "certificate_serial": info.certificate_serial,
        "certificate_sha256": info.certificate_sha256,
        "signing_time": info.signing_time.isoformat() if info.signing_time else None,
        "timestamp_at": info.timestamp_time.isoformat() if info.timestamp_time else None,
        "prepared_sha256": job.prepared_sha256,
    }
    digest = rt.store.put(content)  # stored only once every check passed (content-addressed)
    with transaction(rt.engine) as session:
        # The lock and re-read: a second upload, a hand-back or a revocation that committed first wins.
        job_now = session.get(DocumentSigning, document_id, with_for_update=True)
        if (
            job_now is None
            or job_now.awaiting_user_id != user.id
            or job_now.prepared_sha256 != job.prepared_sha256
        ):
            raise Conflict(
                "Văn bản đã được ký hoặc đã chuyển cho chữ ký số của cơ quan.",
                "The document was already signed or handed to the agency's signature.",
                "document_already_signed",
            )
        in_force = active_for(session, user.id)
        if in_force is None or in_force.sha256 != info.certificate_sha256:
            raise _refused(
                "Đăng ký chứng thư số của bạn vừa thay đổi hoặc bị thu hồi.",
                "Your certificate's registration was just changed or revoked.",
                "no_registered_certificate",
            )
        row = session.get(Document, document_id)
        assert row is not None
        row.pdf_sha256 = digest
        row.pdf_size = len(content)
        row.signed_at = at
        row.signature = signature
        session.add(row)
        session.delete(job_now)
        audit.record(
            session,
            row.audit_stream or f"document:{row.id}",
            "document_signed",
            user,
            {
                "kind": row.kind,
                "number": row.number,
                "sha256": row.sha256,
                "pdf_sha256": digest,
                "mode": PERSONAL,
                "prepared_sha256": job.prepared_sha256,
                "signer": signature["signer"],
                "certificate_serial": info.certificate_serial,
                "certificate_sha256": info.certificate_sha256,
                "timestamp_at": signature["timestamp_at"],
            },
            dossier_id=row.dossier_id,
            at=at,
        )
    log.info("document %s signed personally by user %s", document_id, user.id)
    return row


def hand_back(rt: Runtime, user: User, document_id: str) -> Document:
    """The leader leaves the document to the agency's signature ("ký bằng chữ ký số của cơ quan")."""
    permissions.require(user, permissions.PERSONAL_SIGNING)
    with transaction(rt.engine) as session:
        job = _waiting_job(session, user, document_id, lock=True)
        hand_to_agency(session, job, user, now(), "leader_chose_agency")
        document = session.get(Document, document_id)
        assert document is not None
    return document


def _check_revisions(prepared: bytes, content: bytes) -> None:
    """The prepared PDF is the upload's original revision, and what follows it only signs it."""
    not_prepared = _refused(
        "Tệp không phải là bản PDF đã chuẩn bị được ký thêm chữ ký số (nội dung gốc đã bị thay đổi).",
        "The file is not the prepared PDF with a signature added (the original content was changed).",
        "not_the_prepared_file",
    )
    if len(content) <= len(prepared) or not content.startswith(prepared):
        raise not_prepared
    try:
        old = PdfFileReader(BytesIO(prepared), strict=False)
        new = PdfFileReader(BytesIO(content), strict=False)
        base = old.xrefs.total_revisions  # the prepared file's revisions are 0 … base - 1
        signatures = new.embedded_signatures
        if not signatures or any(sig.signed_revision < base for sig in signatures):
            raise not_prepared
        changed = _changed_objects(old, new, base)
    except InvalidInput:
        raise
    except Exception as exc:  # a damaged or hostile file
        log.info("an uploaded signed PDF could not be read", exc_info=True)
        raise _refused(
            "Tệp PDF bị hỏng hoặc không đọc được.", "The PDF is damaged or unreadable.", "damaged_pdf"
        ) from exc
    if changed:
        log.info("an uploaded signed PDF rewrites objects of the prepared one: %s", changed[:10])
        raise not_prepared


# What a signing update may change in objects the prepared file had: the catalogue gains its form
# (and security or extension entries), a page its annotations (the signature's widget, perhaps
# visible); the document information and XMP metadata are restamped. Anything else — a content
# stream, a font, a page's resources — would change what the document says.
_CATALOGUE_MAY_CHANGE = frozenset({"/AcroForm", "/Perms", "/DSS", "/Extensions", "/Metadata"})
_PAGE_MAY_CHANGE = frozenset({"/Annots"})


def _changed_objects(old: PdfFileReader, new: PdfFileReader, base: int) -> list[str]:
    """The objects of the prepared file that the revisions after it change beyond a signature.

    pyHanko's difference analysis starts from a signed revision (it checks what follows a
    signature), and the prepared file has none, so the comparison of its objects is made here."""
    existing = set()
    for revision in range(base):
        existing |= set(old.xrefs.explicit_refs_in_revision(revision))
    info = old.trailer.raw_get("/Info") if "/Info" in old.trailer else None
    annots_arrays = _indirect_annots(old)
    problems: list[str] = []
    for revision in range(base, new.xrefs.total_revisions):
        for ref in new.xrefs.explicit_refs_in_revision(revision):
            if ref not in existing:
                continue  # a new object: only reachable through the entries allowed to change
            before, after = old.get_object(ref), new.get_object(ref)
            if info is not None and (ref.idnum, ref.generation) == (info.idnum, info.generation):
                continue
            if (ref.idnum, ref.generation) in annots_arrays:
                # A page's annotations kept in an array of their own: the widget is appended.
                if isinstance(after, list) and list(after[: len(before)]) == list(before):
                    continue
                problems.append(f"{ref.idnum} /Annots")
                continue
            kind = before.get("/Type") if hasattr(before, "get") else None
            if kind == "/Metadata" and after.get("/Type") == "/Metadata":
                continue
            allowed = {"/Catalog": _CATALOGUE_MAY_CHANGE, "/Page": _PAGE_MAY_CHANGE}.get(str(kind))
            if allowed is None or not hasattr(after, "keys"):
                problems.append(f"{ref.idnum} {kind}")
                continue
            keys = (set(before.keys()) | set(after.keys())) - allowed
            if any(
                before.raw_get(k) != after.raw_get(k) if k in before and k in after else True for k in keys
            ):
                problems.append(f"{ref.idnum} {kind}")
    return problems


def _indirect_annots(reader: PdfFileReader) -> set[tuple[int, int]]:
    """The pages' annotation arrays that are objects of their own (idnum, generation)."""
    found: set[tuple[int, int]] = set()
    pending = [(reader.root["/Pages"], 0)]
    while pending:
        node, depth = pending.pop()
        node = node.get_object()
        if depth > 32:  # a hostile page tree: what is left is refused as changed
            break
        if "/Kids" in node:
            pending.extend((kid, depth + 1) for kid in node["/Kids"])
        elif "/Annots" in node:
            annots = node.raw_get("/Annots")
            if hasattr(annots, "idnum"):
                found.add((annots.idnum, annots.generation))
    return found
