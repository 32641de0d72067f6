"""The scale benchmark's bulk fill (``bench/scale.py``): a fresh database migrated, a handful of
real dossiers through the commands, then ``--dossiers`` dossiers with their work tasks, process
instances, alarms, clock pauses and ratings written in bulk (SQLite: executemany; PostgreSQL: COPY)
over the four procedures, a few dozen officers and 20,000 businesses.
"""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

from bench import baseline
from bench.engine import setup_people
from tests.conftest import make_settings
from workflows import accounts, commands, submission
from workflows.clock import now
from workflows.db import reading
from workflows.demo import DEMO_PDF
from workflows.folding import search_key
from workflows.models import Dossier, dossier_search_text
from workflows.runtime import Runtime, build_runtime

PASSWORD = "bench-password"
SHARES = {  # the four procedures' share of the dossiers
    "cong-bo-hop-chuan-hop-quy": 0.70,
    "kiem-tra-chat-luong-hang-nhap-khau": 0.20,
    "hoi-dap-tbt": 0.08,
    "giai-thuong-chat-luong-quoc-gia": 0.02,
}
OFFICERS = {"clerk": 6, "specialist": 12, "leader": 3, "tbt_officer": 2}
BUSINESSES = 20_000
YEARS = 5
BATCH = 50_000

FORMS = ("Công ty TNHH", "Công ty Cổ phần", "Doanh nghiệp tư nhân", "Hợp tác xã", "Công ty TNHH MTV")
TRADES = (
    "Thép",
    "Xi măng",
    "Điện máy",
    "Cơ khí",
    "Dược phẩm",
    "Thực phẩm",
    "Xây dựng",
    "Gỗ",
    "Nhựa",
    "Vật liệu",
    "Hóa chất",
    "Bao bì",
    "Gạch men",
    "Nông sản",
    "Thủy sản",
    "Dệt may",
    "Điện tử",
)
NAMES = (
    "Hòa Phát",
    "Trường Sơn",
    "Bến Hải",
    "Hiền Lương",
    "Đông Hà",
    "Thạch Hãn",
    "Cửa Việt",
    "Lao Bảo",
    "Khe Sanh",
    "Ái Tử",
    "Phú Lộc",
    "Hướng Hóa",
    "Nhật Lệ",
    "Hoàng Gia",
    "Minh Đức",
    "An Phát",
    "Thành Công",
    "Việt Úc",
    "Sao Mai",
    "Đại Dương",
    "Quảng Trị",
    "Trung Nguyên",
    "Phúc Thịnh",
)
PLACES = ("Quảng Trị", "Đông Hà", "Vĩnh Linh", "Gio Linh", "Cam Lộ", "Triệu Phong", "Hải Lăng", "Đakrông")
PRODUCTS = (
    "Thép cốt bê tông",
    "Thép không gỉ",
    "Xi măng PCB40",
    "Mũ bảo hiểm cho người đi mô tô",
    "Đồ chơi trẻ em",
    "Dây điện bọc nhựa PVC",
    "Bình khí dầu mỏ hóa lỏng",
    "Gạch ốp lát",
    "Nước uống đóng chai",
    "Phân bón hữu cơ",
    "Ổ cắm điện",
    "Bóng đèn LED",
    "Kính xây dựng",
    "Ống nhựa uPVC",
    "Sơn tường nội thất",
    "Máy sấy tóc",
    "Nồi cơm điện",
    "Cáp quang",
)
QUESTIONS = (
    "Yêu cầu kỹ thuật đối với",
    "Quy chuẩn áp dụng cho",
    "Thủ tục chứng nhận",
    "Ghi nhãn hàng hóa",
)


# --- generation -----------------------------------------------------------------------------------


def settings_for(data: Path, url: str | None) -> Any:
    return make_settings(data, url or f"sqlite:///{data}/scale.sqlite3")


def migrate(url: str) -> None:
    """Bring the database to the head as ``tdcflow migrate`` does."""
    from migrations import runner

    runner.upgrade(url)


def settle(url: str) -> None:
    """PostgreSQL after a bulk load: what autovacuum would do before long (the visibility map lets
    index-only scans skip the table; fresh statistics)."""
    import psycopg

    parsed = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(parsed, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def real_dossiers(rt: Runtime) -> None:
    """A few declarations through the commands: their pages are measured (one waits at receipt)."""
    people = setup_people(rt)
    firm = people["business"]
    steps = [
        ("clerk", {"completeness_decision": "receive"}),
        ("specialist", {"examination_findings": "Đạt.", "examination_conclusion": "accept"}),
        ("leader", {"approval_decision": "approve"}),
    ]
    for n in range(6):
        ids = {
            field: commands.upload_attachment(rt, firm, f"{field}.pdf", DEMO_PDF).id
            for field in ("declaration_form", "business_registration", "certificate_copy")
        }
        dossier, _ = submission.submit_dossier(
            rt, firm, "cong-bo-hop-chuan-hop-quy", baseline.declaration(n, firm.tax_code, ids)
        )
        for role, data in steps[: n % 4]:
            with reading(rt.engine) as session:
                task_id = session.exec(
                    text("SELECT id FROM work_task WHERE dossier_id = :d AND status = 'open'"),
                    params={"d": dossier.id},
                ).scalar_one()
            commands.complete_task(rt, people[role], task_id, data)
    for role, count in OFFICERS.items():
        for n in range(count):
            accounts.create_officer(
                rt,
                None,
                email=f"{role}{n}@scale.vn",
                password=PASSWORD,
                full_name=f"Cán bộ {role} {n}",
                roles=[role],
                job_title="",
            )


class Writer:
    """Rows into a table, in batches: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        if self.sqlite:
            import sqlite3

            self.connection: Any = sqlite3.connect(parsed.database, isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=OFF")
            self.connection.execute("PRAGMA cache_size=-1000000")
            self.connection.execute("PRAGMA foreign_keys=OFF")
        else:
            import psycopg

            self.connection = psycopg.connect(
                parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            )

    def scalar(self, sql: str) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return cursor.fetchone()[0]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return list(cursor.fetchall())

    def instant(self, value: datetime | None) -> Any:
        if value is None or not self.sqlite:
            return value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            self.connection.execute("BEGIN")
            self.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            self.connection.execute("COMMIT")
        else:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with self.connection.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
            self.connection.commit()

    def finish(self) -> None:
        if self.sqlite:
            self.connection.execute("ANALYZE")
            self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            self.connection.autocommit = True
            self.connection.execute("ANALYZE")
        self.connection.close()


DOSSIER_COLUMNS = (
    "id", "code", "procedure_code", "rules_version", "applicant_id", "applicant_name",
    "applicant_tax_code", "subject", "status", "current_step", "outcome", "data", "submitted_at",
    "received_at", "appointment_at", "legal_due_at", "completed_at", "updated_at", "extension_days",
    "timeliness_committed", "timeliness_legal", "search_text",
)  # fmt: skip
TASK_COLUMNS = (
    "id", "dossier_id", "spec_name", "name", "name_en", "candidate_role", "form", "ui_form", "status",
    "assignee_id", "completed_by_id", "created_at", "claimed_at", "completed_at", "due_at",
)  # fmt: skip
INSTANCE_COLUMNS = ("id", "dossier_id", "model_version_id", "state", "version", "completed", "next_timer_at")
ALARM_COLUMNS = ("dossier_id", "task_id", "kind", "due_at", "recipient_role", "recipient_user_id", "fired_at")
PAUSE_COLUMNS = ("dossier_id", "reason", "details", "started_at", "ended_at")
RATING_COLUMNS = ("dossier_id", "score", "comment", "rated_by_id", "rated_at")


def generate(url: str, data: str, dossiers: int, seed: int = 17) -> None:
    """``dossiers`` dossiers and their tasks, instances, alarms, pauses and ratings, in bulk."""
    started = time.perf_counter()
    rt = build_runtime(settings_for(Path(data), url), create_tables=False)
    real_dossiers(rt)
    steps = {}
    versions = {}
    for code in SHARES:
        procedure = rt.catalogue.get(code)
        assert procedure is not None, code
        specs = [s for s in procedure.model.user_task_specs() if s.candidate_role not in (None, "business")]
        steps[code] = specs[:3]
        versions[code] = rt.model_version_of(procedure)
    agency = rt.settings.agency_code
    rt.engine.dispose()

    out = Writer(url)
    rng = random.Random(seed)
    officers: dict[str, list[int]] = {}
    for user_id, roles in out.rows("SELECT id, roles FROM app_user"):
        for role in roles if isinstance(roles, list) else json.loads(roles):
            officers.setdefault(role, []).append(user_id)
    first_user = out.scalar("SELECT max(id) FROM app_user") + 1
    firms = []
    rows = []
    for n, number in enumerate(rng.sample(range(10**8), BUSINESSES)):
        name = f"{rng.choice(FORMS)} {rng.choice(TRADES)} {rng.choice(NAMES)} {rng.choice(PLACES)}"
        tax_code = f"32{number:08d}"
        firms.append((first_user + n, name, tax_code, search_key(name)))
        rows.append(
            (first_user + n, f"firm{n}@scale.vn", "!", name, "[\"business\"]", tax_code, "verified", name,
             out.flag(True), 0, out.instant(now()))
        )  # fmt: skip
    out.write(
        "app_user",
        ("id", "email", "password_hash", "full_name", "roles", "tax_code", "tax_code_status",
         "organisation_name", "is_active", "session_epoch", "created_at"),
        rows,
    )  # fmt: skip
    folded_subjects = {p: search_key(p) for p in PRODUCTS + QUESTIONS}
    codes_list = list(SHARES)
    weights = [SHARES[c] for c in codes_list]
    end = now()
    span = timedelta(days=365 * YEARS).total_seconds()
    next_dossier = (out.scalar("SELECT coalesce(max(id), 0) FROM dossier")) + 1
    next_instance = (out.scalar("SELECT coalesce(max(id), 0) FROM process_instance")) + 1
    per_day: dict[str, int] = {}
    batch: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ("d", "t", "i", "a", "p", "r")}
    checked = 0

    def flush() -> None:
        out.write("dossier", DOSSIER_COLUMNS, batch["d"])
        out.write("process_instance", INSTANCE_COLUMNS, batch["i"])
        out.write("work_task", TASK_COLUMNS, batch["t"])
        out.write("alarm", ALARM_COLUMNS, batch["a"])
        out.write("clock_pause", PAUSE_COLUMNS, batch["p"])
        out.write("service_rating", RATING_COLUMNS, batch["r"])
        for rows_ in batch.values():
            rows_.clear()

    # Submission instants in order, oldest first (ids grow with time as the commands make them).
    offsets = sorted(rng.random() for _ in range(dossiers))
    for n, offset in enumerate(offsets):
        dossier_id = next_dossier + n
        procedure = rng.choices(codes_list, weights)[0]
        is_open = rng.random() < 0.02
        submitted = end - timedelta(seconds=span * (1 - offset))
        if is_open:
            submitted = end - timedelta(days=rng.uniform(0, 40))
        day = submitted.strftime("%Y%m%d")
        per_day[day] = per_day.get(day, 0) + 1
        code = f"{agency}-{day}-{per_day[day]:04d}"
        firm_id, firm_name, tax_code, folded_firm = rng.choice(firms)
        subject = (
            f"{rng.choice(QUESTIONS)} {rng.choice(PRODUCTS).lower()}"
            if procedure == "hoi-dap-tbt"
            else rng.choice(PRODUCTS)
        )
        folded_subject = folded_subjects.get(subject) or search_key(subject)
        folded = f"{code.lower()} {folded_firm} {tax_code} {folded_subject}"
        if checked < 200:  # the product's own folding, checked on a sample
            probe = Dossier(code=code, applicant_name=firm_name, applicant_tax_code=tax_code, subject=subject)
            assert dossier_search_text(probe) == folded, (dossier_search_text(probe), folded)
            checked += 1
        received = submitted + timedelta(hours=rng.uniform(1, 30))
        appointment = received + timedelta(days=15)
        legal = received + timedelta(days=21)
        specs = steps[procedure]
        if is_open:
            status = "submitted" if rng.random() < 0.1 else "processing"
            if status == "submitted":
                received = appointment = legal = None  # type: ignore[assignment]
            completed = outcome = committed = legal_late = None
            done_steps = 0 if status == "submitted" else rng.randrange(1, len(specs))
        else:
            outcome = rng.choices(("approved", "rejected", "withdrawn"), (85, 10, 5))[0]
            status = "withdrawn" if outcome == "withdrawn" else "completed"
            completed = received + timedelta(days=rng.uniform(2, 22), hours=rng.uniform(0, 8))
            committed = (
                None if outcome == "withdrawn" else rng.choices(("early", "on_time", "late"), (60, 30, 10))[0]
            )
            legal_late = (
                None
                if committed is None
                else ("late" if committed == "late" and rng.random() < 0.3 else "on_time")
            )
            done_steps = len(specs)
        batch["d"].append(
            (dossier_id, code, procedure, "", firm_id, firm_name, tax_code, subject, status,
             specs[min(done_steps, len(specs) - 1)].name if is_open else None, outcome, "{}",
             out.instant(submitted), out.instant(received), out.instant(appointment), out.instant(legal),
             out.instant(completed), out.instant(completed or submitted), 0, committed, legal_late, folded)
        )  # fmt: skip
        timer = end + timedelta(days=rng.uniform(1, 30)) if is_open and rng.random() < 0.1 else None
        batch["i"].append(
            (next_instance + n, dossier_id, versions[procedure], "{}", 1 + done_steps, out.flag(not is_open),
             out.instant(timer))
        )  # fmt: skip
        at = received or submitted
        for k, spec in enumerate(specs):
            if k > done_steps:
                break
            still_open = is_open and k == done_steps
            role = spec.candidate_role or ""
            people = officers.get(role) or officers["clerk"]
            created = at
            due = created + timedelta(days=rng.choice((1, 2, 3, 5)))
            finished = (
                None if still_open else min(created + timedelta(days=rng.uniform(0.2, 4)), completed or end)
            )
            holder = rng.choice(people) if not still_open or rng.random() < 0.5 else None
            task_id = f"{rng.getrandbits(128):032x}"
            task_id = f"{task_id[:8]}-{task_id[8:12]}-4{task_id[13:16]}-{task_id[16:20]}-{task_id[20:]}"
            batch["t"].append(
                (task_id, dossier_id, spec.spec_name, spec.name, spec.name_en, role, spec.form, spec.ui_form,
                 "open" if still_open else "completed", holder, None if still_open else holder,
                 out.instant(created), out.instant(created if holder else None), out.instant(finished),
                 out.instant(due))
            )  # fmt: skip
            if still_open:
                for kind, when in (("task_reminder", due - timedelta(days=1)), ("task_escalation", due)):
                    fired = out.instant(when) if when <= end else None
                    batch["a"].append((dossier_id, task_id, kind, out.instant(when), role, None, fired))
            at = finished or at
        if completed is not None and outcome != "withdrawn":
            if rng.random() < 0.1:
                pause_start = received + timedelta(days=1)
                batch["p"].append(
                    (dossier_id, "supplement_requested", "{}", out.instant(pause_start),
                     out.instant(pause_start + timedelta(days=rng.uniform(1, 5))))
                )  # fmt: skip
            if rng.random() < 0.3:
                batch["r"].append(
                    (dossier_id, rng.choice((3, 4, 5, 5, 5)), "", firm_id, out.instant(completed))
                )
        if len(batch["d"]) >= BATCH:
            flush()
    flush()
    out.finish()
    print(f"generated {dossiers:,} dossiers in {time.perf_counter() - started:.0f} s", flush=True)
