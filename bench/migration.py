"""Migration benchmark: N running declarations moved to a new version of their procedure.

    .venv/bin/python bench/migration.py [--dossiers 300] [--rounds 3] [--database-url URL]

Each round starts from an empty database, files N declarations and has the clerk receive them (so
each waits at "examine"), deploys ``tests/fixtures/deployments/declaration_2027`` (which renames
"examine" to "appraise" and adds a step), then times the dry run with the mapping and the run (each
dossier in its own transaction). Prints medians over rounds: dossiers per second and milliseconds
per dossier for the dry run and the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import time_machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline import declaration
from bench.engine import PROCEDURE, open_task, setup_people
from tests.conftest import make_settings
from workflows import accounts, commands, deployments, instance_migration, submission
from workflows.db import drop_schema
from workflows.demo import DEMO_PDF
from workflows.instance_migration import Selection
from workflows.runtime import build_runtime

BUNDLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "deployments" / "declaration_2027"
# A Monday of 2026, before the bundle's effective date (a deployment takes effect from today on).
WHEN = "2026-03-02T02:00:00+00:00"


def run_round(database_url: str | None, dossiers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, time_machine.travel(WHEN, tick=True):
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        rt = build_runtime(make_settings(Path(tmp), url))
        try:
            people = setup_people(rt)
            admin = accounts.create_officer(
                rt,
                None,
                email="admin@bench.vn",
                password="bench-password",
                full_name="Admin",
                roles=["admin"],
            )
            firm = people["business"]
            for n in range(dossiers):
                ids = {
                    field: commands.upload_attachment(rt, firm, f"{field}.pdf", DEMO_PDF).id
                    for field in ("declaration_form", "business_registration", "certificate_copy")
                }
                dossier, _ = submission.submit_dossier(
                    rt, firm, PROCEDURE, declaration(n, firm.tax_code, ids)
                )
                commands.complete_task(
                    rt, people["clerk"], open_task(rt, dossier.code), {"completeness_decision": "receive"}
                )
            target = f"d{deployments.deploy(rt, admin, deployments.read_folder(BUNDLE)).id}"
            selection = Selection(PROCEDURE, "", target)
            t0 = time.perf_counter()
            planned = instance_migration.dry_run(rt, selection, {"examine": "appraise"})
            dry = time.perf_counter() - t0
            assert planned.counts["as_is"] == dossiers, planned.counts
            t0 = time.perf_counter()
            report = instance_migration.run(
                rt, admin, selection, {"examine": "appraise"}, planned.seen_versions
            )
            ran = time.perf_counter() - t0
            assert report.count("migrated") == dossiers
            return {
                "dry_per_s": dossiers / dry,
                "dry_ms": dry / dossiers * 1000,
                "run_per_s": dossiers / ran,
                "run_ms": ran / dossiers * 1000,
            }
        finally:
            if database_url:
                drop_schema(rt.engine)
            rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    results = [run_round(args.database_url, args.dossiers) for _ in range(args.rounds)]
    for key, label in (
        ("dry_per_s", "dry run, dossiers/s"),
        ("dry_ms", "dry run, ms per dossier"),
        ("run_per_s", "run, dossiers/s"),
        ("run_ms", "run, ms per dossier"),
    ):
        values = [r[key] for r in results]
        print(
            f"{label:28} median {statistics.median(values):8.1f}  range {min(values):.1f}–{max(values):.1f}"
        )


if __name__ == "__main__":
    main()
