"""The XML of a .docx package as the reader meets it (:mod:`workflows.documents.ooxml`): the
namespaces, and a WordprocessingML element's attributes read as text, a number or on/off.
"""

from __future__ import annotations

from lxml import etree

NAMESPACES = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "m": "http://schemas.openxmlformats.org/officeDocument/2006/math",
}
# The w: namespace as lxml writes it before a tag's name.
W = "{" + NAMESPACES["w"] + "}"


def w_tag(tag: str) -> str:
    return W + tag


def w_attr(el: etree._Element | None, name: str, default: str | None = None) -> str | None:
    if el is None:
        return default
    return el.get(W + name, default)


def w_number(el: etree._Element | None, name: str, default: float = 0.0) -> float:
    value = w_attr(el, name)
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def w_on(el: etree._Element | None) -> bool | None:
    """An OOXML on/off property: None when absent."""
    if el is None:
        return None
    return w_attr(el, "val", "true") not in ("0", "false", "off", "none")


def plain_number(el: etree._Element | None, name: str) -> float:
    try:
        return float(el.get(name, "0")) if el is not None else 0.0
    except ValueError:
        return 0.0


def plain_text(element: etree._Element) -> str:
    return "".join(t.text or "" for t in element.iter(w_tag("t"))).strip()
