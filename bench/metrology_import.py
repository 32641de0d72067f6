"""Metrology bulk import: one verification body's file of N rows, read and applied in one request.

    .venv/bin/python bench/metrology_import.py [--rows 10000] [--runs 1] [--database-url URL]

Times what a body waits for on ``POST /api/metrology/reports/upload`` without the HTTP part:
reading the CSV (``reports.read_file``) and applying its rows in one transaction
(``bulk.report_rows``: each row validated, its instrument found or registered, its record and
audit events written). Every run sends a new file (new instruments, new certificates) to the same
database, then sends the first file again (every row ``unchanged``: the cost of an idempotent
resend). The issue's target: 10,000 rows < 30 s with a per-row report. Default database: a fresh
SQLite file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine

from tests.conftest import make_settings
from tests.support import local
from workflows import accounts
from workflows.db import drop_schema
from workflows.metrology import bodies, bulk, reports
from workflows.runtime import build_runtime

HEADER = ",".join(reports.COLUMNS)


def csv_file(run: int, rows: int) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        values = {
            "kind": "taximeter" if i % 2 else "platform_scale",
            "model": f"M-{i % 50}",
            "approval_mark": "PDM 1-2024",
            "serial_number": f"B{run}-{i:06d}",
            "measuring_range": "0-150 kg",
            "accuracy_class": "III",
            "owner_type": "business" if i % 3 else "household",
            "owner_tax_code": "3200765001" if i % 3 else "",
            "owner_name": "Công ty TNHH Bench" if i % 3 else "Hộ kinh doanh",
            "commune": f"Phường {i % 40}",
            "address": "",
            "purpose": "Mua bán",
            "certificate_number": f"GCN-{run}-{i:06d}",
            "stamp_number": f"TEM-{run}-{i:06d}",
            "verified_on": "20/05/2026",
            "result": "pass",
            "valid_until": "19/05/2027",
        }
        lines.append(",".join(values[c] for c in reports.COLUMNS))
    return "\n".join(lines).encode()


def run(database_url: str | None, rows: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, time_machine.travel(local(2026, 6, 1, 9, 0), tick=True):
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        rt = build_runtime(make_settings(Path(tmp), url))
        try:
            admin = accounts.create_officer(
                rt,
                None,
                email="admin@bench.vn",
                password="mat-khau-bench-2026",
                full_name="Admin",
                roles=["admin"],
            )
            _, key = bodies.create_key(
                rt, admin, bodies.create_body(rt, admin, "BENCH", "Bench body").id or 0
            )
            body = bodies.body_of_key(rt, key)
            assert body is not None
            fresh, again = [], []
            first = csv_file(0, rows)
            for n in range(runs):
                content = first if n == 0 else csv_file(n, rows)
                t0 = time.perf_counter()
                outcomes = bulk.report_rows(rt, body, reports.read_file("a.csv", content))
                fresh.append(time.perf_counter() - t0)
                assert all(o.outcome == reports.CREATED for o in outcomes), outcomes[:3]
            t0 = time.perf_counter()
            outcomes = bulk.report_rows(rt, body, reports.read_file("a.csv", first))
            again.append(time.perf_counter() - t0)
            assert all(o.outcome == reports.UNCHANGED for o in outcomes)
            print(f"database: {rt.engine.dialect.name}; {rows} rows per file")
            print(f"new file:    median {statistics.median(fresh):.1f} s over {runs} run(s)")
            print(f"same again:  {again[0]:.1f} s (every row unchanged)")
        finally:
            if database_url:
                drop_schema(rt.engine)
            rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    run(args.database_url, args.rows, args.runs)


if __name__ == "__main__":
    main()
