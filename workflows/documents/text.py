"""Helpers for document builders: dates and instants as the forms write them, the applicant's
lines, joined and labelled phrases, the "./." ending of Decree 30."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from workflows.clock import to_local
from workflows.documents.model import Block, DocumentContext, Inline, Para, Span


def place_and_date(place: str, instant: datetime) -> str:
    """The place and date line, "Quảng Trị, ngày 26 tháng 11 năm 2026", in local time.

    Decree 30/2020 writes a leading zero for days below 10 and for the months 1 and 2 only.
    """
    local = to_local(instant)
    day = f"{local.day:02d}"
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"{place}, ngày {day} tháng {month} năm {local.year}"


# --------------------------------------------------------------------------- data helpers for builders


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return date_vn(value)
    return str(value).strip()


def section(data: dict, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def date_vn(value: Any) -> str:
    """Show a date: "2026-11-26" / date / datetime → "26/11/2026"; anything else is shown as given."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return to_local(value).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return text


def joined(parts: Iterable[str], sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def labelled(label: str, value: Any) -> str:
    text = as_text(value)
    return f"{label} {text}" if text else ""


def ending(text: str, mark: str) -> str:
    """``text`` closed with ``mark`` unless it already ends in punctuation."""
    return text if text[-1:] in ".;:!?" else text + mark


def texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [t for t in (as_text(v) for v in value) if t]


_PROPER_WORDS = ("Khoa học", "Công nghệ", "Tiêu chuẩn", "Đo lường", "Chất lượng")


def agency_in_text(name: str) -> str:
    """An agency name as written inside a sentence.

    "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH QUẢNG TRỊ" → "Sở Khoa học và Công nghệ tỉnh Quảng Trị".
    """
    text = " ".join(name.split()).lower()
    if not text:
        return ""
    for word in _PROPER_WORDS:
        text = re.sub(rf"(?<!\w){re.escape(word.lower())}(?!\w)", word, text)
    place = re.search(r"(?<!\w)(tỉnh|thành phố)\s+(.+)$", text)
    if place:
        named = " ".join(s[:1].upper() + s[1:] for s in place.group(2).split())
        text = text[: place.start(2)] + named
    return text[:1].upper() + text[1:]


def applicant_identity(ctx: DocumentContext) -> list[Inline]:
    """The applicant as parts: name in bold, then "(mã số thuế …, địa chỉ: …)"."""
    rest = joined(
        (labelled("mã số thuế", ctx.applicant_tax_code), labelled("địa chỉ:", ctx.applicant_address))
    )
    parts: list[Inline] = [Span(as_text(ctx.applicant_name), bold=True)]
    if rest:
        parts.append(f" ({rest})")
    return parts


def received_phrase(ctx: DocumentContext, label: str) -> str:
    return f"{label} {date_vn(ctx.received_at)}" if ctx.received_at else ""


ONE_STOP_UNIT = "Bộ phận Tiếp nhận và Trả kết quả"


def procedure_name(ctx: DocumentContext) -> str:
    """The procedure the slip is about: ``extra["procedure_name"]``, else ``data["procedure_name"]``
    (issuing a dossier's document always gives it; a slip naming no procedure is refused)."""
    data = ctx.data or {}
    name = as_text(ctx.extra.get("procedure_name")) or as_text(data.get("procedure_name"))
    if not name:
        raise ValueError(f"{ctx.kind} needs extra['procedure_name'] (the procedure the dossier is of)")
    return name


def applicant_paras(ctx: DocumentContext) -> list[Block]:
    """The applicant as the one-stop-shop slips list it, one line a value (blank values left out)."""
    contact = ctx.applicant_contact
    blocks: list[Block] = [
        Para(("Tổ chức, cá nhân: ", Span(as_text(ctx.applicant_name), bold=True)), align="left")
    ]
    for label, value in (
        ("Mã số thuế: ", ctx.applicant_tax_code),
        ("Địa chỉ: ", ctx.applicant_address),
        ("Người đại diện: ", contact.get("representative")),
        ("Số điện thoại: ", contact.get("phone")),
        ("Thư điện tử: ", contact.get("email")),
    ):
        if as_text(value):
            blocks.append(Para((label, as_text(value)), align="left"))
    return blocks


def as_instant(value: Any, what: str) -> datetime | None:
    """``value`` as an instant: a datetime, or an ISO 8601 string (naive is taken as UTC); blank → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{what} is not a date and time: {value!r}")


def extra_instant(ctx: DocumentContext, key: str, *, required: bool = False) -> datetime | None:
    instant = as_instant(ctx.extra.get(key), f"{ctx.kind}: extra[{key!r}]")
    if instant is None and required:
        raise ValueError(f"{ctx.kind} needs extra[{key!r}] (a date and time)")
    return instant


def extra_days(ctx: DocumentContext, key: str) -> int | None:
    """``extra[key]`` as a positive whole number of days (15, 15.0, "15"), or None when not given."""
    value = ctx.extra.get(key)
    if value is None or value == "":
        return None
    try:
        days = float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        days = 0.0
    if days <= 0 or not days.is_integer():
        raise ValueError(f"{ctx.kind}: extra[{key!r}] must be a positive whole number of days: {value!r}")
    return int(days)


def instant_vn(instant: datetime) -> str:
    """An instant as the forms write it, in local time: "03 giờ 00 phút, ngày 20/11/2026"."""
    local = to_local(instant)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def instant_short(instant: datetime | None) -> str:
    """An instant in a table cell, in local time: "03:00 20/11/2026"."""
    return to_local(instant).strftime("%H:%M %d/%m/%Y") if instant else ""


def ended(blocks: list[Block]) -> tuple[Block, ...]:
    """End the body with "./." as Decree 30 does."""
    last = blocks[-1]
    if isinstance(last, Para):
        blocks[-1] = replace(last, parts=(*last.parts, "/."))
    return tuple(blocks)


def legal_basis_line(ctx: DocumentContext, fallback: str) -> str:
    """ "Căn cứ …" with the legal basis of the version of the rules the dossier follows (given by
    issuing as ``extra["legal_basis"]``), else ``fallback`` (a document issued for no dossier)."""
    texts = [str(t) for t in ctx.extra.get("legal_basis") or []]
    return f"Căn cứ {'; '.join(texts)}" if texts else fallback
