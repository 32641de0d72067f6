"""Scale benchmark: the product's own read queries and pages over a million dossiers.

    .venv/bin/python bench/scale.py [--dossiers 1000000] [--database-url URL] [--data DIR] [--reuse]
                                    [--rounds 3] [--samples 50]

A fresh database is migrated as ``tdcflow migrate`` does (Alembic to the head), a handful of real
dossiers go through the commands (their dossier and task pages are measured), then ``--dossiers``
dossiers with about three work tasks each are written in bulk (SQLite: executemany; PostgreSQL:
COPY), 2 % of them open: the four procedures (70/20/8/2 %), their steps and candidate roles, a
few dozen officers, 20,000 businesses, submissions spread over five years, due times, alarms,
clock pauses and ratings; ``dossier.search_text`` is folded as the product folds it (generation runs in a child process).

Measured, each in ``--rounds`` rounds of ``--samples`` calls: the officer inbox
(``queries.inbox``), dossier search and list with paging (``queries.list_dossiers``), the public
lookup by code (``queries.public_lookup``), the scheduler tick (``scheduler.tick``), the month
report (``statistics.compute``), and the inbox, dossier list, dossier and task pages. Prints p50/p95 per query as the median over rounds and the range [min–max]. The pages are asked of
a real ``tdcflow serve`` on the same database (keep-alive HTTP on loopback), whose RSS is printed
after the run.

``--data DIR --reuse`` measures a database generated before (migrating it to the head first).
"""

from __future__ import annotations

import argparse
import atexit
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import text
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scale_fill import PASSWORD, generate, migrate, settings_for, settle
from workflows import queries, scheduler
from workflows import statistics as service_statistics
from workflows.db import reading
from workflows.models import Dossier, User, WorkTask
from workflows.queries import DossierFilter
from workflows.runtime import Runtime, build_runtime

# What officers type in the search box: a code, a tax code, a company, a product, tones or not.
SEARCHES = ("Quảng Trị", "quang tri", "thep khong gi", "Hòa Phát", "mũ bảo hiểm", "pcb40", "lao bao")


# --- measuring ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(call: Callable[[], object], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def cycle(values: list[Any]) -> Iterator[Any]:
    while True:
        yield from values


def measure(rt: Runtime, rounds: int, samples: int) -> list[tuple[str, list[tuple[float, float]]]]:
    from tests.test_pages import page_login

    with reading(rt.engine) as session:
        users = {
            u.email: u
            for u in session.exec(
                select(User).where(User.email.like("%@scale.vn"), User.email.not_like("firm%"))
            ).all()
        }
        clerk = users["clerk0@scale.vn"]
        specialist = users["specialist0@scale.vn"]
        leader = users["leader0@scale.vn"]
        codes = list(session.exec(select(Dossier.code).order_by(Dossier.id.desc()).limit(5000)).all())
        old_codes = list(session.exec(select(Dossier.code).where(Dossier.id % 997 == 0).limit(2000)).all())
        real = list(
            session.exec(
                select(Dossier.code).where(Dossier.applicant_tax_code == "0100109106").limit(6)
            ).all()
        )
        real_task = session.exec(
            select(WorkTask.id)
            .join(Dossier, Dossier.id == WorkTask.dossier_id)
            .where(Dossier.code.in_(real), WorkTask.status == "open", WorkTask.candidate_role == "clerk")
        ).first()
    rng = random.Random(3)
    lookups = cycle(
        [
            c if rng.random() < 0.5 else c.lower()
            for c in rng.sample(codes + old_codes, min(500, len(codes + old_codes)))
        ]
    )
    old_codes = old_codes or codes[-10:]  # a small run (--dossiers under a thousand)
    searches = cycle([*SEARCHES, codes[7][-13:], old_codes[len(old_codes) // 2], "3200"])
    officers = cycle([clerk, specialist, leader])
    month_end = date.today().replace(day=1) - timedelta(days=1)
    month_start = month_end.replace(day=1)

    server, client = serve(rt)
    page_login(client, "clerk0@scale.vn", PASSWORD)
    assert client.get("/work/inbox").status_code == 200
    real_codes = cycle(real)
    measured: list[tuple[str, Callable[[], object]]] = [
        (
            "inbox (queries.inbox, page 1 of 50)",
            lambda: queries.inbox(rt, next(officers), page=1, page_size=50),
        ),
        ("inbox, page 3", lambda: queries.inbox(rt, clerk, page=3, page_size=50)),
        (
            "dossier search (list_dossiers q=…)",
            lambda: queries.list_dossiers(rt, clerk, DossierFilter(q=next(searches))),
        ),
        ("dossier list, page 1", lambda: queries.list_dossiers(rt, clerk, DossierFilter())),
        ("dossier list, page 50", lambda: queries.list_dossiers(rt, clerk, DossierFilter(page=50))),
        ("public lookup by code", lambda: queries.public_lookup(rt, next(lookups))),
        ("scheduler tick", lambda: scheduler.tick(rt)),
        ("report of one month", lambda: service_statistics.compute(rt, month_start, month_end)),
        ("page /work/inbox", lambda: _ok(client.get("/work/inbox"))),
        ("page /work/dossiers?q=…", lambda: _ok(client.get("/work/dossiers", params={"q": next(searches)}))),
        ("page /dossiers/{code}", lambda: _ok(client.get(f"/dossiers/{next(real_codes)}"))),
        ("page /work/tasks/{id}", lambda: _ok(client.get(f"/work/tasks/{real_task}"))),
    ]
    results = []
    for label, call in measured:
        call()  # warm
        per_round = []
        for _ in range(rounds):
            values = timed(call, samples if "report" not in label else max(5, samples // 5))
            per_round.append((percentile(values, 0.5), percentile(values, 0.95)))
        results.append((label, per_round))
        p50s = [r[0] for r in per_round]
        p95s = [r[1] for r in per_round]
        print(
            f"  {label:40} p50 {statistics.median(p50s):8.2f} ms [{min(p50s):.2f}–{max(p50s):.2f}]"
            f"   p95 {statistics.median(p95s):8.2f} ms [{min(p95s):.2f}–{max(p95s):.2f}]",
            flush=True,
        )
    print(f"  server (tdcflow serve) RSS after the run: {rss_mb(server.pid):.0f} MB", flush=True)
    client.close()
    server.terminate()
    server.wait(timeout=30)
    return results


def serve(rt: Runtime) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    """``tdcflow serve`` on the benchmark's database (its scheduler on, as in production) and a
    keep-alive client of it, once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = rt.settings
    env = {
        **os.environ,
        "TDCFLOW_DATABASE_URL": settings.database_url,
        "TDCFLOW_DATA_DIR": str(settings.data_dir),
        "TDCFLOW_SECRET_KEY": settings.secret_key or "",
        "TDCFLOW_BASE_URL": f"http://127.0.0.1:{port}",
        "TDCFLOW_ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "TDCFLOW_ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
    }
    tdcflow = Path(sys.executable).parent / "tdcflow"
    server = subprocess.Popen(
        [str(tdcflow), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(server.terminate)  # also when the benchmark is stopped (SIGTERM: see main)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    for _ in range(600):
        try:
            if client.get("/login").status_code == 200:
                return server, client
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            sys.exit("tdcflow serve stopped")
        time.sleep(0.2)
    sys.exit("tdcflow serve did not answer")


def _ok(response: Any) -> None:
    assert response.status_code == 200, (response.status_code, response.text[:300])


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident set now (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in --data")
    parser.add_argument(
        "--data", default=None, help="folder of the SQLite file and stored files (default: temporary)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database already in --data / at the URL"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # atexit runs: the server stops too
    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory()
        args.data = tmp.name
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{data}/scale.sqlite3"
    os.environ["TDCFLOW_DATABASE_URL"] = url
    if not args.reuse:
        migrate(url)
        child = multiprocessing.get_context("spawn").Process(
            target=generate, args=(url, str(data), args.dossiers)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            sys.exit("generation failed")
    else:
        migrate(url)
    if url.startswith("postgresql"):
        settle(url)
    rt = build_runtime(settings_for(data, url), create_tables=False)
    with reading(rt.engine) as session:
        counted = session.exec(
            text(
                "SELECT (SELECT count(*) FROM dossier), (SELECT count(*) FROM work_task), (SELECT count(*) FROM work_task WHERE status = 'open')"
            )
        ).one()  # type: ignore[call-overload]
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite (file)"
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    print(
        f"{kind}: {counted[0]:,} dossiers, {counted[1]:,} tasks ({counted[2]:,} open); "
        f"{args.rounds} rounds x {args.samples} samples: p50 / p95 median [range over rounds]",
        flush=True,
    )
    measure(rt, args.rounds, args.samples)
    print(f"  benchmark process (queries above) RSS: {rss_mb():.0f} MB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    rt.engine.dispose()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
