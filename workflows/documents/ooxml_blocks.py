"""The document model a .docx is read into (:mod:`workflows.documents.ooxml`) and the PDF copy
laid out from: paragraphs of inlines (text, tabs, breaks, fields, pictures), tables of rows of
cells, the section, and the parsed document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.documents.ooxml_styles import Border, ParaStyle, RunStyle

# --------------------------------------------------------------------------- the document model


@dataclass
class Text:
    text: str
    style: RunStyle


@dataclass
class Tab:
    style: RunStyle


@dataclass
class LineBreak:
    style: RunStyle


@dataclass
class PageBreak:
    pass


@dataclass
class Field:
    name: str  # PAGE, NUMPAGES
    style: RunStyle


@dataclass
class Picture:
    data: bytes
    width: float
    height: float
    style: RunStyle


Inline = Text | Tab | LineBreak | PageBreak | Field | Picture


@dataclass
class Paragraph:
    style: ParaStyle
    mark: RunStyle  # the paragraph mark: the height of an empty paragraph
    inlines: list[Inline]


@dataclass
class Cell:
    width: float
    span: int
    margins: tuple[float, float, float, float]  # top, left, bottom, right
    borders: dict[str, Border | None]  # only the edges the cell sets
    valign: str
    fill: tuple[int, int, int] | None
    vmerge: str | None  # "restart", "continue" or None
    blocks: list[Block]
    column: int = 0


@dataclass
class Row:
    cells: list[Cell]
    header: bool
    cant_split: bool
    height: float
    exact: bool


@dataclass
class Table:
    widths: list[float]
    align: str
    indent: float
    borders: dict[str, Border | None]
    rows: list[Row]


Block = Paragraph | Table


@dataclass
class Section:
    width: float = 595.3
    height: float = 841.9
    top: float = 72.0
    bottom: float = 72.0
    left: float = 72.0
    right: float = 72.0
    header: float = 36.0
    footer: float = 36.0
    title_page: bool = False
    first_number: int = 1
    headers: dict[str, list[Block]] = field(default_factory=dict)
    footers: dict[str, list[Block]] = field(default_factory=dict)


@dataclass
class Parsed:
    body: list[Block]
    section: Section
    core: dict[str, str]
    features: dict[str, None]  # unsupported features, in order of discovery


def column_widths(grid: list[float], rows: list[Row]) -> list[float]:
    """The columns' widths: the first row's preferred cell widths (``w:tcW``) where it gives them
    all, as Word lays a table out; else the grid (``w:tblGrid``, Word's record of its last layout)."""
    if not rows or not rows[0].cells or not all(cell.width > 0 for cell in rows[0].cells):
        return grid
    widths = list(grid)
    for cell in rows[0].cells:
        if cell.column + cell.span > len(widths):
            widths.extend([0.0] * (cell.column + cell.span - len(widths)))
        span = widths[cell.column : cell.column + cell.span]
        total = sum(span)
        for offset, width in enumerate(span):
            share = width / total if total > 0 else 1 / cell.span
            widths[cell.column + offset] = cell.width * share
    return widths
