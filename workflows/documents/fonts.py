"""The fonts of the PDF copy: a free face metric-compatible with Times New Roman, with all of Vietnamese.

Decree 30/2020/NĐ-CP asks for Times New Roman. The PDF embeds (subsets of) Liberation Serif 2.x,
whose advance widths are those of Times New Roman, so a line breaks where Word breaks it; Debian's
``fonts-liberation2`` ships it. The older ``fonts-liberation`` (1.07) has the same name but lacks
Vietnamese letters such as Ộ, ự, ỹ: every file found is therefore checked for every Vietnamese
letter, and one that lacks any is passed over. Noto Serif (``fonts-noto-core``) is the fallback;
its widths differ, so lines may break elsewhere than in Word.

``TDCFLOW_PDF_FONT_DIR`` (:class:`workflows.config.Settings.pdf_font_dir`) names a folder to look
in first, e.g. one holding Times New Roman itself (``times.ttf``, ``timesbd.ttf``…).
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

from workflows.config import get_settings

log = logging.getLogger("tdcflow.documents")

STYLES = ("regular", "bold", "italic", "bold_italic")
APT_PACKAGE = "fonts-liberation2"

# Candidate families, best first: (folder, {style: file name}) — a family is used whole or not at all.
_FAMILIES: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "times",
        {"regular": "times.ttf", "bold": "timesbd.ttf", "italic": "timesi.ttf", "bold_italic": "timesbi.ttf"},
    ),
    (
        "liberation",
        {
            "regular": "LiberationSerif-Regular.ttf",
            "bold": "LiberationSerif-Bold.ttf",
            "italic": "LiberationSerif-Italic.ttf",
            "bold_italic": "LiberationSerif-BoldItalic.ttf",
        },
    ),
    (
        "noto",
        {
            "regular": "NotoSerif-Regular.ttf",
            "bold": "NotoSerif-Bold.ttf",
            "italic": "NotoSerif-Italic.ttf",
            "bold_italic": "NotoSerif-BoldItalic.ttf",
        },
    ),
)
_SYSTEM_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/truetype/msttcorefonts"),
    Path("/usr/share/fonts/truetype/liberation"),
)


def vietnamese_letters() -> str:
    """Every letter of Vietnamese as NFC code points: a-z, đ, ă â ê ô ơ ư and the 12 vowels with each
    of the 5 tones, lower and upper case (186)."""
    tones = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # huyền sắc ngã hỏi nặng
    letters = set("abcdefghijklmnopqrstuvwxyzđ")
    for vowel in "aăâeêioôơuưy":
        letters.update(unicodedata.normalize("NFC", vowel + tone) for tone in tones)
    letters |= {letter.upper() for letter in letters}
    return "".join(sorted(letters))


class FontError(RuntimeError):
    """No usable font: the message names the missing glyphs and the package to install."""


@dataclass(frozen=True)
class FontSet:
    family: str  # "Liberation Serif"
    files: dict[str, Path]  # style → file


def missing_letters(path: Path) -> str:
    """The Vietnamese letters ``path`` has no glyph for ("" when it has them all)."""
    with TTFont(path, lazy=True) as font:
        cmap = font.getBestCmap() or {}
    return "".join(letter for letter in vietnamese_letters() if ord(letter) not in cmap)


def _family_name(path: Path) -> str:
    with TTFont(path, lazy=True) as font:
        return font["name"].getBestFamilyName() or path.stem


@functools.cache
def document_fonts() -> FontSet:
    """The four faces of the first complete family that has every Vietnamese letter.

    Cached per process; raises :class:`FontError` naming what is missing and what to install.
    """
    configured = get_settings().pdf_font_dir
    folders = ([Path(configured)] if configured else []) + list(_SYSTEM_DIRS)
    refused: list[str] = []
    for _name, files in _FAMILIES:
        for folder in folders:
            paths = {style: folder / files[style] for style in STYLES}
            if not all(path.is_file() for path in paths.values()):
                continue
            gaps = {style: missing_letters(path) for style, path in paths.items()}
            if any(gaps.values()):
                lacking = "".join(sorted(set("".join(gaps.values()))))
                refused.append(f"{folder} lacks {lacking}")
                log.warning("fonts in %s lack Vietnamese letters %s: not used", folder, lacking)
                continue
            return FontSet(_family_name(paths["regular"]), paths)
    detail = "; ".join(refused) or "no font files found in " + ", ".join(str(f) for f in folders)
    raise FontError(
        f"no serif font with every Vietnamese letter for the PDF copy ({detail}); "
        f"install Debian's {APT_PACKAGE} (apt-get install {APT_PACKAGE}) or fonts-noto-core, "
        "or set TDCFLOW_PDF_FONT_DIR to a folder holding Times New Roman"
    )
