"""Vietnamese by default, English on request: Babel message catalogues, one per language.

Templates and page code are written in Vietnamese (the msgids); ``api/locale/en/LC_MESSAGES/
messages.po`` translates them. Catalogues are compiled in memory at start-up, so no build step is
needed. The language of a request lives in a context variable set by the middleware.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@lru_cache
def translations(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def _(message: str, **values: object) -> str:
    """Translate, then fill ``%(name)s`` placeholders."""
    text = gettext(message)
    return text % values if values else text


def pick(vi: str, en: str) -> str:
    """Of a pair of texts that came from data (catalogue, schema, errors), the current language's."""
    return en if current_language.get() == "en" and en else vi
