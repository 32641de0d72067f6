"""The officers' daily digest: one e-mail on each working day with their open tasks that are
overdue, due today or due on the next working day.

An officer's open tasks are the ones claimed by them and the unclaimed ones of their roles. The
digest is a ``Delivery`` keyed ``digest:<user id>:<date>``, so running twice (two nodes, a
restart) sends it once; the dispatcher sends it like any other e-mail. Nothing is sent to an
officer with nothing to do, nor on a day off (weekends, public holidays, official day swaps:
the working-time calendar decides, so a make-up Saturday gets its digest too). Each digest carries
the audit trail's latest daily root hash (``workflows.audit_root``), so copies of it live in
mailboxes no database write can reach. The officers who handle the metrology warnings read there
how many instruments' verifications end within the reminder window, how many are overdue and how
many warnings are still open (``workflows.metrology.alerts.counts``): a digest goes to them for
those figures even on a day without tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from notifications.models import ChannelPreference, Delivery
from notifications.render import Renderer
from workflows import audit_root, permissions
from workflows.calendar import WorkingCalendar
from workflows.clock import as_utc, now
from workflows.db import transaction
from workflows.metrology import alerts as metrology_alerts
from workflows.models import Dossier, User, WorkTask, officer_roles
from workflows.runtime import Runtime


@dataclass(frozen=True)
class DigestRow:
    code: str
    name: str
    name_en: str
    due_at: datetime
    url: str


def digest_key(user_id: int, day: date) -> str:
    return f"digest:{user_id}:{day.isoformat()}"


def next_working_day(calendar: WorkingCalendar, day: date) -> date:
    candidate = day + timedelta(days=1)
    for _ in range(60):  # Tết is the longest run of days off
        if calendar.is_working_day(candidate):
            return candidate
        candidate += timedelta(days=1)
    return day + timedelta(days=1)


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _officers(session: Session) -> list[User]:
    # Everyone active but a business alone; is_officer is the exact test.
    rows = session.exec(
        select(User)
        .where(User.is_active.is_(True), cast(User.roles, String).not_like('["business"]'))
        .order_by(User.id)
    ).all()
    return [user for user in rows if user.is_officer]


def send_digest(rt: Runtime, today: date | None = None) -> int:
    """Write today's digests (sent by the dispatcher); the number written. Nothing on a day off."""
    zone = ZoneInfo(rt.settings.timezone)
    instant = now()
    today = today or instant.astimezone(zone).date()
    if not rt.calendar.is_working_day(today):
        return 0
    next_day = next_working_day(rt.calendar, today)
    end_of_today, horizon = (
        _start_of(today + timedelta(days=1), zone),
        _start_of(next_day + timedelta(days=1), zone),
    )
    renderer = Renderer(rt)
    written = 0
    figures = metrology_alerts.counts(rt, today)
    metrology = figures if any(figures.values()) else None
    with transaction(rt.engine) as session:
        officers = _officers(session)
        # The audit trail's latest daily root travels in every digest: a copy outside the database.
        latest_root = next(iter(audit_root.latest_roots(session, limit=1)), None)
        keys = {user.id: digest_key(user.id, today) for user in officers}
        done = set(
            session.exec(select(Delivery.idempotency_key).where(Delivery.idempotency_key.in_(keys.values())))
        )
        preferences = {
            p.user_id: p
            for p in session.exec(select(ChannelPreference).where(ChannelPreference.user_id.in_(keys.keys())))
        }
        tasks = session.exec(
            select(WorkTask, Dossier.code)
            .join(Dossier, Dossier.id == WorkTask.dossier_id)
            .where(WorkTask.status == "open", WorkTask.due_at.is_not(None), WorkTask.due_at < horizon)
            .order_by(WorkTask.due_at, WorkTask.id)
        ).all()
        for user in officers:
            preference = preferences.get(user.id)
            if keys[user.id] in done or (preference is not None and not preference.digest):
                continue
            roles = set(user.roles) & set(officer_roles())
            mine = [
                (task, code)
                for task, code in tasks
                if task.assignee_id == user.id or (task.assignee_id is None and task.candidate_role in roles)
            ]
            theirs = metrology if permissions.may(user, permissions.METROLOGY_WARNINGS) else None
            if not mine and theirs is None:
                continue
            sections: dict[str, list[DigestRow]] = {"overdue": [], "due_today": [], "due_next": []}
            for task, code in mine:
                due = as_utc(task.due_at)  # type: ignore[arg-type]
                section = "overdue" if due < instant else "due_today" if due < end_of_today else "due_next"
                sections[section].append(
                    DigestRow(code, task.name, task.name_en, due, renderer.url(f"/work/tasks/{task.id}"))
                )
            context: dict[str, Any] = {
                **renderer.common(),
                **sections,
                "recipient_name": user.full_name,
                "today": today,
                "next_day": next_day,
                "total": len(mine),
                "link_url": renderer.url("/work/inbox"),
                "audit_root": latest_root,
                "metrology": theirs,
            }
            message = renderer.render("digest", context, "/work/inbox")
            written += _insert_once(
                session,
                {
                    "event_id": None,
                    "channel": "email",
                    "recipient": user.email,
                    "recipient_user_id": user.id,
                    "webhook_id": None,
                    "idempotency_key": keys[user.id],
                    "subject": message.subject,
                    "body_text": message.text,
                    "body_html": message.html,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": None,
                    "created_at": instant,
                },
            )
    return written


def _insert_once(session: Session, values: dict[str, Any]) -> int:
    """Insert unless the idempotency key is taken (another node wrote the same digest)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return len(session.execute(statement.returning(Delivery.id)).all())
