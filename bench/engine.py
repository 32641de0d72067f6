"""Engine benchmark: N declarations from submission to the issued notice through the command layer.

    .venv/bin/python bench/engine.py [--dossiers 200] [--rounds 5] [--database-url URL] [--processes N]

Each round starts from an empty database (a fresh SQLite file unless --database-url is given) and
runs, per dossier: submit → clerk receives → specialist examines → leader approves. The commands
issue the receipt, the notice and the process control slip; their .docx files are rendered after
the commands, as the signing worker renders them, and timed apart ("documents", one process). Attachments
are uploaded before the clock starts. Each round of the product is followed by a round of
bench/baseline.py (SpiffWorkflow and SQLite alone, the same model and commands). Prints, as the
median over rounds with the range: commands per second, p50/p99 latency per command (all, and per
command kind), the ratio of the baseline's commands/s to the product's, and the serialized
instance size of a finished dossier. ``--processes N``: N processes at once on one database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import baseline
from tests.conftest import make_settings
from workflows import accounts, commands, submission
from workflows.db import drop_schema, reading
from workflows.demo import DEMO_PDF
from workflows.document_rendering import render_due
from workflows.models import Dossier, ProcessInstance, User, WorkTask
from workflows.runtime import Runtime, build_runtime

PROCEDURE = "cong-bo-hop-chuan-hop-quy"


percentile = baseline.percentile


def setup_people(rt: Runtime, suffix: str = "") -> dict[str, User]:
    firm = accounts.register_business(
        rt,
        None,
        email=f"bench{suffix}@firm.vn",
        password="bench-password",
        full_name="Bench",
        tax_code="0100109106",
        organisation_name="Công ty Bench",
    )
    people = {"business": firm}
    for role, title in (("clerk", ""), ("specialist", ""), ("leader", "PHÓ GIÁM ĐỐC")):
        people[role] = accounts.create_officer(
            rt,
            None,
            email=f"{role}{suffix}@bench.vn",
            password="bench-password",
            full_name=f"Bench {role}",
            roles=[role],
            job_title=title,
        )
    return people


def open_task(rt: Runtime, code: str) -> str:
    with reading(rt.engine) as session:
        return session.exec(
            select(WorkTask.id)
            .join(Dossier, Dossier.id == WorkTask.dossier_id)
            .where(Dossier.code == code, WorkTask.status == "open")
        ).one()


STEPS = baseline.STEPS


def prepare(rt: Runtime, dossiers: int, suffix: str = "") -> tuple[dict[str, User], list[dict]]:
    """The people and the declarations' start forms, their attachments uploaded (not timed)."""
    people = setup_people(rt, suffix)
    firm = people["business"]
    payloads = []
    for n in range(dossiers):
        ids = {
            field: commands.upload_attachment(rt, firm, f"{field}.pdf", DEMO_PDF).id
            for field in ("declaration_form", "business_registration", "certificate_copy")
        }
        payloads.append(baseline.declaration(n, firm.tax_code, ids))
    return people, payloads


def drive(rt: Runtime, people: dict[str, User], payloads: list[dict]) -> dict[str, list[float]]:
    """Each declaration from submission to the issued notice; the latency of every command."""
    latencies: dict[str, list[float]] = defaultdict(list)
    for data in payloads:
        t0 = time.perf_counter()
        dossier, _ = submission.submit_dossier(rt, people["business"], PROCEDURE, data)
        latencies["submit"].append(time.perf_counter() - t0)
        for role, step_data in STEPS:
            task_id = open_task(rt, dossier.code)  # the inbox read a person would make
            t0 = time.perf_counter()
            commands.complete_task(rt, people[role], task_id, step_data)
            latencies[f"complete:{role}"].append(time.perf_counter() - t0)
    return latencies


def summary(latencies: dict[str, list[float]], commands_per_s: float, state_bytes: float) -> dict:
    every = [v for values in latencies.values() for v in values]
    return {
        "commands_per_s": commands_per_s,
        "p50_ms": percentile(every, 0.50) * 1000,
        "p99_ms": percentile(every, 0.99) * 1000,
        "by_kind": {k: (percentile(v, 0.5) * 1000, percentile(v, 0.99) * 1000) for k, v in latencies.items()},
        "state_bytes": state_bytes,
    }


def _state_sizes(rt: Runtime) -> float:
    with reading(rt.engine) as session:
        return statistics.median(len(s) for s in session.exec(select(ProcessInstance.state)).all())


def run_round(database_url: str | None, dossiers: int) -> dict:
    """One process on a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        rt = build_runtime(make_settings(Path(tmp), url))
        try:
            people, payloads = prepare(rt, dossiers)
            latencies = drive(rt, people, payloads)
            every = [v for values in latencies.values() for v in values]
            # Throughput of the commands themselves: the harness's inbox reads between them are not counted.
            result = summary(latencies, len(every) / sum(every), _state_sizes(rt))
            # The documents the commands issued, rendered afterwards as the worker renders them.
            t0 = time.perf_counter()
            documents = render_due(rt, max_items=10 * dossiers)
            result["render_ms_each"] = (time.perf_counter() - t0) * 1000 / max(documents, 1)
            result["documents"] = documents
            return result
        finally:
            if database_url:
                drop_schema(rt.engine)
            rt.engine.dispose()


def _worker(tmp: str, url: str, dossiers: int, suffix: str, ready: Any, go: Any, results: Any) -> None:
    rt = build_runtime(make_settings(Path(tmp), url))
    try:
        people, payloads = prepare(rt, dossiers, suffix)
        ready.put(suffix)
        go.wait()
        started = time.perf_counter()
        latencies = drive(rt, people, payloads)
        results.put((dict(latencies), started, time.perf_counter()))
    finally:
        rt.engine.dispose()


def run_parallel(database_url: str | None, dossiers: int, processes: int) -> dict:
    """``processes`` processes on one fresh database, each driving ``dossiers`` declarations of
    its own business and officers at once: commands/s is every command over the wall time from
    the first start to the last end (the harness's inbox reads included)."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        rt = build_runtime(make_settings(Path(tmp), url))  # the schema, before the workers start
        try:
            ready, results, go = context.Queue(), context.Queue(), context.Event()
            workers = [
                context.Process(target=_worker, args=(tmp, url, dossiers, f"-p{i}", ready, go, results))
                for i in range(processes)
            ]
            for worker in workers:
                worker.start()
            for _ in workers:
                ready.get()
            go.set()
            outcomes = [results.get() for _ in workers]
            for worker in workers:
                worker.join()
            latencies: dict[str, list[float]] = defaultdict(list)
            for by_kind, _, _ in outcomes:
                for kind, values in by_kind.items():
                    latencies[kind].extend(values)
            wall = max(end for _, _, end in outcomes) - min(start for _, start, _ in outcomes)
            count = sum(len(v) for v in latencies.values())
            return summary(latencies, count / wall, _state_sizes(rt))
        finally:
            if database_url:
                drop_schema(rt.engine)
            rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per round")
    parser.add_argument(
        "--processes", type=int, default=1, help="processes driving dossiers at once (each --dossiers)"
    )
    args = parser.parse_args()
    # The product's rounds and the baseline's alternate, so that both see the same machine.
    rounds, floors = [], []
    for _ in range(args.rounds):
        if args.processes > 1:
            rounds.append(run_parallel(args.database_url, args.dossiers, args.processes))
        else:
            rounds.append(run_round(args.database_url, args.dossiers))
        floors.append(baseline.run_round(args.dossiers))
    med = statistics.median

    def spread(values: list[float]) -> str:
        return f"{med(values):8.1f}  ({min(values):.1f}–{max(values):.1f})"

    print(
        f"database: {args.database_url or 'sqlite (file)'}; {args.processes} process(es) x "
        f"{args.dossiers} dossiers x 4 commands (the baseline: one process), "
        f"{args.rounds} rounds (medians over rounds, range in brackets)"
    )
    print(f"{'':18}{'tdcflow':>26}{'baseline':>26}")
    for key, label in (
        ("commands_per_s", "commands/s"),
        ("p50_ms", "latency p50 (ms)"),
        ("p99_ms", "latency p99 (ms)"),
    ):
        ours = [r[key] for r in rounds]
        floor = [r[key] for r in floors]
        print(f"{label:18}{spread(ours):>26}{spread(floor):>26}")
    ratio = med(f["commands_per_s"] for f in floors) / med(r["commands_per_s"] for r in rounds)
    print(f"ratio             {ratio:8.2f}  baseline commands/s over tdcflow's (target <= 2.0)")
    print(
        f"instance (bytes)  {med(r['state_bytes'] for r in rounds):8.0f}   serialized state of a finished dossier"
        f" (baseline {med(f['state_bytes'] for f in floors):.0f})"
    )
    if "documents" in rounds[0]:
        print(
            f"documents         {med(r['render_ms_each'] for r in rounds):8.1f} ms each, rendered after the "
            f"commands by the worker ({rounds[0]['documents']} per round: receipt, notice, control slip)"
        )
    for kind in rounds[0]["by_kind"]:
        p50 = med(r["by_kind"][kind][0] for r in rounds)
        p99 = med(r["by_kind"][kind][1] for r in rounds)
        b50 = med(f["by_kind"][kind][0] for f in floors)
        b99 = med(f["by_kind"][kind][1] for f in floors)
        print(f"  {kind:20} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   (baseline {b50:.2f} / {b99:.2f})")


if __name__ == "__main__":
    main()
