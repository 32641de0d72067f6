"""Engine benchmark: N declarations from submission to the issued notice through the command layer.

    .venv/bin/python bench/engine.py [--dossiers 200] [--rounds 5] [--database-url URL]

Each round starts from an empty database (a fresh SQLite file unless --database-url is given) and
runs, per dossier: submit → clerk receives → specialist examines → leader approves (the notice
.docx is generated and stored). Attachments are uploaded before the clock starts. Prints, as the
median over rounds: commands per second, p50/p99 latency per command (all, and per command kind),
and the serialized instance size of a finished dossier.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import baseline

from tests.conftest import make_settings
from workflows import accounts, commands
from workflows.db import drop_schema, reading
from workflows.demo import DEMO_PDF
from workflows.models import Dossier, ProcessInstance, User, WorkTask
from workflows.runtime import Runtime, build_runtime

PROCEDURE = "cong-bo-hop-chuan-hop-quy"


percentile = baseline.percentile


def setup_people(rt: Runtime) -> dict[str, User]:
    firm = accounts.register_business(
        rt,
        None,
        email="bench@firm.vn",
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
            email=f"{role}@bench.vn",
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


def run_round(database_url: str | None, dossiers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        rt = build_runtime(make_settings(Path(tmp), url))
        try:
            people = setup_people(rt)
            firm = people["business"]
            payloads = []
            for n in range(dossiers):
                ids = {
                    field: commands.upload_attachment(rt, firm, f"{field}.pdf", DEMO_PDF).id
                    for field in ("declaration_form", "business_registration", "certificate_copy")
                }
                payloads.append(baseline.declaration(n, firm.tax_code, ids))
            steps = [
                ("clerk", {"completeness_decision": "receive"}),
                ("specialist", {"examination_findings": "Đạt.", "examination_conclusion": "accept"}),
                ("leader", {"approval_decision": "approve"}),
            ]
            latencies: dict[str, list[float]] = defaultdict(list)
            started = time.perf_counter()
            for data in payloads:
                t0 = time.perf_counter()
                dossier, _ = commands.submit_dossier(rt, firm, PROCEDURE, data)
                latencies["submit"].append(time.perf_counter() - t0)
                for role, step_data in steps:
                    task_id = open_task(rt, dossier.code)  # the inbox read a person would make
                    t0 = time.perf_counter()
                    commands.complete_task(rt, people[role], task_id, step_data)
                    latencies[f"complete:{role}"].append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
            with reading(rt.engine) as session:
                sizes = [len(s) for s in session.exec(select(ProcessInstance.state)).all()]
            all_latencies = [v for values in latencies.values() for v in values]
            return {
                # Throughput of the commands themselves: the harness's inbox reads between them are not counted.
                "commands_per_s": len(all_latencies) / sum(all_latencies),
                "wall_s": elapsed,
                "p50_ms": percentile(all_latencies, 0.50) * 1000,
                "p99_ms": percentile(all_latencies, 0.99) * 1000,
                "by_kind": {
                    k: (percentile(v, 0.5) * 1000, percentile(v, 0.99) * 1000) for k, v in latencies.items()
                },
                "state_bytes": statistics.median(sizes),
            }
        finally:
            if database_url:
                drop_schema(rt.engine)
            rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per round")
    args = parser.parse_args()
    # The product's rounds and the baseline's alternate, so that both see the same machine.
    rounds, floors = [], []
    for _ in range(args.rounds):
        rounds.append(run_round(args.database_url, args.dossiers))
        floors.append(baseline.run_round(args.dossiers))
    med = statistics.median

    def spread(values: list[float]) -> str:
        return f"{med(values):8.1f}  ({min(values):.1f}–{max(values):.1f})"

    print(
        f"database: {args.database_url or 'sqlite (file)'}; {args.dossiers} dossiers x 4 commands, "
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
    for kind in rounds[0]["by_kind"]:
        p50 = med(r["by_kind"][kind][0] for r in rounds)
        p99 = med(r["by_kind"][kind][1] for r in rounds)
        b50 = med(f["by_kind"][kind][0] for f in floors)
        b99 = med(f["by_kind"][kind][1] for f in floors)
        print(f"  {kind:20} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   (baseline {b50:.2f} / {b99:.2f})")


if __name__ == "__main__":
    main()
