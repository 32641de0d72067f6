"""The PDF copy's lines (:mod:`workflows.documents.pdf_layout`): the embedded font's metrics, and a
paragraph's inlines broken into lines that fit a width (words, tab stops, a word too long for a line
split, spacing and justification by the .docx's rules).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace

from fontTools.ttLib import TTFont

from workflows.documents.fonts import document_fonts
from workflows.documents.ooxml_blocks import Field, Inline, LineBreak, Paragraph, Picture, Tab, Text
from workflows.documents.ooxml_styles import DEFAULT_TAB, TWIP, ParaStyle, RunStyle

# --------------------------------------------------------------------------- font metrics


class _Metrics:
    """Advance widths (rounded as the PDF's widths array is) and vertical metrics of one face."""

    def __init__(self, path: str) -> None:
        with TTFont(path, lazy=True) as font:
            upm = font["head"].unitsPerEm
            cmap = font.getBestCmap() or {}
            hmtx = font["hmtx"].metrics
            hhea = font["hhea"]
            self.ascent = hhea.ascent / upm
            self.descent = -hhea.descent / upm
            self.gap = hhea.lineGap / upm
            notdef = hmtx.get(".notdef", (upm // 2, 0))[0]
            self.widths = {
                code: round(hmtx.get(name, (notdef, 0))[0] * 1000 / upm + 0.001) / 1000
                for code, name in cmap.items()
            }
            self.missing = round(notdef * 1000 / upm) / 1000

    @functools.lru_cache(maxsize=8192)  # noqa: B019 (a handful of faces per process)
    def em_width(self, text: str) -> float:
        widths, missing = self.widths, self.missing
        return sum(widths.get(ord(char), missing) for char in text)


@functools.cache
def metrics() -> dict[str, _Metrics]:  # face ("", "B", "I", "BI") → its metrics
    fonts = document_fonts()
    faces = {"": "regular", "B": "bold", "I": "italic", "BI": "bold_italic"}
    return {face: _Metrics(str(fonts.files[style])) for face, style in faces.items()}


def text_width(text: str, style: RunStyle) -> float:
    return metrics()[style.face].em_width(text) * style.drawn_size


# --------------------------------------------------------------------------- line layout


@dataclass
class Piece:
    kind: str  # "text", "space", "tab", "picture"
    text: str
    style: RunStyle
    width: float
    picture: Picture | None = None
    breakable_after: bool = False  # a hyphen inside a word


@dataclass
class Line:
    pieces: list[Piece]
    width: float  # natural width, trailing spaces excluded
    ascent: float
    descent: float
    height: float
    baseline: float  # from the line's top
    indent: float  # x of the line from the paragraph's left edge (indent included)
    available: float
    justify: bool


_SPACES = re.compile(r"( +)")
_HYPHEN_BREAK = re.compile(r"(?<=-)(?=[^-])")


def _pieces(inlines: list[Inline], fields: dict[str, str]) -> list[Piece | None]:
    """The paragraph as pieces; None is a line break."""
    pieces: list[Piece | None] = []
    for inline in inlines:
        if isinstance(inline, Field):
            inline = Text(fields.get(inline.name, ""), inline.style)
        if isinstance(inline, Text):
            text = unicodedata.normalize("NFC", inline.text)
            if inline.style.caps:
                text = text.upper()
            for chunk in _SPACES.split(text):
                if not chunk:
                    continue
                if chunk[0] == " ":
                    pieces.append(Piece("space", chunk, inline.style, text_width(chunk, inline.style)))
                    continue
                parts = _HYPHEN_BREAK.split(chunk)
                for index, part in enumerate(parts):
                    pieces.append(
                        Piece(
                            "text",
                            part,
                            inline.style,
                            text_width(part, inline.style),
                            breakable_after=index < len(parts) - 1,
                        )
                    )
        elif isinstance(inline, Tab):
            pieces.append(Piece("tab", "", inline.style, 0.0))
        elif isinstance(inline, LineBreak):
            pieces.append(None)
        elif isinstance(inline, Picture):
            pieces.append(Piece("picture", "", inline.style, inline.width, picture=inline))
    return pieces


def _words(pieces: list[Piece | None]) -> Iterator[list[Piece] | str | Piece]:
    """Boxes that do not break inside (a word, a picture), spaces and tabs, and "br"."""
    word: list[Piece] = []
    for piece in pieces:
        if piece is not None and piece.kind == "text":
            word.append(piece)
            if piece.breakable_after:
                yield word
                word = []
            continue
        if word:
            yield word
            word = []
        if piece is None:
            yield "br"
        elif piece.kind == "picture":
            yield [piece]
        else:
            yield piece
    if word:
        yield word


def _tab(tab: Piece, position: float, stops: tuple[tuple[float, str, str], ...], rest: list) -> Piece:
    """A tab at ``position`` (from the text's left edge) as wide as it is to the next stop.

    A custom stop (left, center, right; decimal and bar as left) first, then the default stops
    every half inch. A centre or right stop aligns the text up to the next tab or line break.
    """
    following = [entry for entry in stops if entry[0] > position + 0.01]
    default = ((int(position / DEFAULT_TAB) + 1) * DEFAULT_TAB, "left", "none")
    stop, kind, leader = following[0] if following else default
    width = stop - position
    if kind in ("center", "right"):
        segment = 0.0
        for item in rest:
            if item == "br" or (isinstance(item, Piece) and item.kind == "tab"):
                break
            segment += item.width if isinstance(item, Piece) else sum(piece.width for piece in item)
        width -= segment / 2 if kind == "center" else segment
    width = max(width, text_width(" ", tab.style) if kind == "left" else 0.0)
    fill = {"dot": ".", "hyphen": "-", "underscore": "_", "middleDot": "·"}.get(leader or "none")
    text = ""
    if fill and width > 0:
        text = fill * int(width / max(text_width(fill, tab.style), 0.1) - 1)
    return replace(tab, width=width, text=text)


def _split_word(word: list[Piece], available: float) -> list[list[Piece]]:
    """A word wider than a line, cut between characters."""
    chunks: list[list[Piece]] = [[]]
    used = 0.0
    for piece in word:
        if piece.kind != "text":
            chunks[-1].append(piece)
            used += piece.width
            continue
        for char in piece.text:
            w = text_width(char, piece.style)
            if used + w > available and used > 0:
                chunks.append([])
                used = 0.0
            last = chunks[-1][-1] if chunks[-1] else None
            if last is not None and last.kind == "text" and last.style == piece.style:
                last.text += char
                last.width += w
            else:
                chunks[-1].append(Piece("text", char, piece.style, w))
            used += w
    return [chunk for chunk in chunks if chunk]


def layout_lines(para: Paragraph, width: float, fields: dict[str, str]) -> list[Line]:
    style = para.style
    pieces = _pieces(para.inlines, fields)
    lines: list[Line] = []
    current: list[Piece] = []
    x = 0.0
    first = True

    def start() -> tuple[float, float]:
        indent = style.left + (style.first_line if first else 0.0)
        return indent, max(width - indent - style.right, 1.0)

    indent, available = start()

    def finish(forced: bool, last: bool = False) -> None:
        nonlocal current, x, first, indent, available
        while current and current[-1].kind == "space":
            current.pop()
        natural = sum(piece.width for piece in current)
        # Word stretches a justified line ending in a line break unless told not to (compat option).
        justify = style.align == "justify" and not last and (not forced or style.expand_shift_return)
        lines.append(_line(current, natural, indent, available, justify, para.mark, style))
        current, x, first = [], 0.0, False
        indent, available = start()

    items = list(_words(pieces))
    for index, item in enumerate(items):
        if item == "br":
            finish(True)
            continue
        if isinstance(item, Piece):  # a space or a tab
            if item.kind == "tab":
                stops = style.tabs
                if first and style.first_line < 0:  # Word's implicit stop at a hanging indent
                    stops = tuple(sorted((*stops, (style.left, "left", "none"))))
                item = _tab(item, indent + x, stops, items[index + 1 :])
            elif not current and lines:
                continue  # no space at the start of a wrapped line
            current.append(item)
            x += item.width
            continue
        w = sum(piece.width for piece in item)
        if x + w > available + 0.01 and any(piece.kind != "space" for piece in current):
            finish(False)
        if w > available + 0.01:
            chunks = _split_word(item, available)
            for chunk in chunks[:-1]:
                current.extend(chunk)
                finish(False)
            item = chunks[-1]
            w = sum(piece.width for piece in item)
        current.extend(item)
        x += w
    finish(True, last=True)
    return lines


def _line(
    pieces: list[Piece],
    natural: float,
    indent: float,
    available: float,
    justify: bool,
    mark: RunStyle,
    style: ParaStyle,
) -> Line:
    faces = metrics()
    ascent = descent = gap = 0.0
    texts = [piece for piece in pieces if piece.kind != "picture"]
    for piece in texts or ([] if pieces else [Piece("space", "", mark, 0.0)]):
        m = faces[piece.style.face]
        ascent = max(
            ascent, m.ascent * piece.style.size, m.ascent * piece.style.drawn_size + piece.style.rise
        )
        descent = max(descent, m.descent * piece.style.size)
        gap = max(gap, m.gap * piece.style.size)
    for piece in pieces:
        if piece.picture is not None:
            ascent = max(ascent, piece.picture.height)
    natural_height = ascent + descent + gap
    if style.line_rule == "exact":
        height = style.line * TWIP
    elif style.line_rule == "atLeast":
        height = max(natural_height, style.line * TWIP)
    else:
        height = natural_height * style.line / 240
    baseline = gap + ascent if style.line_rule != "exact" else height - descent
    return Line(pieces, natural, ascent, descent, height, baseline, indent, available, justify)
