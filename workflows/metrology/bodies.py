"""Verification bodies and their API keys: the administrator registers a body, gives it keys and
revokes them; a key authenticates the body's reports (:func:`body_of_key`)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import select

from workflows import audit, permissions
from workflows.clock import now
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.metrology.models import BodyApiKey, VerificationBody
from workflows.models import User
from workflows.runtime import Runtime

KEY_PREFIX = "mtk_"
# The role a body's key stands for in the permissions policy (no account holds it).
BODY_ROLE = "verification_body"


@dataclass(frozen=True)
class BodyPrincipal:
    """Who a report comes from: a verification body through one of its keys. Read by the
    permissions policy as a person holding only the verification body's role."""

    body_id: int
    body_code: str
    body_name: str
    key_id: int
    key_prefix: str
    id: int | None = None
    roles: tuple[str, ...] = (BODY_ROLE,)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_officer(self) -> bool:
        return False


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _text(value: str, field: str, limit: int, required: bool, what_vi: str, what_en: str) -> str:
    text = " ".join(value.split())
    if required and not text:
        raise InvalidInput(
            f"Thiếu {what_vi}.",
            f"The {what_en} is missing.",
            "validation_error",
            [FieldProblem(field, "Trường này là bắt buộc.", "This field is required.", "required")],
        )
    if len(text) > limit:
        raise InvalidInput(
            f"{what_vi.capitalize()} quá dài.",
            f"The {what_en} is too long.",
            "validation_error",
            [FieldProblem(field, f"Tối đa {limit} ký tự.", f"At most {limit} characters.", "maxLength")],
        )
    return text


def create_body(rt: Runtime, actor: User, code: str, name: str, designation: str = "") -> VerificationBody:
    permissions.require(actor, permissions.METROLOGY_BODIES_MANAGE)
    code = _text(code, "code", 40, True, "mã tổ chức", "body's code").upper()
    name = _text(name, "name", 300, True, "tên tổ chức", "body's name")
    designation = _text(designation, "designation", 200, False, "số quyết định chỉ định", "designation")
    with transaction(rt.engine) as session:
        if session.exec(select(VerificationBody.id).where(VerificationBody.code == code)).first():
            raise Conflict(
                "Đã có tổ chức kiểm định với mã này.",
                "A verification body with this code exists.",
                "body_code_taken",
                [FieldProblem("code", "Mã đã được dùng.", "This code is taken.", "unique")],
            )
        body = VerificationBody(code=code, name=name, designation=designation, created_by_id=actor.id)
        session.add(body)
        session.flush()
        audit.record(
            session,
            f"metrology_body:{body.id}",
            "body_registered",
            actor,
            {"code": code, "name": name, "designation": designation},
        )
        return body


def list_bodies(rt: Runtime, actor: User) -> list[tuple[VerificationBody, list[BodyApiKey]]]:
    permissions.require(actor, permissions.METROLOGY_BODIES_MANAGE)
    with reading(rt.engine) as session:
        bodies = session.exec(select(VerificationBody).order_by(VerificationBody.code)).all()
        keys = session.exec(select(BodyApiKey).order_by(BodyApiKey.id)).all()
    return [(b, [k for k in keys if k.body_id == b.id]) for b in bodies]


def create_key(
    rt: Runtime, actor: User, body_id: int, label: str = "", *, fixed_key: str | None = None
) -> tuple[BodyApiKey, str]:
    """A new key of the body: the row, and the key itself (shown this once, never stored).
    ``fixed_key`` is for the demo, whose documented key must be the same on every install; the API
    never passes one."""
    permissions.require(actor, permissions.METROLOGY_BODIES_MANAGE)
    label = _text(label, "label", 200, False, "ghi chú của khóa", "key's label")
    key = fixed_key or KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction(rt.engine) as session:
        if session.get(VerificationBody, body_id) is None:
            raise not_found("tổ chức kiểm định", "Verification body")
        row = BodyApiKey(
            body_id=body_id, label=label, prefix=key[:12], key_hash=_hash(key), created_by_id=actor.id
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            f"metrology_body:{body_id}",
            "api_key_created",
            actor,
            {"key_id": row.id, "prefix": row.prefix, "label": label},
        )
        return row, key


def revoke_key(rt: Runtime, actor: User, key_id: int) -> BodyApiKey:
    """Revoke a key at once (its next request is refused); revoking twice says so."""
    permissions.require(actor, permissions.METROLOGY_BODIES_MANAGE)
    with transaction(rt.engine) as session:
        row = session.exec(select(BodyApiKey).where(BodyApiKey.id == key_id).with_for_update()).first()
        if row is None:
            raise not_found("khóa API", "API key")
        if row.revoked_at is not None:
            raise Conflict("Khóa này đã bị thu hồi.", "This key was already revoked.", "key_revoked")
        row.revoked_at = now()
        row.revoked_by_id = actor.id
        session.add(row)
        audit.record(
            session,
            f"metrology_body:{row.body_id}",
            "api_key_revoked",
            actor,
            {"key_id": row.id, "prefix": row.prefix},
        )
        return row


def body_of_key(rt: Runtime, key: str | None) -> BodyPrincipal | None:
    """The body a key belongs to, or None for no key, an unknown key or a revoked one."""
    if not key or len(key) > 200:
        return None
    with reading(rt.engine) as session:
        found = session.exec(
            select(BodyApiKey, VerificationBody)
            .join(VerificationBody, VerificationBody.id == BodyApiKey.body_id)
            .where(BodyApiKey.key_hash == _hash(key.strip()))
        ).first()
    if found is None or found[0].revoked_at is not None:
        return None
    api_key, body = found
    assert api_key.id is not None and body.id is not None
    return BodyPrincipal(body.id, body.code, body.name, api_key.id, api_key.prefix)
