"""HTTP benchmark: a real ``tdcflow serve`` and keep-alive clients working declarations through the JSON API.

    .venv/bin/python bench/over_http.py [--clients 1 4] [--dossiers 20] [--rounds 3] [--workers N]
                                   [--database-url URL]

Each round starts a fresh data folder (a fresh SQLite file unless --database-url is given), creates
the accounts with the commands (no demo data), starts ``tdcflow serve`` in a subprocess and logs
every account in through ``/api/auth/token``. Then each client (one thread with its own keep-alive
connection and its own business and officers) works ``--dossiers`` declarations one after the
other, as the API is used: the business submits (its three attachments were uploaded before the
clock started), then for the clerk (receive), the specialist (examine) and the leader (approve):
read the inbox, claim the dossier's task, complete it.

Prints, as the median over rounds (with the range): commands per second (submit, claim and complete
requests over the wall time of the round; the inbox reads are requests but not commands), p50/p99
per request kind, and the server's CPU time per dossier (every process of the server: user +
system, the workers included).
"""

# ruff: noqa: E402  (the path is set before the imports it is for)
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse
import os
import shlex
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2 as httpx

from bench.baseline import declaration
from bench.engine import PROCEDURE
from tests.support import valid_tax_code
from workflows.demo import DEMO_PDF

PASSWORD = "bench-password-1"
ATTACHMENTS = ("declaration_form", "business_registration", "certificate_copy")
STEPS = (
    ("clerk", {"completeness_decision": "receive"}),
    ("specialist", {"examination_findings": "Đạt.", "examination_conclusion": "accept"}),
    ("leader", {"approval_decision": "approve"}),
)
COMMAND_KINDS = ("submit", "claim", "complete")
MAX_CLIENTS = 16


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, url: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TDCFLOW_")}
    env.update(
        TDCFLOW_DATABASE_URL=url,
        TDCFLOW_DATA_DIR=str(data_dir),
        TDCFLOW_SECRET_KEY="bench-secret-key-not-for-production-0123456789",
        TDCFLOW_LOG_LEVEL="WARNING",
        TDCFLOW_BASE_URL="http://127.0.0.1",
        PYTHONPATH=str(ROOT),  # this checkout's code, whichever checkout the virtualenv installed
        **extra,
    )
    return env


def signing_env(env: dict[str, str], where: Path) -> dict[str, str]:
    """The signing settings of a demo PKI (the scheduler signs every issued document, as in production)."""
    made = subprocess.run(
        [str(Path(sys.executable).parent / "tdcflow"), "signing", "demo-pki", str(where)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    out = {}
    for line in made.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        out[name] = shlex.split(value)[0] if value else ""
    return out


def create_accounts(env: dict[str, str], clients: int) -> None:
    """The accounts, made with the commands in a child process (the server's settings, no demo data)."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from migrations import upgrade_on_start
from workflows.config import get_settings
from workflows.runtime import build_runtime
from workflows import accounts
settings = get_settings()
upgrade_on_start(settings.database_url)
rt = build_runtime(settings, create_tables=False)
from tests.support import valid_tax_code
for i in range({clients}):
    accounts.register_business(rt, None, email=f"firm{{i}}@bench.vn", password={PASSWORD!r},
        full_name=f"Bench {{i}}", tax_code=valid_tax_code(i), organisation_name=f"Công ty Bench {{i}}")
    for role, title in (("clerk", ""), ("specialist", ""), ("leader", "PHÓ GIÁM ĐỐC")):
        accounts.create_officer(rt, None, email=f"{{role}}{{i}}@bench.vn", password={PASSWORD!r},
            full_name=f"Bench {{role}} {{i}}", roles=[role], job_title=title)
rt.engine.dispose()
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)


@contextmanager
def served(env: dict[str, str], port: int, workers: int | None, log: Path) -> Iterator[subprocess.Popen]:
    command = [str(Path(sys.executable).parent / "tdcflow"), "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, start_new_session=True, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"tdcflow serve did not start (exit status {process.poll()}): see {log}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server's processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@dataclass
class Client:
    index: int
    base: str
    tokens: dict[str, str] = field(default_factory=dict)
    http: httpx.Client | None = None
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def open(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=60)
        for role in ("firm", *(role for role, _ in STEPS)):
            answer = self.http.post(
                "/api/auth/token", data={"username": f"{role}{self.index}@bench.vn", "password": PASSWORD}
            )
            answer.raise_for_status()
            self.tokens[role] = answer.json()["access_token"]

    def call(self, kind: str, role: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        assert self.http is not None
        t0 = time.perf_counter()
        answer = self.http.request(
            method, path, headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs
        )
        self.latencies[kind].append(time.perf_counter() - t0)
        if answer.status_code >= 400:
            self.errors.append(f"{kind}: {answer.status_code} {answer.text[:200]}")
            answer.raise_for_status()
        return answer

    def payloads(self, count: int) -> list[dict]:
        """The declarations, with their attachments uploaded now (outside the timing)."""
        assert self.http is not None
        firm = type("Firm", (), {"tax_code": valid_tax_code(self.index)})()
        out = []
        for n in range(count):
            ids = {}
            for name in ATTACHMENTS:
                answer = self.http.post(
                    "/api/attachments",
                    headers={"Authorization": f"Bearer {self.tokens['firm']}"},
                    files={"file": (f"{name}.pdf", DEMO_PDF, "application/pdf")},
                )
                answer.raise_for_status()
                ids[name] = answer.json()["id"]
            data = declaration(n, firm.tax_code, ids)
            data["applicant"]["name"] = data["product"]["manufacturer"] = f"Công ty Bench {self.index}"
            out.append(data)
        self.latencies.clear()
        return out

    def work(self, payloads: list[dict]) -> None:
        try:
            for data in payloads:
                dossier = self.call(
                    "submit", "firm", "POST", "/api/dossiers", json={"procedure": PROCEDURE, "data": data}
                ).json()
                code = dossier["code"]
                for role, step_data in STEPS:
                    inbox = self.call("inbox", role, "GET", "/api/tasks").json()
                    task_id = next(item["id"] for item in inbox["items"] if item["dossier_code"] == code)
                    self.call("claim", role, "POST", f"/api/tasks/{task_id}/claim")
                    self.call(
                        f"complete:{role}",
                        role,
                        "POST",
                        f"/api/tasks/{task_id}/complete",
                        json={"data": step_data},
                    )
        except Exception as exc:  # reported by the round
            self.errors.append(repr(exc))


def run_round(args: argparse.Namespace, clients: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        extra = {} if args.scheduler is None else {"TDCFLOW_SCHEDULER": args.scheduler}
        env = server_env(Path(tmp) / "data", url, extra)
        env.update(signing_env(env, Path(tmp) / "pki"))
        if args.database_url:
            reset_database(args.database_url)
        create_accounts(env, clients)
        port = free_port()
        with served(env, port, args.workers, args.server_log) as server:
            people = [Client(i, f"http://127.0.0.1:{port}") for i in range(clients)]
            for person in people:
                person.open()
            payloads = [person.payloads(args.dossiers) for person in people]
            threads = [
                threading.Thread(target=person.work, args=(work,))
                for person, work in zip(people, payloads, strict=True)
            ]
            cpu0 = cpu_seconds(server.pid)
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu0
            for person in people:
                person.http.close()
    errors = [e for person in people for e in person.errors]
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    latencies: dict[str, list[float]] = defaultdict(list)
    for person in people:
        for kind, values in person.latencies.items():
            latencies[kind] += values
    commands = sum(len(v) for k, v in latencies.items() if k.split(":")[0] in COMMAND_KINDS)
    requests = sum(len(v) for v in latencies.values())
    every = [v for values in latencies.values() for v in values]
    return {
        "commands_per_s": commands / elapsed,
        "requests_per_s": requests / elapsed,
        "p50_ms": percentile(every, 0.5) * 1000,
        "p99_ms": percentile(every, 0.99) * 1000,
        "cpu_ms_per_dossier": cpu * 1000 / (clients * args.dossiers),
        "by_kind": {k: (percentile(v, 0.5) * 1000, percentile(v, 0.99) * 1000) for k, v in latencies.items()},
    }


def reset_database(url: str) -> None:
    """An empty PostgreSQL database for the round (every table of the previous round dropped)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def spread(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} [{format(min(values), fmt)}–{format(max(values), fmt)}]"


def report(clients: int, rounds: list[dict]) -> None:
    print(f"\n{clients} client(s), {len(rounds)} rounds: median [min–max]")
    print(f"  commands/s         {spread([r['commands_per_s'] for r in rounds], '.1f')}")
    print(f"  requests/s         {spread([r['requests_per_s'] for r in rounds], '.1f')}")
    print(f"  p50 (ms)           {spread([r['p50_ms'] for r in rounds], '.1f')}")
    print(f"  p99 (ms)           {spread([r['p99_ms'] for r in rounds], '.1f')}")
    print(f"  server CPU/dossier {spread([r['cpu_ms_per_dossier'] for r in rounds], '.0f')} ms")
    for kind in rounds[0]["by_kind"]:
        p50 = statistics.median(r["by_kind"][kind][0] for r in rounds)
        p99 = statistics.median(r["by_kind"][kind][1] for r in rounds)
        print(f"    {kind:20} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--dossiers", type=int, default=20, help="per client and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=None, help="tdcflow serve --workers (default: its own)"
    )
    parser.add_argument(
        "--scheduler", choices=("0", "1"), default=None, help="TDCFLOW_SCHEDULER for the server"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL database for the benchmark alone: its public schema is dropped each round; default: SQLite",
    )
    parser.add_argument(
        "--server-log", type=Path, default=Path(tempfile.gettempdir()) / "tdcflow-bench-http.log"
    )
    args = parser.parse_args()
    args.server_log.unlink(missing_ok=True)
    if max(args.clients) > MAX_CLIENTS:
        parser.error(f"at most {MAX_CLIENTS} clients")
    print(
        f"database: {'PostgreSQL' if args.database_url else 'SQLite (file)'}; "
        f"workers: {args.workers or 'default'}; {args.dossiers} dossiers per client "
        f"x (submit + 3 x (inbox, claim, complete))"
    )
    for clients in args.clients:
        report(clients, [run_round(args, clients) for _ in range(args.rounds)])


if __name__ == "__main__":
    main()
