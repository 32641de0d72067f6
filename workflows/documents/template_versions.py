"""The versions of a kind's template: which one is in force, uploading one, withdrawing one.

The template in force for a document = the newest upload not withdrawn for its kind and the
dossier's procedure (or every procedure) whose effective day is on or before the issue day (in
the office's time zone), else the template the package ships (workflows/documents/templates/, or
next to a procedure's builder), else none: the kind's builder and ``docx_writer``. Issuing
records which one made the document (:func:`render_in_force`). Every upload and withdrawal is an
audit event of the stream ``template:<kind>``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, select

from workflows import audit
from workflows.clock import now, to_local
from workflows.db import reading, transaction
from workflows.documents.authority import NoSigningAuthority
from workflows.documents.docx_writer import render_document
from workflows.documents.model import DocumentContext, kind_named
from workflows.documents.template_check import CheckResult, check_template
from workflows.documents.templating import TEMPLATE_KINDS, package_template, render_template
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import DocumentTemplate, User

if TYPE_CHECKING:
    from workflows.runtime import Runtime
    from workflows.storage import BlobStore

log = logging.getLogger(__name__)

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class TemplateInForce:
    """The template a document is rendered from: an upload (``version_id``) or the package's."""

    source: str  # "upload" | "package"
    content: bytes
    sha256: str
    version_id: int | None = None

    def record(self) -> dict[str, Any]:
        """What ``document.details["template"]`` says of it."""
        return {"source": self.source, "id": self.version_id, "sha256": self.sha256}


def office_day(at: datetime) -> date:
    return to_local(at).date()


def stream_of(kind: str) -> str:
    return f"template:{kind}"


def upload_in_force(
    session: Session, kind: str, procedure_code: str | None, day: date
) -> DocumentTemplate | None:
    """The newest upload not withdrawn for ``kind`` and ``procedure_code`` (or every procedure)
    in force on ``day``."""
    if procedure_code:
        return session.exec(
            _UPLOAD_FOR_PROCEDURE, params={"kind": kind, "day": day, "procedure": procedure_code}
        ).first()
    return session.exec(_UPLOAD_FOR_EVERY_PROCEDURE, params={"kind": kind, "day": day}).first()


def _upload_in_force(scope: Any) -> Any:
    """The statement of :func:`upload_in_force` for a scope of procedures, built once (a document
    issued in a command reads it; building a statement costs more than running it)."""
    return (
        select(DocumentTemplate)
        .where(DocumentTemplate.kind == bindparam("kind"), col(DocumentTemplate.withdrawn_at).is_(None))
        .where(DocumentTemplate.effective_from <= bindparam("day"), scope)
        .order_by(col(DocumentTemplate.effective_from).desc(), col(DocumentTemplate.id).desc())
        .limit(1)
    )


_EVERY_PROCEDURE = DocumentTemplate.procedure_code.is_(None)  # type: ignore[union-attr]
_UPLOAD_FOR_EVERY_PROCEDURE = _upload_in_force(_EVERY_PROCEDURE)
_UPLOAD_FOR_PROCEDURE = _upload_in_force(
    or_(_EVERY_PROCEDURE, DocumentTemplate.procedure_code == bindparam("procedure"))
)


def template_in_force(
    session: Session, store: BlobStore, kind: str, procedure_code: str | None, day: date
) -> TemplateInForce | None:
    """The template ``kind`` is rendered from on ``day``; None: its builder."""
    if kind not in TEMPLATE_KINDS:
        return None
    upload = upload_in_force(session, kind, procedure_code, day)
    if upload is not None:
        return TemplateInForce("upload", store.read(upload.sha256), upload.sha256, upload.id)
    packaged = package_template(kind)
    if packaged is not None:
        return TemplateInForce("package", packaged, hashlib.sha256(packaged).hexdigest())
    return None


def render_in_force(
    session: Session, store: BlobStore, ctx: DocumentContext, procedure_code: str | None
) -> tuple[bytes, dict[str, Any]]:
    """The .docx of ``ctx`` from the template in force on its issue day (else the builder), and
    the record of what made it."""
    chosen = template_in_force(session, store, ctx.kind, procedure_code, office_day(ctx.issued_at))
    return render_chosen(ctx, chosen)


def chosen_template(store: BlobStore, kind: str, record: dict[str, Any]) -> TemplateInForce | None:
    """The template a ``record`` (``TemplateInForce.record()``) names, as chosen when a document
    was issued and rendered later (workflows.document_rendering): an upload by its stored bytes,
    the package's as the package has it now; None: the builder."""
    if record.get("source") == "upload":
        return TemplateInForce("upload", store.read(record["sha256"]), record["sha256"], record.get("id"))
    if record.get("source") == "package":
        packaged = package_template(kind)
        if packaged is not None:
            return TemplateInForce("package", packaged, hashlib.sha256(packaged).hexdigest())
    return None


def render_chosen(ctx: DocumentContext, chosen: TemplateInForce | None) -> tuple[bytes, dict[str, Any]]:
    """The .docx of ``ctx`` from ``chosen`` (None: the builder), and the record of what made it."""
    if chosen is None:
        return render_document(ctx), {"source": "builder"}
    try:
        return render_template(chosen.content, ctx), chosen.record()
    except NoSigningAuthority:
        raise
    except ValueError:
        if chosen.source != "upload":
            raise
        # The check rendered the sample context only: a branch of the upload it did not take
        # fails here. The document is issued from the package's template (or the builder) rather
        # than not at all; what the kind itself refuses fails there again.
        log.exception(
            "Template version %s of %s failed; issuing from the package's", chosen.version_id, ctx.kind
        )
    packaged = package_template(ctx.kind)
    failed = {"failed_upload_id": chosen.version_id}
    if packaged is None:
        return render_document(ctx), {"source": "builder", **failed}
    fallback = TemplateInForce("package", packaged, hashlib.sha256(packaged).hexdigest())
    return render_template(packaged, ctx), {**fallback.record(), **failed}


# --------------------------------------------------------------------------- administration


@dataclass(frozen=True)
class KindTemplates:
    """A kind's templates for the administration pages."""

    kind: str
    title_vi: str
    title_en: str
    in_force: TemplateInForce | None
    versions: list[DocumentTemplate]
    variables: list[Any]


def overview(rt: Runtime, at: datetime | None = None) -> list[KindTemplates]:
    """Every kind that may have a template, with the one in force today (for every procedure) and
    its uploads, newest first."""
    day = office_day(at or now())
    with reading(rt.engine) as session:
        rows = session.exec(
            select(DocumentTemplate).order_by(
                col(DocumentTemplate.effective_from).desc(), col(DocumentTemplate.id).desc()
            )
        ).all()
        listed = []
        for kind, of_kind in sorted(TEMPLATE_KINDS.items()):
            named = kind_named(kind)
            listed.append(
                KindTemplates(
                    kind,
                    named.title_vi,
                    named.title_en,
                    template_in_force(session, rt.store, kind, None, day),
                    [row for row in rows if row.kind == kind],
                    list(of_kind.variables),
                )
            )
    return listed


def _known_kind(kind: str) -> None:
    if kind not in TEMPLATE_KINDS:
        raise not_found("loại văn bản có mẫu", "Document kind with a template")


def current_template(rt: Runtime, kind: str, procedure_code: str | None = None) -> TemplateInForce:
    """The template in force today (to download and edit in Word)."""
    _known_kind(kind)
    with reading(rt.engine) as session:
        chosen = template_in_force(session, rt.store, kind, procedure_code, office_day(now()))
    if chosen is None:
        raise not_found("mẫu văn bản", "Template")
    return chosen


def _refused(result: CheckResult) -> InvalidInput:
    return InvalidInput(
        "Mẫu không đạt kiểm tra: " + " ".join(p.vi for p in result.problems),
        "The template failed the check: " + " ".join(p.en for p in result.problems),
        "template_refused",
        [FieldProblem("file", p.vi, p.en, "template_refused") for p in result.problems],
    )


def upload(
    rt: Runtime,
    actor: User,
    kind: str,
    content: bytes,
    *,
    filename: str,
    effective_from: date,
    decided_by: str,
    procedure_code: str | None = None,
) -> tuple[DocumentTemplate, CheckResult]:
    """Check and store a new version of ``kind``'s template; refused (InvalidInput, with the
    check's reasons) unless it passes. A version may not take effect in the past: documents
    already issued were rendered from the one in force then."""
    _known_kind(kind)
    problems = []
    decided_by = " ".join(decided_by.split())
    if not decided_by:
        problems.append(
            FieldProblem("decided_by", "Cần nêu văn bản quyết định mẫu.", "Name the deciding document.")
        )
    if effective_from < office_day(now()):
        problems.append(
            FieldProblem(
                "effective_from",
                "Ngày hiệu lực không được trước hôm nay.",
                "The effective date cannot be in the past.",
            )
        )
    if len(content) > MAX_TEMPLATE_BYTES:
        problems.append(
            FieldProblem("file", "Tệp quá lớn (tối đa 5 MB).", "The file is too large (5 MB at most).")
        )
    if problems:
        raise InvalidInput(
            "Dữ liệu chưa hợp lệ, xin kiểm tra các trường được đánh dấu.",
            "The data is not valid; check the fields marked.",
            "validation_error",
            problems,
        )
    if procedure_code is not None and procedure_code not in rt.catalogue.procedures:
        raise not_found("thủ tục", "Procedure")
    result = check_template(kind, content)
    if not result.ok:
        log.info("Template of %s refused: %s", kind, [p.en for p in result.problems])
        raise _refused(result)
    digest = rt.store.put(content)
    preview = rt.store.put(result.preview_pdf) if result.preview_pdf else None
    at = now()
    with transaction(rt.engine) as session:
        version = DocumentTemplate(
            kind=kind,
            procedure_code=procedure_code,
            effective_from=effective_from,
            sha256=digest,
            filename=filename[:255] or f"{kind}.docx",
            decided_by=decided_by[:300],
            uploaded_by_id=actor.id,
            uploaded_at=at,
            check_report=result.report(preview),
        )
        session.add(version)
        session.flush()
        audit.record(
            session,
            stream_of(kind),
            "template_uploaded",
            actor,
            {
                "id": version.id,
                "kind": kind,
                "procedure_code": procedure_code,
                "effective_from": effective_from.isoformat(),
                "sha256": digest,
                "filename": version.filename,
                "decided_by": version.decided_by,
            },
            at=at,
        )
        session.expunge(version)
    log.info("Template of %s uploaded: version %s, in force from %s", kind, version.id, effective_from)
    return version, result


def version_of(rt: Runtime, version_id: int) -> DocumentTemplate:
    with reading(rt.engine) as session:
        version = session.get(DocumentTemplate, version_id)
        if version is None:
            raise not_found("phiên bản mẫu", "Template version")
        session.expunge(version)
    return version


def withdraw(rt: Runtime, actor: User, version_id: int) -> DocumentTemplate:
    """Withdraw a version: documents issued from now on use the next one in force (audited)."""
    at = now()
    with transaction(rt.engine) as session:
        version = session.exec(
            select(DocumentTemplate).where(DocumentTemplate.id == version_id).with_for_update()
        ).one_or_none()
        if version is None:
            raise not_found("phiên bản mẫu", "Template version")
        if version.withdrawn_at is not None:
            raise Conflict(
                "Phiên bản mẫu này đã được thu hồi.",
                "This template version is already withdrawn.",
                "withdrawn",
            )
        version.withdrawn_at, version.withdrawn_by_id = at, actor.id
        session.add(version)
        audit.record(
            session,
            stream_of(version.kind),
            "template_withdrawn",
            actor,
            {"id": version.id, "kind": version.kind, "sha256": version.sha256},
            at=at,
        )
        session.flush()
        session.expunge(version)
    log.info("Template version %s of %s withdrawn", version_id, version.kind)
    return version
