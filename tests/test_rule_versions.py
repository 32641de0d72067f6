"""A procedure's rules as dated versions (workflows/catalogue.py): the catalogue refuses versions
that overlap or leave a gap, naming the file and the dates; pages and the API show the rules in
force and announce the next ones; a dossier follows the version in force on the day it counts as
received, to its end."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from api.cli import main as tdcflow
from tests.support import local
from tests.test_startup import broken_copy, start
from workflows.catalogue import CatalogueError
from workflows.config import PROJECT_ROOT
from workflows.models import Dossier

CATALOGUE = "catalogue.toml"
IMPORT = "kiem-tra-chat-luong-hang-nhap-khau"
OLD_END = "effective_until = 2026-06-30"


@pytest.mark.parametrize(
    ("until", "words"),
    [
        ("effective_until = 2026-07-03", ["versions overlap", "the start–03/07/2026", "from 01/07/2026"]),
        ("effective_until = 2026-06-27", ["a gap between versions", "28/06/2026 to 30/06/2026"]),
        (
            "effective_until = 2025-01-01\neffective_from = 2025-02-01",
            ["ends before it begins", "01/01/2025"],
        ),
    ],
)
def test_overlapping_or_gapped_versions_stop_start_up_naming_the_file_and_dates(tmp_path, until, words):
    folder = broken_copy(tmp_path, CATALOGUE, OLD_END, until)
    with pytest.raises(CatalogueError) as caught:
        start(tmp_path, folder)
    message = str(caught.value)
    assert str(folder / CATALOGUE) in message and IMPORT in message
    for word in words:
        assert word in message, message


def test_only_the_first_version_may_leave_out_its_start(tmp_path):
    folder = broken_copy(tmp_path, CATALOGUE, "effective_from = 2026-07-01\n", "")
    with pytest.raises(CatalogueError, match="versions #2: effective_from is required"):
        start(tmp_path, folder)


def test_tdcflow_check_lists_every_version_with_its_dates(tmp_path, monkeypatch, capsys):
    from workflows.config import get_settings

    monkeypatch.setenv("TDCFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("TDCFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TDCFLOW_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
    monkeypatch.setenv("TDCFLOW_BPMN_DIR", str(PROJECT_ROOT / "bpmn"))
    get_settings.cache_clear()
    try:
        assert tdcflow(["migrate"]) == 0
        capsys.readouterr()
        assert tdcflow(["check"]) == 0
        out = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert f"ok  {IMPORT}  (import_quality_inspection, model version" in out
    assert "rules …–30/06/2026" in out and "rules 01/07/2026–…" in out


def test_the_procedure_page_shows_the_rules_in_force_and_announces_the_next(client):
    with time_machine.travel(local(2026, 6, 15, 9, 0), tick=False):
        page = client.get(f"/procedures/{IMPORT}").text
        assert (
            "Từ 01/07/2026 áp dụng" in page and "Nghị định 37/2026/NĐ-CP và Thông tư 36/2026/TT-BKHCN" in page
        )
        assert "Nghị định 132/2008/NĐ-CP" in page and "đến hết 30/06/2026" in page
        english = client.get(f"/procedures/{IMPORT}?lang=en").text
        assert "From 01/07/2026" in english and "Decree 37/2026 and Circular 36/2026" in english
        api = client.get(f"/api/procedures/{IMPORT}").json()
        assert api["rules"]["key"] == "" and api["rules"]["effective_until"] == "2026-06-30"
        assert api["upcoming"]["key"] == "2026-07-01"
        assert "Thông tư 36/2026/TT-BKHCN" in " ".join(api["upcoming"]["legal_basis"])
        # The new rules can be read before they apply.
        ahead = client.get(f"/procedures/{IMPORT}?version=2026-07-01").text
        assert "Thông tư 36/2026/TT-BKHCN" in ahead and "Từ 01/07/2026 áp dụng" not in ahead
    with time_machine.travel(local(2026, 7, 1, 9, 0), tick=False):
        page = client.get(f"/procedures/{IMPORT}?lang=vi").text
        assert "Từ 01/07/2026 áp dụng" not in page and "từ 01/07/2026" in page
        assert "Thông tư 36/2026/TT-BKHCN" in page and "Nghị định 132/2008" not in page
        assert client.get(f"/api/procedures/{IMPORT}").json()["upcoming"] is None


def test_a_dossier_without_a_recorded_version_follows_the_rules_of_its_receipt_day(rt):
    """Dossiers from before versions were recorded (rules_version empty after migration 0004)."""

    def dossier(received: date) -> Dossier:
        instant = local(received.year, received.month, received.day, 10, 0)
        return Dossier(
            code="x",
            procedure_code=IMPORT,
            applicant_id=1,
            applicant_name="",
            applicant_tax_code="",
            subject="",
            status="processing",
            data={},
            submitted_at=instant,
            received_at=instant,
        )

    assert rt.catalogue.for_dossier(dossier(date(2026, 6, 30))).version_key == ""
    assert rt.catalogue.for_dossier(dossier(date(2026, 7, 1))).version_key == "2026-07-01"
    pinned = dossier(date(2026, 7, 1))
    pinned.rules_version = ""
    assert rt.catalogue.for_dossier(pinned).version_key == ""
    # A dossier of a procedure no longer in the catalogue has no version (pages show it without one).
    gone = dossier(date(2026, 7, 1))
    gone.procedure_code = "thu-tuc-da-bo"
    assert rt.catalogue.for_dossier(gone) is None
