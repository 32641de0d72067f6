"""The PDF copy's page layout: lines laid out with the embedded font's metrics (``pdf_lines``), units
(a line of a paragraph, a row of a table) and their pagination by the .docx's keep rules; drawn with
fpdf2.

See :mod:`workflows.documents.pdf_writer` for what the rules are.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from fpdf import FPDF

from workflows.documents.ooxml_blocks import Block, Cell, Paragraph, Table
from workflows.documents.ooxml_styles import Border, RunStyle
from workflows.documents.pdf_lines import Line, Piece, layout_lines, text_width

log = logging.getLogger("tdcflow.documents")


# --------------------------------------------------------------------------- boxes and pages

Draw = Callable[["Canvas", float, float], None]


@dataclass
class _Unit:
    """What pagination moves: a line of a paragraph, a row of a table (with what it draws)."""

    height: float
    draw: Draw
    keep_next: bool = False
    page_break_before: bool = False
    space_before: float = 0.0  # dropped at the top of a page after a natural break
    repeat: list[_Unit] | None = None  # the table's header rows, drawn first on a new page
    parts: list[_Unit] | None = None  # the lines of a keepLines paragraph, if it must be split
    split: Callable[[float], tuple[_Unit, _Unit] | None] | None = None  # a row taller than a page


class Canvas:
    """The fpdf2 document with the little state the drawing needs."""

    def __init__(self, pdf: FPDF, files: dict[str, str]) -> None:
        self.pdf = pdf
        self.files = files  # face ("", "B", "I", "BI") → font file
        self.added: set[str] = set()
        self.font: tuple[str, float] | None = None
        self.color: tuple[int, int, int] = (0, 0, 0)

    def set_style(self, style: RunStyle) -> None:
        key = (style.face, style.drawn_size)
        if key != self.font:
            if style.face not in self.added:  # a face is embedded only if it is used (cheaper)
                self.pdf.add_font("body", style.face, self.files[style.face])
                self.added.add(style.face)
            self.pdf.set_font("body", style.face, style.drawn_size)
            self.font = key
        if style.color != self.color:
            self.pdf.set_text_color(*style.color)
            self.color = style.color

    def rule(self, x1: float, y1: float, x2: float, y2: float, border: Border) -> None:
        self.pdf.set_line_width(border.width)
        self.pdf.set_draw_color(*border.color)
        self.pdf.line(x1, y1, x2, y2)


def _draw_line(canvas: Canvas, line: Line, align: str, x0: float, top: float) -> None:
    pdf = canvas.pdf
    extra = line.available - line.width
    x = x0 + line.indent
    if align == "center":
        x += max(extra, 0) / 2
    elif align == "right":
        x += max(extra, 0)
    spaces = [piece for piece in line.pieces if piece.kind == "space"]
    stretch = extra / len(spaces) if line.justify and spaces and extra > 0 else 0.0
    baseline = top + line.baseline
    # Runs of text and spaces in one style are one string, unless justified spaces must stretch.
    pending: list[Piece] = []

    def flush() -> None:
        nonlocal pending, x
        if not pending:
            return
        text = "".join(piece.text for piece in pending)
        width = sum(piece.width for piece in pending)
        style = pending[0].style
        if text.strip():
            canvas.set_style(style)
            pdf.text(x, baseline - style.rise, text)
        size, rise = style.drawn_size, style.rise
        if style.underline:
            canvas.rule(
                x, baseline - rise + size * 0.12, x + width, baseline - rise + size * 0.12,
                Border(size * 0.05, 0, style.color),
            )  # fmt: skip
        if style.strike:
            canvas.rule(
                x, baseline - rise - size * 0.27, x + width, baseline - rise - size * 0.27,
                Border(size * 0.05, 0, style.color),
            )  # fmt: skip
        x += width
        pending = []

    for piece in line.pieces:
        if piece.kind == "picture":
            flush()
            picture = piece.picture
            assert picture is not None
            pdf.image(
                io.BytesIO(picture.data), x=x, y=baseline - picture.height, w=picture.width, h=picture.height
            )
            x += piece.width
        elif piece.kind == "tab" and piece.text:  # a leader: dots up to the stop
            flush()
            canvas.set_style(piece.style)
            pdf.text(
                x + piece.width - text_width(piece.text, piece.style), baseline - piece.style.rise, piece.text
            )
            x += piece.width
        elif piece.kind == "tab" or (piece.kind == "space" and stretch):
            flush()
            if (piece.style.underline or piece.style.strike) and piece.kind == "space":
                pending = [replace(piece, width=piece.width + stretch)]
                flush()
            else:
                x += piece.width + (stretch if piece.kind == "space" else 0.0)
        else:
            if pending and pending[0].style != piece.style:
                flush()
            pending.append(piece)
    flush()


def _paragraph_units(para: Paragraph, width: float, fields: dict[str, str]) -> list[_Unit]:
    style = para.style
    lines = layout_lines(para, width, fields)
    top_rule = style.border_top.width + style.border_top.space if style.border_top else 0.0
    bottom_rule = style.border_bottom.width + style.border_bottom.space if style.border_bottom else 0.0
    units: list[_Unit] = []
    for index, line in enumerate(lines):
        first, last = index == 0, index == len(lines) - 1
        above = (style.before if first else 0.0) + (top_rule if first else 0.0)
        below = (style.after if last else 0.0) + (bottom_rule if last else 0.0)

        def draw(canvas: Canvas, x: float, y: float, line=line, first=first, last=last, above=above) -> None:
            left, right = x + style.left, x + width - style.right
            if first and style.border_top:
                border = style.border_top
                rule_y = y + style.before + border.width / 2
                canvas.rule(left, rule_y, right, rule_y, border)
            _draw_line(canvas, line, style.align, x, y + above)
            if last and style.border_bottom:
                border = style.border_bottom
                rule_y = y + above + line.height + border.space + border.width / 2
                canvas.rule(left, rule_y, right, rule_y, border)

        units.append(
            _Unit(
                above + line.height + below,
                draw,
                space_before=style.before if first else 0.0,
                page_break_before=style.page_break_before and first,
            )
        )
    if style.widow_control and len(units) >= 2:
        units[0].keep_next = True
        units[-2].keep_next = True
    if style.keep_lines and len(units) > 1:
        units = [_merge(units)]
    units[-1].keep_next = units[-1].keep_next or style.keep_next
    return units


def _merge(units: list[_Unit]) -> _Unit:
    """Units drawn one below the other as one unit."""
    offsets, total = [], 0.0
    for unit in units:
        offsets.append(total)
        total += unit.height

    def draw(canvas: Canvas, x: float, y: float) -> None:
        for unit, offset in zip(units, offsets, strict=True):
            unit.draw(canvas, x, y + offset)

    return _Unit(
        total,
        draw,
        keep_next=units[-1].keep_next,
        page_break_before=units[0].page_break_before,
        space_before=units[0].space_before,
        parts=units,
    )


def _contextual(blocks: list[Block]) -> list[Block]:
    """``w:contextualSpacing``: no space before or after where the neighbour has the same style."""
    out = list(blocks)
    for index in range(len(out) - 1):
        first, second = out[index], out[index + 1]
        if not (isinstance(first, Paragraph) and isinstance(second, Paragraph)):
            continue
        if first.style.style_id != second.style.style_id:
            continue
        if first.style.contextual:
            out[index] = first = replace(first, style=replace(first.style, after=0.0))
        if second.style.contextual:
            out[index + 1] = replace(second, style=replace(second.style, before=0.0))
    return out


def block_units(blocks: list[Block], width: float, fields: dict[str, str]) -> list[_Unit]:
    units: list[_Unit] = []
    for block in _contextual(blocks):
        if isinstance(block, Paragraph):
            units.extend(_paragraph_units(block, width, fields))
        else:
            units.extend(_table_units(block, width, fields))
    return units


def stack(units: list[_Unit]) -> tuple[float, Draw]:
    """Units of a cell, header or footer drawn one below the other (no pagination inside)."""
    merged = _merge(units) if units else _Unit(0.0, lambda canvas, x, y: None)
    return merged.height, merged.draw


def _table_units(table: Table, width: float, fields: dict[str, str]) -> list[_Unit]:
    total = sum(table.widths)
    if table.align == "center":
        offset = (width - total) / 2
    elif table.align == "right":
        offset = width - total
    else:
        offset = table.indent
    starts = [sum(table.widths[:i]) for i in range(len(table.widths) + 1)]
    # Each cell's content, laid out once.
    contents: list[list[tuple[Cell, float, list[_Unit]]]] = []
    for row in table.rows:
        laid = []
        for cell in row.cells:
            inner = max(cell.width - cell.margins[1] - cell.margins[3], 1.0)
            cell_units = block_units(cell.blocks, inner, fields)
            height = sum(unit.height for unit in cell_units)
            laid.append((cell, height + cell.margins[0] + cell.margins[2], cell_units))
        contents.append(laid)
    # Row heights: the tallest cell not in a vertical merge, then merged cells grow their last row.
    heights = []
    for row, laid in zip(table.rows, contents, strict=True):
        tallest = max((h for cell, h, _ in laid if cell.vmerge is None), default=0.0)
        heights.append(row.height if row.exact else max(tallest, row.height))
    spans: dict[tuple[int, int], int] = {}  # (row, column) of a restart cell → rows it spans
    for r, laid in enumerate(contents):
        for cell, needed, _ in laid:
            if cell.vmerge != "restart":
                continue
            last = r
            while last + 1 < len(contents) and any(
                c.column == cell.column and c.vmerge == "continue" for c, _, _ in contents[last + 1]
            ):
                last += 1
            spans[(r, cell.column)] = last - r + 1
            have = sum(heights[r : last + 1])
            if needed > have:
                heights[last] += needed - have
    n_rows = len(table.rows)
    n_cols = len(table.widths)

    def edge(cell: Cell, name: str, r: int) -> Border | None:
        if name in cell.borders:
            return cell.borders[name]
        outer = {
            "top": r == 0,
            "bottom": r + spans.get((r, cell.column), 1) - 1 == n_rows - 1,
            "left": cell.column == 0,
            "right": cell.column + cell.span >= n_cols,
        }[name]
        inner = "insideH" if name in ("top", "bottom") else "insideV"
        return table.borders.get(name if outer else inner)

    def row_unit(r: int, laid: list[tuple[Cell, float, list[_Unit]]], height: float, merged: bool) -> _Unit:
        """The unit of row ``r`` (or of a slice of it: ``laid`` holds the slice's content)."""

        def draw(canvas: Canvas, x: float, y: float) -> None:
            for cell, needed, cell_units in laid:
                if cell.vmerge == "continue" and merged:
                    continue
                h = sum(heights[r : r + spans.get((r, cell.column), 1)]) if merged else height
                left = x + offset + starts[min(cell.column, n_cols)]
                right = left + cell.width
                if cell.fill is not None:
                    canvas.pdf.set_fill_color(*cell.fill)
                    canvas.pdf.rect(left, y, cell.width, h, style="F")
                free = h - needed
                shift = {"center": free / 2, "bottom": free}.get(cell.valign, 0.0)
                _, content = stack(cell_units)
                content(canvas, left + cell.margins[1], y + cell.margins[0] + max(shift, 0.0))
                for name, (x1, y1, x2, y2) in (
                    ("top", (left, y, right, y)),
                    ("bottom", (left, y + h, right, y + h)),
                    ("left", (left, y, left, y + h)),
                    ("right", (right, y, right, y + h)),
                ):
                    border = edge(cell, name, r)
                    if border is not None:
                        canvas.rule(x1, y1, x2, y2, border)

        def split(available: float) -> tuple[_Unit, _Unit] | None:
            """The slice of the row that fits ``available`` and the rest (a row taller than a page)."""
            first, rest = [], []
            for cell, _, cell_units in laid:
                room = available - cell.margins[0] - cell.margins[2]
                used, count = 0.0, 0
                while count < len(cell_units) and used + cell_units[count].height <= room + 0.01:
                    used += cell_units[count].height
                    count += 1
                first.append((cell, used + cell.margins[0] + cell.margins[2], cell_units[:count]))
                left = cell_units[count:]
                rest.append((cell, sum(u.height for u in left) + cell.margins[0] + cell.margins[2], left))
            if not any(units for _, _, units in first):
                return None
            first_height = max(needed for _, needed, _ in first)
            rest_height = max(needed for _, needed, _ in rest)
            return row_unit(r, first, first_height, False), row_unit(r, rest, rest_height, False)

        return _Unit(height, draw, split=None if table.rows[r].exact else split)

    units: list[_Unit] = []
    for r, (row, laid) in enumerate(zip(table.rows, contents, strict=True)):
        unit = row_unit(r, laid, heights[r], True)
        unit.keep_next = (
            any(u.keep_next for cell in row.cells for u in _last_units(cell))
            or any(spans.get((r, c.column), 1) > 1 for c in row.cells)
            or any(c.vmerge == "continue" for c in (table.rows[r + 1].cells if r + 1 < n_rows else []))
        )
        units.append(unit)
    header_count = 0
    while header_count < n_rows and table.rows[header_count].header:
        header_count += 1
    headers = units[:header_count]
    for unit in headers:
        unit.keep_next = True  # a header row is never alone at the bottom of a page
    for unit in units[header_count:]:
        unit.repeat = headers or None
    return units


def _last_units(cell: Cell) -> list[_Unit]:
    """Whether the cell's last paragraph keeps with the next: its properties, not a layout."""
    if cell.blocks and isinstance(cell.blocks[-1], Paragraph) and cell.blocks[-1].style.keep_next:
        return [_Unit(0.0, lambda canvas, x, y: None, keep_next=True)]
    return []


@dataclass
class _Page:
    placed: list[tuple[_Unit, float]] = field(default_factory=list)


def paginate(units: list[_Unit], top: float, bottom: float) -> list[_Page]:
    """Places units on pages, honouring page breaks, keep chains and repeated table headers."""
    pages = [_Page()]
    y = top
    natural = False  # the current page began at a natural break
    body = bottom - top
    headers_on_page: set[int] = set()

    def new_page(is_natural: bool) -> None:
        nonlocal y, natural
        pages.append(_Page())
        y = top
        natural = is_natural
        headers_on_page.clear()

    def empty() -> bool:
        return not pages[-1].placed

    def needs_header(unit: _Unit) -> list[_Unit]:
        if unit.repeat and empty() and id(unit.repeat[0]) not in headers_on_page and len(pages) > 1:
            return unit.repeat
        return []

    def place(unit: _Unit) -> None:
        nonlocal y
        for header in needs_header(unit):
            headers_on_page.add(id(header))
            pages[-1].placed.append((header, y))
            y += header.height
        if unit.repeat is None:
            headers_on_page.add(id(unit))
        drop = unit.space_before if empty() and natural else 0.0
        pages[-1].placed.append((unit, y - drop))
        y += unit.height - drop

    def height_of(chain: list[_Unit], fresh: bool) -> float:
        total = sum(unit.height for unit in chain)
        if fresh:
            total -= chain[0].space_before
            if chain[0].repeat:
                total += sum(header.height for header in chain[0].repeat)
        return total

    i = 0
    while i < len(units):
        unit = units[i]
        if unit.page_break_before and not (empty() and len(pages) == 1 and y == top):
            if not empty():
                new_page(False)
            else:
                natural = False
        j = i
        while units[j].keep_next and j + 1 < len(units) and not units[j + 1].page_break_before:
            j += 1
        chain = units[i : j + 1]
        if y + height_of(chain, empty() and natural) <= bottom + 0.01:
            for unit in chain:
                place(unit)
            i = j + 1
            continue
        if not empty() and height_of(chain, True) <= body + 0.01:
            new_page(True)
            for unit in chain:
                place(unit)
            i = j + 1
            continue
        # The chain is taller than a page: unit by unit; a keepLines paragraph that is taller
        # than a page is split into its lines, as Word does.
        if unit.parts and height_of([unit], True) > body + 0.01:
            units[i : i + 1] = unit.parts
            continue
        if unit.split is not None and height_of([unit], True) > body + 0.01:
            # A row taller than a page: what fits here, the rest on the next page (under the header).
            available = bottom - y - sum(header.height for header in needs_header(unit))
            pieces = unit.split(available) if available > 0 else None
            if pieces is None and not empty():
                new_page(True)
                continue
            if pieces is not None:
                first, rest = pieces
                first.repeat, rest.repeat, rest.keep_next = unit.repeat, unit.repeat, unit.keep_next
                place(first)
                new_page(True)
                units[i] = rest
                continue
        if not empty() and y + height_of([unit], False) > bottom + 0.01:
            new_page(True)
        if height_of([unit], True) > body + 0.01:
            log.warning("a line or picture taller than the page runs past the bottom margin")
        place(unit)
        i += 1
    return pages
