"""The document model: what a document says, independent of the file it is written to.

A *kind* of document is a builder that turns a :class:`DocumentContext` (who, what, the dossier's
data, the number and the verification code) into a :class:`DocumentBody` (heading, body blocks,
recipients). Writers (the .docx writer here) lay every body out the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

# --------------------------------------------------------------------------- public data types


@dataclass(frozen=True)
class DocumentContext:
    """Everything a document needs; ``data`` is the dossier's form data plus decision keys."""

    kind: str
    number: str  # "15/TB-SKHCN"
    issued_at: datetime  # aware; shown in the office's time zone
    agency_parent: str  # "UBND TỈNH QUẢNG TRỊ"
    agency_name: str  # "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
    place: str  # "Quảng Trị"
    dossier_code: str  # "000.00.15.H50-261126-0001"
    applicant_name: str
    applicant_tax_code: str
    applicant_address: str
    data: dict
    signer_name: str
    # The signer's authority (workflows.documents.authority): "PHÓ GIÁM ĐỐC" (→ "KT. GIÁM ĐỐC"
    # above it), "GIÁM ĐỐC", or the lines of the block joined by "\n" ("TL. GIÁM ĐỐC\nTRƯỞNG PHÒNG …").
    signer_title: str
    verification_code: str
    verify_url: str
    received_at: datetime | None = None  # receipt instant of the complete dossier
    # The applicant's contact details from the start form (representative, phone, email...).
    applicant_contact: Mapping[str, Any] = field(default_factory=dict)
    # What ``dossier_code`` is, in the verification block and footer: a dossier's code, or the
    # symbol of what a document of no dossier was issued for (a WTO notification, an award round).
    reference_label: str = "Mã hồ sơ"
    # An unissued draft (no number, no verification code): "DỰ THẢO" where the signature's
    # "(Đã ký)" goes, and a notice that it is not verifiable instead of the code and QR.
    draft: bool = False
    # Values of this slip that are not form data: the appointment, the items to supplement, the
    # steps of the process… (see each kind). Kept as a read-only copy of what was given.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra or {})))


@dataclass(frozen=True)
class Span:
    """A run of text with emphasis."""

    text: str
    bold: bool = False
    italic: bool = False


Inline = str | Span


@dataclass(frozen=True)
class Para:
    """A body paragraph (justified, first-line indent, unless told otherwise)."""

    parts: tuple[Inline, ...]
    align: str = "justify"  # "justify" | "left" | "center"
    indent: bool = True


@dataclass(frozen=True)
class Grid:
    """A bordered data table; the header row is bold and repeats on every page."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...] = ()


Block = Para | Grid


@dataclass(frozen=True)
class DocumentBody:
    """What a builder returns: the title lines, the body blocks and the recipients.

    A letter (công văn, Decree 30/2020/NĐ-CP Phụ lục I) has no type title: its ``excerpt`` (trích
    yếu, printed "V/v …" under the number) and the addressees after "Kính gửi:" (``to``) take the
    title's place.
    """

    heading: str  # "THÔNG BÁO", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"; "" for a letter
    subject: str = ""  # "Tiếp nhận hồ sơ công bố hợp chuẩn"
    blocks: tuple[Block, ...] = ()
    recipients: tuple[str, ...] = field(default_factory=tuple)  # without "- " and final ";"/"."
    # The title over the signature when the form prescribes one ("NGƯỜI TIẾP NHẬN HỒ SƠ");
    # empty: the signer's authority (``DocumentContext.signer_title``).
    signer_title: str = ""
    excerpt: str = ""  # a letter's subject, without "V/v": "chuyển câu hỏi về …"
    to: tuple[str, ...] = ()  # a letter's addressees ("Kính gửi: …")

    @property
    def is_letter(self) -> bool:
        return bool(self.excerpt)

    @property
    def title(self) -> str:
        if self.is_letter:
            return f"V/v {self.excerpt}"
        return f"{self.heading} {self.subject}".strip()


Builder = Callable[[DocumentContext], DocumentBody]


@dataclass(frozen=True)
class DocumentKind:
    title_vi: str  # generic title, for lists and menus
    title_en: str
    symbol: str  # the type symbol in the document number: "TB" in "15/TB-SKHCN"
    builder: Builder
    # A letter (công văn) has no type symbol: "15/SKHCN-TĐC", the agency's and the drafting
    # unit's abbreviations (Decree 30/2020/NĐ-CP art. 8 and Phụ lục I; workflows.codes).
    letter: bool = False


DOCUMENT_KINDS: dict[str, DocumentKind] = {}


def document_kind(
    kind: str, *, title_vi: str, title_en: str, symbol: str = "", letter: bool = False
) -> Callable[[Builder], Builder]:
    """Register a builder as a document kind (a letter's builder returns a body with an excerpt)."""
    if not letter and not symbol:
        raise ValueError(f"document kind {kind!r} needs the type symbol of its number")

    def register(builder: Builder) -> Builder:
        if kind in DOCUMENT_KINDS:
            raise ValueError(f"document kind {kind!r} is already registered")
        DOCUMENT_KINDS[kind] = DocumentKind(title_vi, title_en, symbol, builder, letter)
        return builder

    return register


def document_title(ctx: DocumentContext) -> str:
    """The concrete title of this document, e.g. "THÔNG BÁO Tiếp nhận hồ sơ công bố hợp quy"."""
    return kind_named(ctx.kind).builder(ctx).title


def kind_named(name: str) -> DocumentKind:
    try:
        return DOCUMENT_KINDS[name]
    except KeyError:
        known = ", ".join(sorted(DOCUMENT_KINDS))
        raise ValueError(f"unknown document kind {name!r} (known: {known})") from None
