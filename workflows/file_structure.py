"""Is an uploaded file whole? The type check (workflows.attachments) reads a few magic bytes; a
PNG signature followed by anything passed it. Here each accepted kind is walked as far as it
cheaply can be without decoding it: a PNG's chunks (IHDR first, every CRC, IEND at the end), a
JPEG's start and end markers, a PDF's header and end-of-file marker, an Office file's zip
directory and the main part its [Content_Types].xml names, an OpenDocument's ``mimetype``, the
RIFF length of a WebP, the header of a TIFF or an OLE2 (.doc, .xls) file.

Nothing is decompressed or rendered (no image decoder, no zip member but two small ones), so a
crafted file costs no more to check than to store.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The main part an Office file's [Content_Types].xml must declare.
OFFICE_MAIN_PARTS = {
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "pptx": b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
OPEN_DOCUMENT_TYPES = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
}
_SMALL_PART = 1024 * 1024


class Damaged(ValueError):
    """What is wrong, in Vietnamese and English."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


def check_whole(kind: str, content: bytes) -> None:
    """Raise :class:`Damaged` unless ``content`` is a whole file of ``kind`` (a filetype
    extension: pdf, png, jpg, webp, tif, docx, xlsx, pptx, doc, xls, odt, ods)."""
    checker = _CHECKERS.get(kind)
    if checker is not None:
        checker(content)


def _pdf(content: bytes) -> None:
    if not content.startswith(b"%PDF-"):
        raise Damaged("Tệp PDF thiếu phần đầu '%PDF-'.", "The PDF file has no '%PDF-' header.")
    if b"%%EOF" not in content[-1024:]:
        raise Damaged(
            "Tệp PDF không đầy đủ (thiếu dấu kết thúc '%%EOF').",
            "The PDF file is incomplete (no '%%EOF' end marker).",
        )


def _png(content: bytes) -> None:
    incomplete = Damaged("Tệp PNG bị hỏng hoặc không đầy đủ.", "The PNG file is damaged or incomplete.")
    if not content.startswith(PNG_SIGNATURE):
        raise incomplete
    position, first = len(PNG_SIGNATURE), True
    while True:
        if position + 12 > len(content):
            raise incomplete
        (length,) = struct.unpack(">I", content[position : position + 4])
        kind = content[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(content) or (first and (kind != b"IHDR" or length != 13)):
            raise incomplete
        (crc,) = struct.unpack(">I", content[end - 4 : end])
        if zlib.crc32(content[position + 4 : end - 4]) != crc:
            raise incomplete
        if kind == b"IEND":
            return
        position, first = end, False


def _jpeg(content: bytes) -> None:
    if not content.startswith(b"\xff\xd8\xff") or not content.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise Damaged(
            "Tệp JPEG bị hỏng hoặc không đầy đủ (thiếu dấu bắt đầu hoặc kết thúc ảnh).",
            "The JPEG file is damaged or incomplete (no start or end of image marker).",
        )


def _webp(content: bytes) -> None:
    if len(content) < 12 or content[:4] != b"RIFF" or content[8:12] != b"WEBP":
        raise Damaged("Tệp WebP bị hỏng.", "The WebP file is damaged.")
    (size,) = struct.unpack("<I", content[4:8])
    if size + 8 > len(content):
        raise Damaged("Tệp WebP không đầy đủ.", "The WebP file is incomplete.")


def _tiff(content: bytes) -> None:
    order = content[:4]
    if order not in (b"II*\x00", b"MM\x00*") or len(content) < 8:
        raise Damaged("Tệp TIFF bị hỏng.", "The TIFF file is damaged.")
    (offset,) = struct.unpack("<I" if order.startswith(b"II") else ">I", content[4:8])
    if not 8 <= offset < len(content):
        raise Damaged("Tệp TIFF không đầy đủ.", "The TIFF file is incomplete.")


def _ole2(content: bytes) -> None:
    if len(content) < 512 or not content.startswith(OLE2_SIGNATURE) or content[28:30] != b"\xfe\xff":
        raise Damaged(
            "Tệp Office (.doc, .xls) bị hỏng hoặc không đầy đủ.",
            "The Office file (.doc, .xls) is damaged or incomplete.",
        )


def _zip(content: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Damaged(
            "Tệp bị hỏng hoặc không đầy đủ (không đọc được cấu trúc nén).",
            "The file is damaged or incomplete (its zip structure cannot be read).",
        ) from exc


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _SMALL_PART:
        return None
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error):
        return None


def _office(kind: str) -> Callable[[bytes], None]:
    def check(content: bytes) -> None:
        with _zip(content) as archive:
            types = _small_part(archive, "[Content_Types].xml")
        if types is None or OFFICE_MAIN_PARTS[kind] not in types:
            raise Damaged(
                f"Tệp .{kind} bị hỏng hoặc không phải tài liệu .{kind} (thiếu [Content_Types].xml đúng).",
                f"The .{kind} file is damaged or not a .{kind} document (no proper [Content_Types].xml).",
            )

    return check


def _open_document(kind: str) -> Callable[[bytes], None]:
    def check(content: bytes) -> None:
        with _zip(content) as archive:
            mimetype = _small_part(archive, "mimetype")
        if mimetype is None or mimetype.strip() != OPEN_DOCUMENT_TYPES[kind]:
            raise Damaged(
                f"Tệp .{kind} bị hỏng hoặc không phải tài liệu .{kind}.",
                f"The .{kind} file is damaged or not a .{kind} document.",
            )

    return check


_CHECKERS: dict[str, Callable[[bytes], None]] = {
    "pdf": _pdf,
    "png": _png,
    "jpg": _jpeg,
    "webp": _webp,
    "tif": _tiff,
    "doc": _ole2,
    "xls": _ole2,
    **{kind: _office(kind) for kind in OFFICE_MAIN_PARTS},
    **{kind: _open_document(kind) for kind in OPEN_DOCUMENT_TYPES},
}
