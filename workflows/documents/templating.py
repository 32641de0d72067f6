"""Documents rendered from .docx templates an administrator edits in Word (docxtpl: python-docx
and Jinja2), instead of the builder and ``docx_writer``.

A kind that may have a template registers here (:func:`template_kind`) a function turning its
:class:`DocumentContext` into the template's variables, with the variables declared (each with
a Vietnamese and an English description: the administrator's help, and what the check holds a
template to). The context a template sees is the context's fields, the variables every document
has (:data:`COMMON_VARIABLES`) and the kind's own; what needs Python (dates as the forms write
them, "./." endings, the signer's authority) is prepared here or is a filter (:data:`FILTERS`).

The output keeps what the writer guarantees, as far as the template does (the package templates
carry the Decree 30 header, page numbers from page 2, the closing that never splits and the
verification block): the QR code is an ``InlineImage``, the core properties are set as the writer
sets them and the package is re-zipped with every member dated ``issued_at``, so the same context
and template give the same bytes.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import io
import logging
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.coreprops import CoreProperties
from docx.opc.packuri import CONTENT_TYPES_URI, PACKAGE_URI
from docx.opc.part import Part, PartFactory
from docx.opc.pkgwriter import _ContentTypesItem
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from workflows.clock import to_local
from workflows.documents.authority import DIRECTOR, NoSigningAuthority, authority_lines
from workflows.documents.docx_package import _deflate, _zip
from workflows.documents.docx_writer import _clean, set_core_properties
from workflows.documents.layout import DRAFT_FOOTER, DRAFT_NOTICE_EN, DRAFT_NOTICE_VI, QR_WIDTH
from workflows.documents.model import DocumentContext, kind_named
from workflows.documents.qr import qr_png
from workflows.documents.text import (
    agency_in_text,
    as_text,
    date_vn,
    ending,
    instant_short,
    instant_vn,
    joined,
    labelled,
    place_and_date,
)

log = logging.getLogger(__name__)

PACKAGE_TEMPLATES = Path(__file__).with_name("templates")

Values = Callable[[DocumentContext], dict[str, Any]]


@dataclass(frozen=True)
class Variable:
    """A variable a template may use, described for the administrator."""

    name: str
    vi: str
    en: str


@dataclass(frozen=True)
class TemplateKind:
    """A kind that may be rendered from a template: its own variables and how they are computed.

    ``directory``: where its package template lies (a procedure's kind: next to its builder, as
    the core never imports a procedure); ``sample_data``/``sample_extra``: what its sample context
    holds besides the slips' values (workflows.documents.samples), so that the check renders it.
    """

    kind: str
    variables: tuple[Variable, ...]
    values: Values
    directory: Path = PACKAGE_TEMPLATES
    sample_data: Mapping[str, Any] = field(default_factory=dict)
    sample_extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def declared(self) -> frozenset[str]:
        return frozenset(v.name for v in (*COMMON_VARIABLES, *self.variables))


TEMPLATE_KINDS: dict[str, TemplateKind] = {}


def template_kind(
    kind: str,
    *variables: Variable,
    directory: Path | None = None,
    sample_data: Mapping[str, Any] | None = None,
    sample_extra: Mapping[str, Any] | None = None,
) -> Callable[[Values], Values]:
    """Register ``values`` as the variables of ``kind``'s templates (declared as ``variables``);
    its package template is ``<directory>/<kind>.docx`` (by default the core's ``templates/``)."""

    def register(values: Values) -> Values:
        if kind in TEMPLATE_KINDS:
            raise ValueError(f"template kind {kind!r} is already registered")
        TEMPLATE_KINDS[kind] = TemplateKind(
            kind,
            tuple(variables),
            values,
            directory or PACKAGE_TEMPLATES,
            dict(sample_data or {}),
            dict(sample_extra or {}),
        )
        return values

    return register


V = Variable
COMMON_VARIABLES: tuple[Variable, ...] = (
    V("number", "Số văn bản (trống khi là dự thảo)", "The document number (empty in a draft)"),
    V(
        "issued_at",
        "Thời điểm ban hành (dùng với bộ lọc date_vn, date_long)",
        "The issue instant (use a filter)",
    ),
    V(
        "place_and_date",
        "Địa danh và ngày tháng: «Quảng Trị, ngày 26 tháng 11 năm 2026»",
        "Place and date line",
    ),
    V("place", "Địa danh", "The place name"),
    V("agency_parent", "Cơ quan chủ quản", "The parent agency"),
    V("agency_name", "Tên cơ quan ban hành", "The issuing agency"),
    V(
        "agency",
        "Tên cơ quan viết trong câu: «Sở Khoa học và Công nghệ»",
        "The agency as written in a sentence",
    ),
    V("dossier_code", "Mã hồ sơ (hoặc số hiệu văn bản được trả lời)", "The dossier's code (or reference)"),
    V("reference_label", "Nhãn của mã: «Mã hồ sơ»", "The reference's label"),
    V("applicant", "Tên tổ chức, cá nhân", "The applicant's name"),
    V("applicant_name", "Tên tổ chức, cá nhân (như đã nhập)", "The applicant's name as given"),
    V("applicant_tax_code", "Mã số thuế", "The applicant's tax code"),
    V("applicant_address", "Địa chỉ", "The applicant's address"),
    V("applicant_identity", "«mã số thuế …, địa chỉ: …» (trống nếu không có)", "Tax code and address phrase"),
    V("representative", "Người đại diện", "The representative"),
    V("phone", "Số điện thoại", "Phone"),
    V("email", "Thư điện tử", "E-mail"),
    V("applicant_contact", "Thông tin liên hệ (representative, phone, email)", "Contact details"),
    V("procedure", "Tên thủ tục hành chính", "The procedure's name"),
    V(
        "received_at",
        "Thời điểm tiếp nhận hồ sơ (có thể trống)",
        "When the dossier was received (may be empty)",
    ),
    V("data", "Dữ liệu của hồ sơ (biểu mẫu)", "The dossier's form data"),
    V("extra", "Giá trị khác khi ban hành", "Other values given when issuing"),
    V("signer_name", "Họ tên người ký", "The signer's name"),
    V("signer_title", "Chức danh người ký", "The signer's job title"),
    V("signature_lines", "Các dòng thẩm quyền ký (KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC)", "The authority lines"),
    V("draft", "Là bản dự thảo (đúng/sai)", "Whether it is an unissued draft"),
    V("draft_notice_vi", "Lời ghi của bản dự thảo (tiếng Việt)", "The draft notice (Vietnamese)"),
    V("draft_notice_en", "Lời ghi của bản dự thảo (tiếng Anh)", "The draft notice (English)"),
    V("draft_footer", "Chân trang của bản dự thảo", "The draft's footer"),
    V("verification_code", "Mã xác thực", "The verification code"),
    V("verify_url", "Địa chỉ tra cứu, xác thực", "The verification address"),
    V("qr", "Mã QR của địa chỉ xác thực (hình)", "The QR code picture of the verification address"),
    V("stt", "Số thứ tự tiếp theo: {{ stt() }} cho 1, 2, 3…", "The next item number: {{ stt() }}"),
    V("kind", "Loại văn bản", "The document kind"),
)
del V

FILTERS: dict[str, Callable[..., str]] = {
    "date_vn": date_vn,  # 26/11/2026
    "date_long": lambda value: place_and_date("", value)[2:],  # ngày 26 tháng 11 năm 2026
    "instant_vn": lambda value: instant_vn(value) if value else "",  # 03 giờ 00 phút, ngày 20/11/2026
    "instant_short": instant_short,  # 03:00 20/11/2026
    "ending": lambda value, mark=".": ending(as_text(value), mark) if as_text(value) else "",
}


class _Counter:
    """``{{ stt() }}``: 1, 2, 3… in the order the template prints them."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        self.value += 1
        return self.value


def prints_variable(template: bytes, name: str) -> bool:
    """Whether ``template`` names the variable ``name`` anywhere (its text, tags removed: Word
    may split a tag across runs); once per template."""
    return name in _template_words(template)


@functools.lru_cache(maxsize=64)
def _template_words(template: bytes) -> frozenset[str]:
    words: set[str] = set()
    with zipfile.ZipFile(io.BytesIO(template)) as package:
        for member in package.namelist():
            if member.endswith(".xml"):
                text = re.sub(r"<[^>]+>", "", package.read(member).decode("utf-8", "replace"))
                words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return frozenset(words)


def signature_lines(ctx: DocumentContext) -> list[str]:
    """The signer's authority lines (a draft for a signer not yet known: the director's title)."""
    try:
        return list(authority_lines(ctx.signer_title))
    except NoSigningAuthority:
        if ctx.draft:
            return [DIRECTOR]
        raise NoSigningAuthority(
            f"{ctx.kind} must be signed by an authority (GIÁM ĐỐC, KT./TL./TUQ. GIÁM ĐỐC), "
            f"not {ctx.signer_title!r}"
        ) from None


class _LazyAuthority:
    """The authority lines, computed only if the template prints them (a slip signed by the
    officer who received it names no authority, and a clerk holds none)."""

    def __init__(self, ctx: DocumentContext) -> None:
        self.ctx = ctx

    @functools.cached_property
    def lines(self) -> list[str]:
        return signature_lines(self.ctx)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)


def _cleaned(value: Any) -> Any:
    """Strings XML can carry, in every value given to a template (user input may hold controls)."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, Mapping):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value


def template_context(ctx: DocumentContext) -> dict[str, Any]:
    """Every variable of a template of ``ctx.kind`` but the QR picture (it needs the template)."""
    of_kind = TEMPLATE_KINDS.get(ctx.kind)
    if of_kind is None:
        raise ValueError(f"document kind {ctx.kind!r} has no template variables")
    contact = ctx.applicant_contact
    common = {f.name: getattr(ctx, f.name) for f in fields(ctx)}
    common.update(
        place_and_date=place_and_date(ctx.place, ctx.issued_at),
        agency=agency_in_text(ctx.agency_name),
        applicant=as_text(ctx.applicant_name),
        applicant_identity=joined(
            (labelled("mã số thuế", ctx.applicant_tax_code), labelled("địa chỉ:", ctx.applicant_address))
        ),
        representative=as_text(contact.get("representative")),
        phone=as_text(contact.get("phone")),
        email=as_text(contact.get("email")),
        applicant_contact=dict(contact),
        extra=dict(ctx.extra),
        procedure="",
        draft_notice_vi=DRAFT_NOTICE_VI,
        draft_notice_en=DRAFT_NOTICE_EN,
        draft_footer=DRAFT_FOOTER,
    )
    values = {**_cleaned(common), **_cleaned(of_kind.values(ctx))}
    values["signature_lines"] = _LazyAuthority(ctx)
    values["stt"] = _Counter()
    return values


class _Environment(SandboxedEnvironment):
    """Sandboxed (a template is an administrator's upload), strict about unknown names, escaping
    every value for XML; and keeping what it compiled. docxtpl compiles each part of the .docx
    (body, headers, footers, properties) from its XML at every rendering: compiling is half the
    time of a rendering, and the parts of a template are the same every time."""

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=StrictUndefined)
        self.filters.update(FILTERS)
        self._compiled: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        with self._lock:
            found = self._compiled.get(source)
            if found is not None:
                self._compiled.move_to_end(source)
                return found
        compiled = super().from_string(source)
        with self._lock:
            self._compiled[source] = compiled
            while len(self._compiled) > _COMPILED_KEPT:
                self._compiled.popitem(last=False)
        return compiled


_COMPILED_KEPT = 256  # parts of templates: about ten a template


@functools.cache
def _environment() -> _Environment:
    return _Environment()


def environment() -> SandboxedEnvironment:
    """The one environment templates are rendered in (docxtpl sets its ``autoescape``: always True)."""
    return _environment()


def package_template(kind: str) -> bytes | None:
    """The template the package ships for ``kind``, if any (a procedure's: in the directory its
    kind was registered with)."""
    of_kind = TEMPLATE_KINDS.get(kind)
    path = (of_kind.directory if of_kind else PACKAGE_TEMPLATES) / f"{kind}.docx"
    return path.read_bytes() if path.is_file() else None


class _Template(DocxTemplate):
    """docxtpl's template, keeping the XML it patched (the tags Word splits across runs merged
    back): the same parts come back at every rendering of a template, and patching is a third of
    the time of one. The parts a rendering never reads (styles, settings, numbering) are kept as
    their bytes rather than parsed and written again."""

    def init_docx(self, reload: bool = True) -> None:
        token = _OPENING_TEMPLATE.set(True)
        try:
            super().init_docx(reload)
        finally:
            _OPENING_TEMPLATE.reset(token)

    def patch_xml(self, src_xml: str) -> str:
        with _PATCHED_LOCK:
            found = _PATCHED.get(src_xml)
        if found is None:
            found = super().patch_xml(src_xml)
            with _PATCHED_LOCK:
                _PATCHED[src_xml] = found
                while len(_PATCHED) > _COMPILED_KEPT:
                    _PATCHED.popitem(last=False)
        return found


_OPENING_TEMPLATE: contextvars.ContextVar[bool] = contextvars.ContextVar("opening_template", default=False)
# Content types of the parts docxtpl's rendering neither reads nor changes.
_UNREAD_PARTS = frozenset({CT.WML_STYLES, CT.WML_SETTINGS, CT.WML_NUMBERING})


def _part_class(content_type: str, reltype: str) -> type[Part] | None:
    """python-docx's hook choosing each part's class as a package opens: a template's unread
    parts stay plain bytes (any other opening keeps python-docx's choice)."""
    if _OPENING_TEMPLATE.get() and content_type in _UNREAD_PARTS:
        return Part
    return None


PartFactory.part_class_selector = _part_class

_PATCHED: OrderedDict[str, str] = OrderedDict()
_PATCHED_LOCK = threading.Lock()


def render_template(template: bytes, ctx: DocumentContext) -> bytes:
    """The .docx of ``ctx`` rendered from ``template``; the same inputs give the same bytes.

    A template Jinja cannot parse or render (an unknown name, a syntax error) → ``ValueError``
    (with Jinja's message); what the kind refuses (a missing reason) → its ``ValueError``;
    :class:`NoSigningAuthority` when it prints the authority of a signer holding none.
    """
    try:
        tpl = _Template(io.BytesIO(template))
        context = template_context(ctx)
        context["qr"] = (
            "" if ctx.draft else InlineImage(tpl, io.BytesIO(qr_png(ctx.verify_url)), width=QR_WIDTH)
        )
        tpl.render(context, jinja_env=environment(), autoescape=True)
    except (ValueError, NoSigningAuthority):
        raise
    except Exception as exc:  # Jinja's and python-docx's errors: the template's fault
        raise ValueError(f"the template cannot be rendered: {type(exc).__name__}: {exc}") from exc
    _core_properties(tpl.docx.core_properties, ctx)
    when = to_local(ctx.issued_at)
    return _zip([(name, _deflated(blob)) for name, blob in _package_members(tpl.docx)], when)


def _package_members(document: Any) -> list[tuple[str, bytes]]:
    """The members python-docx's ``Document.save`` writes, in its order, as (name, bytes).

    Zipped here directly (every member dated ``issued_at``): saving with python-docx deflated
    every part only for the archive to be read and deflated again with pinned dates."""
    package = document.part.package
    parts = package.parts
    for part in parts:
        part.before_marshal()
    members = [
        (CONTENT_TYPES_URI.membername, _ContentTypesItem.from_parts(parts).blob),
        (PACKAGE_URI.rels_uri.membername, package.rels.xml),
    ]
    for part in parts:
        members.append((part.partname.membername, part.blob))
        if len(part.rels):
            members.append((part.partname.rels_uri.membername, part.rels.xml))
    return members


def _core_properties(props: CoreProperties, ctx: DocumentContext) -> None:
    """The core properties the writer sets (workflows.documents.docx_writer), dates pinned."""
    kind = kind_named(ctx.kind)
    set_core_properties(props, ctx, kind.builder(ctx).title, kind)


def _rezipped(content: bytes, when: datetime) -> bytes:
    """``content`` zipped again with every member dated ``when`` (python-docx dates them now).

    The parts a rendering does not change (styles, theme, settings…) are deflated once per
    process, found again by their hash."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        members = [(name, _deflated(package.read(name))) for name in package.namelist()]
    return _zip(members, when)


_DEFLATED: OrderedDict[bytes, Any] = OrderedDict()
_DEFLATED_KEPT = 512
_DEFLATED_LOCK = threading.Lock()


def _deflated(raw: bytes) -> Any:
    if len(raw) < 16384:  # small parts: deflating is cheaper than keeping them
        return _deflate(raw)
    key = hashlib.blake2b(raw, digest_size=20).digest()
    with _DEFLATED_LOCK:
        found = _DEFLATED.get(key)
    if found is None:
        found = _deflate(raw)
        with _DEFLATED_LOCK:
            _DEFLATED[key] = found
            while len(_DEFLATED) > _DEFLATED_KEPT:
                _DEFLATED.popitem(last=False)
    return found
