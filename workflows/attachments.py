"""Uploaded files: size limit and type allow-list checked by the file's content, not its name."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from sqlmodel import Session

from workflows.errors import FieldProblem, UploadRejected
from workflows.file_structure import Damaged, check_whole
from workflows.models import Attachment, User
from workflows.storage import BlobStore


@dataclass(frozen=True)
class AllowedType:
    mime: str
    extensions: tuple[str, ...]


# Detected kind (by magic bytes) -> accepted MIME type and the file-name endings that may carry it.
ALLOWED_TYPES: dict[str, AllowedType] = {
    "pdf": AllowedType("application/pdf", ("pdf",)),
    "png": AllowedType("image/png", ("png",)),
    "jpg": AllowedType("image/jpeg", ("jpg", "jpeg")),
    "webp": AllowedType("image/webp", ("webp",)),
    "tif": AllowedType("image/tiff", ("tif", "tiff")),
    "docx": AllowedType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)),
    "xlsx": AllowedType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "pptx": AllowedType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",)
    ),
    "doc": AllowedType("application/msword", ("doc",)),
    "xls": AllowedType("application/vnd.ms-excel", ("xls",)),
    "odt": AllowedType("application/vnd.oasis.opendocument.text", ("odt",)),
    "ods": AllowedType("application/vnd.oasis.opendocument.spreadsheet", ("ods",)),
}
ACCEPTED_EXTENSIONS = sorted({ext for t in ALLOWED_TYPES.values() for ext in t.extensions})


# Characters that make a name read differently from what it is ("hoa-don\u202efdp.exe" shows as
# "hoa-donexe.pdf"): the bidirectional embeddings, overrides, isolates and marks.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
MAX_FILENAME = 200


def safe_filename(name: str) -> str:
    """The last path part, NFC-normalised, without control, bidi or path characters, at most
    :data:`MAX_FILENAME` characters with its extension kept (the type check reads it)."""
    base = PurePath(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", _BIDI_CONTROLS.sub("", base))
    base = re.sub(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff/<>:\"|?*]", "_", base).strip(" .")
    if len(base) > MAX_FILENAME:
        suffix = PurePath(base).suffix
        if len(suffix) > 16:  # no real extension is that long
            suffix = ""
        base = base[: MAX_FILENAME - len(suffix)].rstrip(" .") + suffix
    return base or "tep-dinh-kem"


def detect_type(content: bytes, filename: str) -> AllowedType:
    kind = filetype.guess(content)
    extension = PurePath(filename).suffix.lower().lstrip(".")
    allowed = ALLOWED_TYPES.get(kind.extension) if kind else None
    accepted = ", ".join(ACCEPTED_EXTENSIONS)
    if allowed is None:
        raise UploadRejected(
            f"Loại tệp không được chấp nhận. Chỉ nhận: {accepted}.",
            f"File type not accepted. Accepted: {accepted}.",
            code="unsupported_file_type",
        )
    if extension not in allowed.extensions:
        raise UploadRejected(
            f"Nội dung tệp là {allowed.extensions[0].upper()} nhưng tên tệp có đuôi '.{extension}'.",
            f"The file's content is {allowed.extensions[0].upper()} but its name ends in '.{extension}'.",
            code="file_type_mismatch",
        )
    try:
        check_whole(kind.extension, content)
    except Damaged as exc:
        raise UploadRejected(
            exc.message,
            exc.message_en,
            code="damaged_file",
            fields=[FieldProblem("file", exc.message, exc.message_en, "damaged_file")],
        ) from exc
    return allowed


def store_upload(
    session: Session,
    store: BlobStore,
    owner: User,
    filename: str,
    content: bytes,
    max_bytes: int,
    dossier_id: int | None = None,
) -> Attachment:
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    if not content:
        raise UploadRejected("Tệp rỗng.", "The file is empty.", code="empty_file")
    name = safe_filename(filename)
    allowed = detect_type(content, name)
    digest = store.put(content)
    attachment = Attachment(
        id=secrets.token_hex(16),
        sha256=digest,
        filename=name,
        content_type=allowed.mime,
        size=len(content),
        owner_id=owner.id,
        dossier_id=dossier_id,
    )
    session.add(attachment)
    return attachment


def too_large(max_bytes: int) -> UploadRejected:
    mb = max_bytes / (1024 * 1024)
    error = UploadRejected(
        f"Tệp vượt quá dung lượng cho phép ({mb:g} MB).",
        f"The file is larger than the {mb:g} MB limit.",
        code="file_too_large",
    )
    error.too_large = True
    return error
