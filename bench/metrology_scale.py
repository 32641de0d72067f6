"""The metrology database at scale (issue 18): 100,000 instruments, 500,000 verification records.

    .venv/bin/python bench/metrology_scale.py [--instruments 100000] [--records-each 5]
                                              [--database-url URL] [--rounds 3] [--samples 50]
                                              [--days 5] [--import-runs 2] [--import-rows 10000]
                                              [--parts pages,unverified,sweeps,import]
                                              [--never-verified 10000]

A fresh database (a SQLite file, or ``--database-url``'s PostgreSQL, dropped afterwards) gets a
handful of real accounts through the API (an administrator, a clerk, ten businesses whose tax
codes the clerk verified, a verification body and its key), then in bulk (SQLite: executemany;
PostgreSQL: COPY; not the command path) ``--instruments`` instruments with ``--records-each``
yearly verifications each (the latest one current, 2 % of those failed, their ends spread from
two months past to a year ahead), the reminders and warnings the sweeps of the days before wrote
(some warnings handled or closed), one business owning a tenth of the instruments.

Measured, in ``--rounds`` rounds of ``--samples`` calls, as p50/p95 (median over rounds and
range): the owner page of the business with the most instruments (``GET
/api/metrology/my-instruments`` and the HTML page ``/my/instruments``), the officers' search
(``/work/instruments``: no words, a word many instruments hold, one serial number), the stamp lookup
(``registry.lookup_stamp`` and ``GET /api/public/stamps/{number}``), over a TestClient (the app
in process, real HTTP semantics without a socket). Then the daily sweep (``alerts.sweep``) on
``--days`` new days in a row, and again on each the same day; two sweeps at once in two processes
on the next day, counting the reminders, warnings, outbox events and audit events written against
what one sweep should write; and the bulk import (``bulk.report_rows`` on a CSV file) of
``--import-rows`` new rows, ``--import-runs`` times, then the first file again (every row
``unchanged``). Targets: owner page p95 < 50 ms, stamp lookup p95 < 10 ms, sweep < 1 s, import of
10,000 rows < 30 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlmodel import func, select

from api.main import create_app
from bench.metrology_import import csv_file
from tests.conftest import make_settings
from tests.support import business, local, officer
from tests.test_metrology import body_key
from tests.test_permissions import page_login
from workflows.clock import now
from workflows.db import drop_schema, reading
from workflows.folding import search_key
from workflows.metrology import alerts, bodies, bulk, registry, reports
from workflows.metrology.kinds import BY_CODE
from workflows.metrology.models import ExpiryReminder, Instrument, ViolationWarning
from workflows.models import AuditEvent
from workflows.outbox import OutboxEvent
from workflows.runtime import Runtime, build_runtime

# A Monday: the first new day the sweep meets.
TODAY = date(2026, 6, 1)
BATCH = 20_000
EVIDENCE = "Đã đối chiếu Giấy chứng nhận đăng ký doanh nghiệp bản gốc tại bộ phận một cửa."


def _ms(seconds: float) -> float:
    return seconds * 1000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _rounds(label: str, rounds: int, samples: int, call: Callable[[int], Any], unit: str = "ms") -> None:
    """Print p50 and p95 of ``call`` as the median over rounds and the range."""
    p50s, p95s = [], []
    call(0)  # warm: the first call builds what later ones reuse
    for r in range(rounds):
        times = []
        for n in range(samples):
            t0 = time.perf_counter()
            call(r * samples + n)
            times.append(_ms(time.perf_counter() - t0))
        p50s.append(_p(times, 0.5))
        p95s.append(_p(times, 0.95))
    print(
        f"{label:<44} p50 {statistics.median(p50s):7.1f} {unit} [{min(p50s):.1f}–{max(p50s):.1f}]"
        f"   p95 {statistics.median(p95s):7.1f} {unit} [{min(p95s):.1f}–{max(p95s):.1f}]",
        flush=True,
    )


def _seconds(label: str, values: list[float]) -> None:
    print(
        f"{label:<44} median {statistics.median(values):7.3f} s [{min(values):.3f}–{max(values):.3f}]"
        f" over {len(values)}",
        flush=True,
    )


# --- the accounts, through the API ----------------------------------------------------------------


def people(client: TestClient, rt: Runtime) -> dict[str, Any]:
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    specialist = officer(client, rt, "specialist")
    firms = []
    for n in range(10):
        firm = business(client, f"Công ty TNHH Đo lường {n}")
        me = firm.get("/api/me").json()
        verified = clerk.post(f"/api/accounts/{me['id']}/tax-code/verify", json={"evidence": EVIDENCE})
        assert verified.status_code == 200, verified.text
        firms.append(firm)
    key = body_key(client, admin, "BENCH-QT", "Trung tâm Kỹ thuật Bench")
    body = bodies.body_of_key(rt, key)
    assert body is not None
    return {"admin": admin, "specialist": specialist, "firms": firms, "key": key, "body": body}


# --- the bulk fill -----------------------------------------------------------------------------------

INSTRUMENT_COLUMNS = (
    "id",
    "kind",
    "model",
    "approval_mark",
    "serial_number",
    "measuring_range",
    "accuracy_class",
    "owner_type",
    "owner_tax_code",
    "owner_name",
    "commune",
    "address",
    "purpose",
    "registered_at",
    "current_verification_id",
    "current_verified_on",
    "current_result",
    "current_valid_until",
    "search_text",
)
RECORD_COLUMNS = (
    "id",
    "instrument_id",
    "body_id",
    "certificate_number",
    "stamp_number",
    "stamp_token",
    "verified_on",
    "result",
    "valid_until",
    "reported_at",
    "api_key_id",
    "content",
)
WARNING_COLUMNS = (
    "id",
    "instrument_id",
    "cause",
    "verification_id",
    "since",
    "state",
    "version",
    "note",
    "closed_reason",
    "opened_at",
    "updated_at",
    "updated_by_id",
)
REMINDER_COLUMNS = ("verification_id", "instrument_id", "valid_until", "sent_at")


class Writer:
    """Rows into a table, in batches: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        if self.sqlite:
            import sqlite3

            self.connection: Any = sqlite3.connect(parsed.database, isolation_level=None)
            self.connection.execute("PRAGMA synchronous=OFF")
        else:
            import psycopg

            self.connection = psycopg.connect(
                parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            )

    def instant(self, value: datetime) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            rows = [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
            self.connection.execute("BEGIN")
            self.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            self.connection.execute("COMMIT")
        else:
            with (
                self.connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            self.connection.commit()

    def finish(self) -> None:
        """Statistics for the planner and (PostgreSQL) the visibility map, as a database in use has
        them from autovacuum: an index-only scan reads the table for rows not yet vacuumed."""
        if self.sqlite:
            self.connection.execute("ANALYZE")
        else:
            self.connection.autocommit = True
            self.connection.execute("VACUUM ANALYZE")
        self.connection.close()


def fill(rt: Runtime, url: str, cast: dict[str, Any], instruments: int, each: int) -> dict[str, Any]:
    """The instruments, their records, and what the sweeps before ``TODAY`` wrote; the stamps."""
    rng = random.Random(18)
    writer = Writer(url)
    kinds = sorted(BY_CODE)
    tax_codes = [firm.tax_code for firm in cast["firms"]]
    body = cast["body"]
    day_before = TODAY - timedelta(days=1)
    horizon = alerts.reminder_horizon(rt.calendar, day_before, rt.settings.metrology_reminder_working_days)
    reported = writer.instant(now())
    instrument_rows: list[tuple[Any, ...]] = []
    record_rows: list[tuple[Any, ...]] = []
    warning_rows: list[tuple[Any, ...]] = []
    reminder_rows: list[tuple[Any, ...]] = []
    stamps: list[str] = []
    record_id = warning_id = 0

    def flush(final: bool = False) -> None:
        if final or len(record_rows) >= BATCH:
            writer.write("metrology_instrument", INSTRUMENT_COLUMNS, instrument_rows)
            writer.write("metrology_verification", RECORD_COLUMNS, record_rows)
            writer.write("metrology_warning", WARNING_COLUMNS, warning_rows)
            writer.write("metrology_reminder", REMINDER_COLUMNS, reminder_rows)
            for rows in (instrument_rows, record_rows, warning_rows, reminder_rows):
                rows.clear()

    for i in range(1, instruments + 1):
        kind = kinds[i % len(kinds)]
        if i % 10 == 0:
            owner_type, tax_code, name = "business", tax_codes[0], "Công ty TNHH Đo lường 0"
        elif i % 10 < 4:
            firm = 1 + i % 9
            owner_type, tax_code, name = "business", tax_codes[firm], f"Công ty TNHH Đo lường {firm}"
        elif i % 10 < 8:
            owner_type, tax_code, name = "business", f"32{i:08d}", f"Công ty khác {i}"
        else:
            owner_type, tax_code, name = "household", None, f"Hộ kinh doanh {i}"
        # The latest verification: its end from 60 days past to a year ahead; yearly before it.
        last_end = TODAY + timedelta(days=rng.randint(-60, 365))
        first_id = record_id + 1
        current: tuple[int, date, str, date | None] | None = None
        for k in range(each):
            record_id += 1
            verified_on = last_end - timedelta(days=365 * (each - k))
            latest = k == each - 1
            result = "fail" if latest and rng.random() < 0.02 else "pass"
            valid_until = verified_on + timedelta(days=365) if result == "pass" else None
            stamp = f"TEM-{i:06d}-{k}"
            content = {
                "certificate_number": f"GCN-{i:06d}-{k}",
                "stamp_number": stamp,
                "body": body.body_code,
            }
            record_rows.append(
                (
                    record_id,
                    i,
                    body.body_id,
                    f"GCN-{i:06d}-{k}",
                    stamp,
                    secrets.token_urlsafe(18),
                    verified_on,
                    result,
                    valid_until,
                    reported,
                    body.key_id,
                    json.dumps(content),
                )
            )
            if k == each - 1:
                current = (record_id, verified_on, result, valid_until)
            if rng.random() < 0.01:
                stamps.append(stamp)
        assert current is not None
        instrument_rows.append(
            (
                i,
                kind,
                f"M-{i % 300}",
                "PDM 1-2024",
                f"SN-{i:07d}",
                "0-150 kg",
                "III",
                owner_type,
                tax_code,
                name,
                f"Phường {i % 145}",
                f"{i % 300} Lê Duẩn",
                "Mua bán",
                reported,
                current[0],
                current[1],
                current[2],
                current[3],
                # What the model's write hook folds (workflows.metrology.models.SEARCHED), in order.
                search_key(
                    f"SN-{i:07d} M-{i % 300} PDM 1-2024 {name} {tax_code or ''} Phường {i % 145} {i % 300} Lê Duẩn"
                ),
            )
        )
        # The sweeps before TODAY: a warning for the latest one if it was overdue or failed by then
        # (a few handled); a closed overdue warning on an older record for one in ten; reminders.
        opened = writer.instant(datetime(2026, 5, 31, 1, 25))
        if current[2] == "fail" or (current[3] is not None and current[3] < day_before):
            warning_id += 1
            cause = "failed" if current[2] == "fail" else "overdue"
            since = current[1] if cause == "failed" else current[3] + timedelta(days=1)  # type: ignore[operator]
            state = ("open", "open", "inspection_planned", "owner_contacted")[i % 4]
            warning_rows.append(
                (warning_id, i, cause, current[0], since, state, 1, "", "", opened, opened, None)
            )
        if i % 10 == 1 and each > 1:
            warning_id += 1
            warning_rows.append(
                (
                    warning_id,
                    i,
                    "overdue",
                    first_id,
                    TODAY - timedelta(days=400),
                    "closed",
                    2,
                    "",
                    alerts.SETTLED_REASON,
                    opened,
                    opened,
                    None,
                )
            )
        if (
            current[2] == "pass"
            and tax_code in tax_codes
            and current[3] is not None
            and day_before <= current[3] <= horizon
        ):
            reminder_rows.append((current[0], i, current[3], opened))
        flush()
    flush(final=True)
    if not writer.sqlite:  # the ids were given: the sequences go on after them
        for table in ("metrology_instrument", "metrology_verification", "metrology_warning"):
            writer.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        writer.connection.commit()
    writer.finish()
    return {"stamps": stamps, "owner": cast["firms"][0]}


# --- the sweeps -------------------------------------------------------------------------------------


def _written(rt: Runtime, since: datetime) -> dict[str, int]:
    with reading(rt.engine) as session:
        events = dict(
            session.exec(
                select(OutboxEvent.type, func.count())
                .where(OutboxEvent.created_at >= since)
                .group_by(OutboxEvent.type)
            ).all()
        )
        return {
            "reminders": session.exec(
                select(func.count()).select_from(ExpiryReminder).where(ExpiryReminder.sent_at >= since)
            ).one(),
            "warnings": session.exec(
                select(func.count()).select_from(ViolationWarning).where(ViolationWarning.opened_at >= since)
            ).one(),
            "reminder events": events.get(alerts.REMINDER_EVENT, 0),
            "warning events": events.get(alerts.WARNING_EVENT, 0),
            "audit warning_opened": session.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "warning_opened", AuditEvent.at >= since)
            ).one(),
        }


def _sweep_in_child(url: str, data: str, day: date, start: Any, out: Any) -> None:
    rt = build_runtime(make_settings(Path(data), url))
    try:
        start.wait()
        report = alerts.sweep(rt, day)
        out.put((report.reminded, report.opened, report.settled))
    finally:
        rt.engine.dispose()


def sweeps(rt: Runtime, url: str, data: str, days: int) -> None:
    new_day, same_day, counts = [], [], []
    day = TODAY
    for _ in range(days):
        t0 = time.perf_counter()
        report = alerts.sweep(rt, day)
        new_day.append(time.perf_counter() - t0)
        counts.append(report)
        t0 = time.perf_counter()
        again = alerts.sweep(rt, day)
        same_day.append(time.perf_counter() - t0)
        assert (again.reminded, again.opened, again.settled) == (0, 0, 0), again
        day += timedelta(days=1)
    day = TODAY + timedelta(days=7)  # a Monday again: the weekend's overdue ones too
    _seconds("sweep, a new day", new_day)
    print(
        "    written per new day (reminded/opened/settled): "
        + ", ".join(f"{r.reminded}/{r.opened}/{r.settled}" for r in counts)
    )
    _seconds("sweep, the same day again", same_day)
    # Two processes at once on the next day: what one sweep would write, once.
    expected_due = alerts.counts(rt, day)
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(2), context.Queue()
    since = now()
    children = [context.Process(target=_sweep_in_child, args=(url, data, day, start, out)) for _ in range(2)]
    for child in children:
        child.start()
    reports_ = [out.get(timeout=600) for _ in children]
    for child in children:
        child.join()
    written = _written(rt, since)
    print(f"    two sweeps at once on {day:%d/%m/%Y}: each reported (reminded, opened, settled) {reports_}")
    print(f"    written: {written} (day's figures before: {expected_due})")
    assert written["reminders"] == written["reminder events"] == sum(r[0] for r in reports_)
    assert written["warnings"] == written["warning events"] == written["audit warning_opened"]
    assert written["warnings"] == sum(r[1] for r in reports_)


def never_verified(rt: Runtime, url: str, count: int) -> None:
    """``count`` instruments registered together (a bulk registration) 60 days before and never
    verified: the first sweep after opens an ``unverified`` warning for each, the next none."""
    writer = Writer(url)
    registered = writer.instant(datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    with reading(rt.engine) as session:
        first = (session.exec(select(func.max(Instrument.id))).one() or 0) + 1
    rows = [
        (first + n, "taximeter", "TX-NV", "", f"NV-{n:07d}", "", "", "business", None, "Công ty Chưa Kiểm",
         "Phường Đông Hà", "", "", registered, None, None, None, None, f"nv-{n:07d} tx-nv")
        for n in range(count)
    ]  # fmt: skip
    writer.write("metrology_instrument", INSTRUMENT_COLUMNS, rows)
    writer.finish()
    writer.connection.close()
    t0 = time.perf_counter()
    report = alerts.sweep(rt, TODAY)
    first_sweep = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = alerts.sweep(rt, TODAY)
    _seconds(f"first sweep after {count} never-verified instruments", [first_sweep])
    _seconds("the same sweep again", [time.perf_counter() - t0])
    print(f"    opened: {report.opened} (then {again.opened})", flush=True)
    assert report.opened >= count and again.opened == 0


# --- the run ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/metrology.sqlite3"
        os.environ.setdefault("TDCFLOW_BENCH", "1")
        with time_machine.travel(local(2026, 5, 31, 9, 0), tick=True):
            # The lookups are the measure here, all from one client: the per-address throttle (60 a
            # minute by default) would answer most of them 429.
            rt = build_runtime(make_settings(Path(tmp), url, stamp_lookups_per_minute=1_000_000))
        try:
            print(f"database: {rt.engine.dialect.name}; load before: {os.getloadavg()[0]:.2f}", flush=True)
            with time_machine.travel(local(2026, 5, 31, 9, 0), tick=True):
                client = TestClient(create_app(rt))
                client.__enter__()
                cast = people(client, rt)
                t0 = time.perf_counter()
                filled = fill(rt, url, cast, args.instruments, args.records_each)
                print(
                    f"filled {args.instruments} instruments, {args.instruments * args.records_each}"
                    f" records in {time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
            with time_machine.travel(local(2026, 6, 1, 9, 0), tick=True):
                owner = filled["owner"].relogin()
                stamps = filled["stamps"]
                total = owner.get("/api/metrology/my-instruments").json()["total"]
                print(f"the owner's instruments: {total}; stamps asked: {len(stamps)}", flush=True)

                def api_page(n: int) -> None:
                    response = owner.get("/api/metrology/my-instruments", params={"offset": (n % 5) * 50})
                    assert response.status_code == 200, response.text

                pages = TestClient(create_app(rt))
                page_login(pages, owner.email)  # the pages know a session cookie, not a bearer token

                def html_page(n: int) -> None:
                    response = pages.get(
                        "/my/instruments", params={"page": 1 + n % 5}, follow_redirects=False
                    )
                    assert response.status_code == 200 and "SN-" in response.text, response.text[:300]

                def stamp_function(n: int) -> None:
                    registry.lookup_stamp(rt, stamps[n % len(stamps)])

                def stamp_http(n: int) -> None:
                    response = client.get(f"/api/public/stamps/{stamps[(n * 7) % len(stamps)]}")
                    assert response.status_code == 200, response.text

                _rounds("owner page, API (my-instruments)", args.rounds, args.samples, api_page)
                _rounds("owner page, HTML (/my/instruments)", args.rounds, args.samples, html_page)
                staff = TestClient(create_app(rt))
                page_login(staff, cast["specialist"].email)

                def search(q: str) -> Callable[[int], None]:
                    def call(n: int) -> None:
                        response = staff.get("/work/instruments", params={"q": q, "page": 1 + n % 3})
                        assert response.status_code == 200 and "SN-" in response.text, response.text[:300]

                    return call

                _rounds("officer search, no words (/work/instruments)", args.rounds, args.samples, search(""))
                _rounds(
                    "officer search, a common word ('phuong 7')",
                    args.rounds,
                    args.samples,
                    search("phuong 7"),
                )
                _rounds("officer search, one serial number", args.rounds, args.samples, search("SN-0054321"))
                _rounds("stamp lookup, function", args.rounds, args.samples, stamp_function)
                _rounds("stamp lookup, HTTP", args.rounds, args.samples, stamp_http)
                client.__exit__(None, None, None)
            if "unverified" in args.parts:
                with time_machine.travel(local(2026, 6, 1, 1, 25), tick=True):
                    never_verified(rt, url, args.never_verified)
            if "sweeps" in args.parts:
                with time_machine.travel(local(2026, 6, 1, 1, 25), tick=True):
                    sweeps(rt, url, tmp, args.days)
            if "import" not in args.parts:
                return
            with time_machine.travel(local(2026, 6, 8, 9, 0), tick=True):
                body = cast["body"]
                fresh = []
                first = csv_file(0, args.import_rows)
                for n in range(args.import_runs):
                    content = first if n == 0 else csv_file(n, args.import_rows)
                    t0 = time.perf_counter()
                    outcomes = bulk.report_rows(rt, body, reports.read_file("a.csv", content))
                    fresh.append(time.perf_counter() - t0)
                    assert all(o.outcome == reports.CREATED for o in outcomes), outcomes[:3]
                _seconds(f"import of {args.import_rows} new rows", fresh)
                t0 = time.perf_counter()
                outcomes = bulk.report_rows(rt, body, reports.read_file("a.csv", first))
                _seconds(f"the same {args.import_rows} rows again", [time.perf_counter() - t0])
                assert all(o.outcome == reports.UNCHANGED for o in outcomes)
            print(f"load after: {os.getloadavg()[0]:.2f}", flush=True)
        finally:
            if args.database_url and not args.keep:
                drop_schema(rt.engine)
            rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--records-each", type=int, default=5)
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--import-runs", type=int, default=2)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument(
        "--parts",
        default="pages,sweeps,import",
        help="which measures after the pages: unverified, sweeps, import (comma list)",
    )
    parser.add_argument(
        "--never-verified", type=int, default=10_000, help="instruments for the 'unverified' part"
    )
    parser.add_argument("--keep", action="store_true", help="keep --database-url's tables (to study plans)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
