"""A short, readable summary of a User-Agent header ("Firefox 128 · Windows") for the list of a
user's sessions: enough to recognise one's own devices, nothing of the raw header is kept."""

from __future__ import annotations

import re

# Order matters: Edge, Opera and Cốc Cốc say "Chrome" too, Chrome says "Safari".
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/(\d+)")),
    ("Cốc Cốc", re.compile(r"coc_coc_browser/(\d+)")),
    ("Zalo", re.compile(r"Zalo(?:Theme)?/?(\d*)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS|HeadlessChrome)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\w+ )?Safari/")),
    ("curl", re.compile(r"^curl/(\d+)")),
    ("Python", re.compile(r"(?:python-requests|python-httpx|Python-urllib)/(\d+)")),
)
_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux|X11")),
)


def summarise(header: str | None) -> str:
    """ "Browser version · system", whichever parts are recognised; "" when none is."""
    text = (header or "")[:512]
    parts = []
    for name, pattern in _BROWSERS:
        found = pattern.search(text)
        if found:
            version = found.group(1) if found.groups() else ""
            parts.append(f"{name} {version}".strip())
            break
    for name, pattern in _SYSTEMS:
        if pattern.search(text):
            parts.append(name)
            break
    return " · ".join(parts)
