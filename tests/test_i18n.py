"""Every text of the pages has its English translation, and the catalogue matches the sources."""

from __future__ import annotations

import re
import subprocess
import sys

from babel.messages.pofile import read_po

from workflows.config import PROJECT_ROOT

PO = PROJECT_ROOT / "api" / "locale" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_message_of_the_sources_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with PO.open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    untranslated = sorted(i for i in wanted if not catalogue.get(i))
    assert not untranslated, "run 'make messages' and translate: " + "; ".join(untranslated[:10])
    for msgid in wanted:
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(catalogue[msgid])), msgid
