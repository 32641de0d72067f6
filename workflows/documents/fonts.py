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
import hashlib
import logging
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
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
# Debian's folders, best first; fonts-liberation 1.x last, only to say what it lacks.
_SYSTEM_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/noto"),
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
    """The fonts of the PDF copy: :func:`find_fonts` in ``TDCFLOW_PDF_FONT_DIR``, then Debian's
    folders. Cached per process; raises :class:`FontError` naming what is missing and what to install.
    """
    configured = get_settings().pdf_font_dir
    return find_fonts(([Path(configured)] if configured else []) + list(_SYSTEM_DIRS))


def find_fonts(folders: list[Path]) -> FontSet:
    """The four faces of a family (Times New Roman, Liberation Serif, Noto Serif, in this order
    within a folder) in the first of ``folders`` that has one with every Vietnamese letter;
    :class:`FontError` if there is none."""
    refused: list[str] = []
    for folder in folders:
        for _name, files in _FAMILIES:
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


# --------------------------------------------------------------------------- the cut-down copies
#
# fpdf2 reads the whole font file for every PDF (fontTools parses every glyph of its ~2,600) before
# it embeds the subset a document uses: most of a rendering's time. A copy of each face cut down
# once to the characters an official document of this office uses (Latin with every Vietnamese
# letter, punctuation, currency and common symbols) makes that 2-3 times cheaper. A document using
# any other character is rendered with the full files.

_KEPT_RANGES = (
    (0x0020, 0x024F),  # Basic Latin, Latin-1, Latin Extended-A and -B (ă â đ ê ô ơ ư)
    (0x0300, 0x036F),  # combining diacritical marks
    (0x1E00, 0x1EFF),  # Latin Extended Additional (ạ ả ấ … ỹ)
    (0x2000, 0x206F),  # general punctuation (dashes, quotes, bullets, ellipsis)
    (0x20A0, 0x20CF),  # currency (₫)
    (0x2100, 0x214F),  # letterlike symbols (№, ℃)
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (−, ≤, ≥)
)
_CUT_VERSION = "1"


def _cache_dir() -> Path:
    """In the data folder (the application's own), not a shared temporary folder."""
    return get_settings().data_dir / "cache" / "pdf-fonts"


def _cut(source: Path) -> Path:
    """The cut-down copy of ``source``, written once (atomically) to the cache folder."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = _cache_dir() / f"{source.stem}-{digest}-{_CUT_VERSION}.ttf"
    if target.is_file():
        return target
    options = subset.Options()
    options.glyph_names = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.layout_features = []  # no shaping: the PDF copy draws precomposed (NFC) letters
    options.drop_tables += ["FFTM"]
    with TTFont(source, recalcTimestamp=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[code for low, high in _KEPT_RANGES for code in range(low, high + 1)])
        subsetter.subset(font)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as tmp:
            font.save(tmp)
    os.replace(tmp.name, target)
    return target


@functools.cache
def cut_fonts() -> tuple[dict[str, Path], frozenset[int]] | None:
    """Cut-down copies of :func:`document_fonts` and the characters all of them have.

    None when they cannot be made (e.g. a read-only data folder): the full files serve.
    """
    fonts = document_fonts()
    try:
        files = {style: _cut(path) for style, path in fonts.files.items()}
    except OSError as exc:
        log.warning("cannot cache cut-down fonts for the PDF copy (%s): the full files are embedded", exc)
        return None
    covered: frozenset[int] | None = None
    for path in files.values():
        with TTFont(path, lazy=True) as font:
            codes = frozenset(font.getBestCmap() or {})
        covered = codes if covered is None else covered & codes
    return files, covered or frozenset()
