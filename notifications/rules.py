"""Who hears of each event, and on which channels.

A person hears in-app always, by e-mail when their preference allows it (on by default) and by
SMS when they turned it on, gave a phone number and an SMS gateway is configured. Partner systems
hear of the event types their webhook subscribes to ("*" for all).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast
from sqlmodel import Session, select

from notifications.models import ChannelPreference, Webhook
from workflows.catalogue import Catalogue
from workflows.models import User, WorkTask
from workflows.outbox import OutboxEvent, event_types

LEADER_ALARMS = frozenset({"task_escalation", "appointment_missed", "legal_limit_missed"})


@dataclass(frozen=True)
class Recipient:
    """One (channel, address) an event goes to."""

    channel: str  # email | inapp | sms | webhook
    address: str  # e-mail address, user id, phone number, webhook id
    user: User | None = field(default=None, compare=False)
    webhook: Webhook | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The recipient's part of the idempotency key (short and stable: ids, not addresses)."""
        if self.webhook is not None and self.channel == "webhook":
            return f"webhook:w{self.webhook.id}"
        if self.user is None and self.channel == "email":
            # A person without an account (an address the event carries): its address's digest.
            return f"email:a{hashlib.sha256(self.address.encode()).hexdigest()[:16]}"
        assert self.user is not None
        return f"{self.channel}:u{self.user.id}"


class Directory:
    """The people and partner systems, read once per dispatcher batch (inside its transaction)."""

    def __init__(self, session: Session, catalogue: Catalogue | None = None) -> None:
        self.session = session
        self.catalogue = catalogue
        self._users: dict[int, User | None] = {}
        self._roles: dict[str, list[User]] = {}
        self._preferences: dict[int, ChannelPreference] = {}
        self._webhooks: list[Webhook] | None = None

    def user(self, user_id: int | None) -> User | None:
        if user_id is None:
            return None
        if user_id not in self._users:
            user = self.session.get(User, user_id)
            self._users[user_id] = user if user is not None and user.is_active else None
        return self._users[user_id]

    def with_role(self, role: str) -> list[User]:
        """The active users holding ``role``."""
        if role not in self._roles:
            # The JSON text contains the quoted role name: a cheap filter that works on SQLite and
            # PostgreSQL alike; has_role is the exact test.
            rows = self.session.exec(
                select(User)
                .where(User.is_active.is_(True), cast(User.roles, String).like(f'%"{role}"%'))
                .order_by(User.id)
            ).all()
            self._roles[role] = [u for u in rows if u.has_role(role)]
            for user in self._roles[role]:
                self._users.setdefault(user.id, user)
        return self._roles[role]

    def preference(self, user_id: int) -> ChannelPreference:
        if user_id not in self._preferences:
            found = self.session.get(ChannelPreference, user_id)
            self._preferences[user_id] = found or ChannelPreference(user_id=user_id)
        return self._preferences[user_id]

    def _active_webhooks(self) -> list[Webhook]:
        if self._webhooks is None:
            self._webhooks = list(
                self.session.exec(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)).all()
            )
        return self._webhooks

    def partner_webhooks(self, event_type: str) -> list[Webhook]:
        return [
            hook
            for hook in self._active_webhooks()
            if hook.purpose == "partner" and (event_type in hook.event_types or "*" in hook.event_types)
        ]

    def sms_gateway(self) -> Webhook | None:
        return next((hook for hook in self._active_webhooks() if hook.purpose == "sms"), None)

    def task(self, task_id: str | None) -> WorkTask | None:
        return self.session.get(WorkTask, task_id) if task_id else None

    def processing_role(self, procedure_code: str | None) -> str:
        """Who processes the procedure's dossiers (the specialists, unless its plug-in says)."""
        procedure = self.catalogue.get(str(procedure_code)) if self.catalogue and procedure_code else None
        return procedure.plugin.processing_role if procedure is not None else "specialist"

    def started_by_staff(self, procedure_code: str | None) -> bool:
        """Whether the procedure's dossiers are opened by the department's own staff (an internal
        procedure): its starter is an officer, not an applicant to tell of each step."""
        procedure = self.catalogue.get(str(procedure_code)) if self.catalogue and procedure_code else None
        return procedure is not None and procedure.internal


def people(directory: Directory, event: OutboxEvent) -> list[User]:
    """The users who hear of the event, each once, in a stable order."""
    payload: dict[str, Any] = event.payload
    applicant = directory.user(payload.get("applicant_id"))
    kind = event.type
    found: list[User | None]
    if kind == "supplement_received":
        found = list(directory.with_role("clerk"))
    elif kind == "task_available":
        found = _task_people(directory, payload.get("role"), payload.get("assignee_id"), applicant)
    elif kind == "task_reminder":
        task = directory.task(payload.get("task_id"))
        assignee = task.assignee_id if task is not None else payload.get("recipient_user_id")
        role = payload.get("recipient_role") or (task.candidate_role if task is not None else None)
        found = _task_people(directory, role, assignee, applicant)
    elif kind in LEADER_ALARMS:
        found = list(directory.with_role("leader"))
    elif kind == "appointment_at_risk":
        team = directory.processing_role(payload.get("procedure_code"))
        found = [*directory.with_role(team), *directory.with_role("leader")]
    else:
        found = _declared_people(directory, event, applicant)
    return _unique(found)


def _declared_people(directory: Directory, event: OutboxEvent, applicant: User | None) -> list[User | None]:
    """Who hears of an event as its type declares (workflows.outbox, or a procedure's plug-in)."""
    declared = event_types().get(event.type)
    if declared is None:
        return []
    found: list[User | None] = []
    for role in declared.roles:
        found.extend(directory.with_role(role))
    if declared.users_key:
        found.extend(directory.user(int(uid)) for uid in event.payload.get(declared.users_key) or [])
    # The applicant's messages are written to a business ("your dossier was submitted, the officers
    # will check it"); the officer who opened an internal dossier follows it from the work list.
    if declared.applicant_hears and not directory.started_by_staff(event.payload.get("procedure_code")):
        found.append(applicant)
    return found


def _task_people(
    directory: Directory, role: str | None, assignee_id: int | None, applicant: User | None
) -> list[User | None]:
    if role == "business":
        return [applicant]
    assignee = directory.user(assignee_id)
    if assignee is not None:
        return [assignee]
    return list(directory.with_role(role)) if role else []


def _unique(users: Iterable[User | None]) -> list[User]:
    seen: set[int] = set()
    result = []
    for user in users:
        if user is not None and user.id not in seen:
            seen.add(user.id)
            result.append(user)
    return result


def personal_channels(directory: Directory, user: User) -> list[Recipient]:
    """In-app always; e-mail and SMS as the user chose."""
    preference = directory.preference(user.id)
    result = [Recipient("inapp", str(user.id), user=user)]
    if preference.email and user.email:
        result.append(Recipient("email", user.email, user=user))
    phone = (preference.phone or user.phone or "").strip()
    gateway = directory.sms_gateway() if preference.sms and phone else None
    if gateway is not None:
        result.append(Recipient("sms", phone, user=user, webhook=gateway))
    return result


def _account_mail(directory: Directory, event: OutboxEvent) -> list[Recipient]:
    """A message about an account goes to its e-mail address alone: a reset or verification link
    must reach the mailbox whatever the preferences, and nowhere else."""
    user = directory.user(event.payload.get("user_id"))
    return [Recipient("email", user.email, user=user)] if user is not None and user.email else []


def addressed(event: OutboxEvent) -> list[Recipient]:
    """The e-mail address of a person without an account the event carries, as its type declares
    (``EventType.email_key``): e-mail is the one channel such a person has."""
    declared = event_types().get(event.type)
    address = (
        str(event.payload.get(declared.email_key) or "").strip() if declared and declared.email_key else ""
    )
    return [Recipient("email", address)] if address else []


def recipients(directory: Directory, event: OutboxEvent) -> list[Recipient]:
    """Every (channel, address) of the event: the people's, the addresses it carries, then the
    partner systems'."""
    declared = event_types().get(event.type)
    if declared is not None and declared.account_mail:
        return _account_mail(directory, event)
    result = [r for user in people(directory, event) for r in personal_channels(directory, user)]
    result.extend(addressed(event))
    result.extend(
        Recipient("webhook", str(hook.id), webhook=hook) for hook in directory.partner_webhooks(event.type)
    )
    return result
