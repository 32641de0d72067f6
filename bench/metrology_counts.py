"""Metrology public counts: the GROUP BY behind ``/api/public/metrology/counts`` at N instruments.

    .venv/bin/python bench/metrology_counts.py [--instruments 100000] [--samples 20] [--database-url URL]

Writes N instruments straight into the table (15 kinds × 80 communes; a third ended, a tenth failed
or never verified), then prints the median and p95 of a count read afresh
(``public_counts.count``) and of a read the cache answers (``public_counts.public_counts``).
Default database: a fresh SQLite file; a PostgreSQL URL's schema is dropped afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from tests.conftest import make_settings
from workflows.db import drop_schema
from workflows.metrology import public_counts
from workflows.metrology.kinds import KINDS
from workflows.metrology.models import Instrument
from workflows.runtime import build_runtime

TODAY = date(2026, 6, 1)
REGISTERED = datetime(2025, 1, 2, tzinfo=UTC)


def rows(n: int) -> list[dict[str, object]]:
    out = []
    for i in range(n):
        ended = i % 3 == 0
        failed = i % 10 == 1
        out.append(
            {
                "kind": KINDS[i % len(KINDS)].code,
                "model": f"M-{i % 50}",
                "serial_number": f"S-{i:07d}",
                "owner_type": "business",
                "owner_tax_code": "3200765001",
                "owner_name": "Công ty TNHH Bench",
                "commune": f"Xã {i % 80}",
                "registered_at": REGISTERED,
                "current_verification_id": None if i % 20 == 3 else i + 1,
                "current_verified_on": TODAY - timedelta(days=400),
                "current_result": "fail" if failed else "pass",
                "current_valid_until": None if failed else TODAY + timedelta(days=-30 if ended else 200),
            }
        )
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(database_url: str | None, instruments: int, samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        rt = build_runtime(make_settings(Path(tmp), url))
        try:
            data = rows(instruments)
            with rt.engine.begin() as conn:
                for start in range(0, len(data), 5000):
                    conn.execute(insert(Instrument), data[start : start + 5000])
            fresh = []
            for _ in range(samples):
                t0 = time.perf_counter()
                counted = public_counts.count(rt, TODAY)
                fresh.append((time.perf_counter() - t0) * 1000)
            assert counted.total.registered == instruments
            public_counts.public_counts(rt)
            cached = []
            for _ in range(samples):
                t0 = time.perf_counter()
                public_counts.public_counts(rt)
                cached.append((time.perf_counter() - t0) * 1000)
            print(f"database: {rt.engine.dialect.name}; {instruments} instruments, {len(counted.rows)} cells")
            print(
                f"counted afresh: median {statistics.median(fresh):.1f} ms, p95 {percentile(fresh, 0.95):.1f} ms"
            )
            print(
                f"from the cache: median {statistics.median(cached):.3f} ms, p95 {percentile(cached, 0.95):.3f} ms"
            )
        finally:
            if database_url:
                drop_schema(rt.engine)
            rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    run(args.database_url, args.instruments, args.samples)


if __name__ == "__main__":
    main()
