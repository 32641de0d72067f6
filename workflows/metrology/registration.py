"""Registering the measuring instruments in use (issue 18, "online management of measuring
instruments"), before any verification body has reported them.

A business registers its own, under the tax code the department verified for its account; a
specialist or a leader registers one for any owner, a household too (a name and an address, no
tax code). An instrument is identified as a verification body's report identifies it — its kind,
model and serial number (``uq_metrology_instrument_identity``) — so the same instrument is not
registered twice, and the first report of a verification attaches to the registered instrument
(``workflows.metrology.reports``) rather than making another.

The owner may correct its registration until the first verification is recorded (what the body
reported is then the instrument's identity: a correction could hide it); after that only an
officer may. Each correction names the version it was made on: a stale one is refused (409).
Every registration and correction is audited in the instrument's stream ``instrument:<id>``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from forms.text import normalise, text_problem
from workflows import audit, permissions
from workflows.db import transaction
from workflows.errors import Conflict, FieldProblem, Forbidden, InvalidInput, not_found
from workflows.metrology import reports
from workflows.metrology.kinds import BY_CODE
from workflows.metrology.models import Instrument
from workflows.models import User
from workflows.runtime import Runtime
from workflows.tax_codes import VERIFIED, tax_code_problem

# What a registration holds (the owner's three only when an officer registers).
INSTRUMENT_FIELDS = ("kind", "model", "approval_mark", "serial_number", "measuring_range", "accuracy_class")
PLACE_FIELDS = ("commune", "address", "purpose")
OWNER_FIELDS = ("owner_type", "owner_tax_code", "owner_name")
FIELDS = (*INSTRUMENT_FIELDS, *PLACE_FIELDS, *OWNER_FIELDS)
# The column widths, as a report's (one instrument, whoever wrote it).
LIMITS = {name: reports.LIMITS[name] for name in FIELDS}
REQUIRED = ("kind", "model", "serial_number", "commune", "owner_type", "owner_name")
# Written as a report writes them, so that the same instrument has the same identity.
UPPER = ("model", "serial_number", "approval_mark")
OWNER_TYPES = ("business", "household")


def _problem(name: str, vi: str, en: str, code: str = "invalid") -> FieldProblem:
    return FieldProblem(name, vi, en, code)


def _invalid(problems: list[FieldProblem]) -> InvalidInput:
    return InvalidInput(
        "Thông tin phương tiện đo chưa hợp lệ.",
        "The instrument's details are not valid.",
        "validation_error",
        problems,
    )


def clean(raw: dict[str, Any]) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The given fields normalised (blanks collapsed, NFC, serial number and model in capitals),
    and what is wrong with each (every field at fault)."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name in FIELDS:
        if name not in raw or raw[name] is None:
            continue
        value = " ".join(str(raw[name]).split())
        if refused := text_problem(value, multiline=False):
            problems.append(_problem(name, refused.message, refused.message_en, refused.code))
            continue
        value = normalise(value)
        if len(value) > LIMITS[name]:
            problems.append(
                _problem(
                    name, f"Tối đa {LIMITS[name]} ký tự.", f"At most {LIMITS[name]} characters.", "maxLength"
                )
            )
            continue
        values[name] = value.upper() if name in UPPER else value
    if values.get("kind") and values["kind"] not in BY_CODE:
        problems.append(
            _problem(
                "kind",
                "Loại phương tiện đo không có trong danh mục (xem /api/metrology/kinds).",
                "Not a kind of the list (see /api/metrology/kinds).",
                "enum",
            )
        )
    if values.get("owner_type") and values["owner_type"] not in OWNER_TYPES:
        problems.append(
            _problem(
                "owner_type",
                "Chủ sở hữu là 'business' (doanh nghiệp) hoặc 'household' (hộ kinh doanh, cá nhân).",
                "The owner is 'business' or 'household'.",
                "enum",
            )
        )
    if values.get("owner_tax_code") and (
        found := tax_code_problem(values["owner_tax_code"], "owner_tax_code")
    ):
        problems.append(found)
    return values, problems


def _whole(values: dict[str, Any]) -> list[FieldProblem]:
    """What a whole registration (after a correction too) still lacks."""
    problems = [
        _problem(name, "Trường này là bắt buộc.", "This field is required.", "required")
        for name in REQUIRED
        if not values.get(name)
    ]
    if values.get("owner_type") == "business" and not values.get("owner_tax_code"):
        problems.append(
            _problem(
                "owner_tax_code",
                "Doanh nghiệp cần có mã số thuế.",
                "A business owner needs its tax code.",
                "required",
            )
        )
    if values.get("owner_type") == "household":
        if values.get("owner_tax_code"):
            problems.append(
                _problem(
                    "owner_tax_code",
                    "Hộ, cá nhân không ghi mã số thuế ở đây (tên không được công khai).",
                    "A household gives no tax code here (its name is never published).",
                    "not_allowed",
                )
            )
        if not values.get("address"):
            problems.append(
                _problem(
                    "address",
                    "Cần địa chỉ của hộ, cá nhân sử dụng phương tiện đo.",
                    "A household's address is required.",
                    "required",
                )
            )
    return problems


def _is_officer(actor: User) -> bool:
    return permissions.may(actor, permissions.METROLOGY_REGISTER)


def _owner_tax_code(actor: User) -> str:
    """A business's verified tax code (Forbidden before the department has verified it)."""
    permissions.require(actor, permissions.METROLOGY_REGISTER_OWN)
    if not actor.tax_code or actor.tax_code_status != VERIFIED:
        raise Forbidden(
            "Mã số thuế của tài khoản chưa được Sở xác minh: chưa đăng ký được phương tiện đo theo mã số thuế.",
            "The account's tax code is not verified by the department yet: it cannot register instruments.",
            "tax_code_unverified",
        )
    return actor.tax_code


def _owners_own(actor: User, raw: dict[str, Any]) -> list[FieldProblem]:
    return [
        _problem(
            name,
            "Chủ sở hữu là doanh nghiệp của tài khoản: không ghi trường này.",
            "The owner is the account's business: leave this field out.",
            "not_allowed",
        )
        for name in OWNER_FIELDS
        if raw.get(name) not in (None, "")
    ]


def _take_turn(session: Session) -> None:
    """The reports' turn (``workflows.metrology.reports``): a registration and a report of one new
    instrument must not both find it absent. SQLite's writers already take turns."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('metrology:reports', 0))"))


def _identity_taken(session: Session, values: dict[str, Any], other_than: int | None = None) -> None:
    found = session.exec(
        select(Instrument.id).where(
            Instrument.kind == values["kind"],
            Instrument.model == values["model"],
            Instrument.serial_number == values["serial_number"],
        )
    ).first()
    if found is not None and found != other_than:
        raise Conflict(
            "Phương tiện đo này (loại, kiểu, số sản xuất) đã được đăng ký.",
            "This instrument (kind, model, serial number) is already registered.",
            "instrument_registered",
            [
                _problem(
                    name,
                    "Đã có phương tiện đo cùng loại, kiểu và số sản xuất.",
                    "An instrument of this kind, model and serial number exists.",
                    "unique",
                )
                for name in ("kind", "model", "serial_number")
            ],
        )


def _fields(instrument: Instrument) -> dict[str, Any]:
    return {name: getattr(instrument, name) for name in FIELDS}


def register(rt: Runtime, actor: User, raw: dict[str, Any]) -> Instrument:
    """Register an instrument in use: a business its own, an officer anyone's. InvalidInput with
    every field at fault; Conflict (409) when the instrument is registered already."""
    officer = _is_officer(actor)
    values, problems = clean(raw)
    if officer:
        values.setdefault("owner_tax_code", "")
    else:
        tax_code = _owner_tax_code(actor)
        problems += _owners_own(actor, raw)
        values.update(owner_type="business", owner_tax_code=tax_code, owner_name=actor.display_name)
    problems += [p for p in _whole(values) if p.field not in {q.field for q in problems}]
    if problems:
        raise _invalid(problems)
    with transaction(rt.engine) as session:
        _take_turn(session)
        _identity_taken(session, values)
        instrument = Instrument(
            **{name: values.get(name, "") for name in FIELDS if name != "owner_tax_code"},
            owner_tax_code=values.get("owner_tax_code") or None,
        )
        session.add(instrument)
        session.flush()
        audit.record(
            session,
            f"instrument:{instrument.id}",
            "instrument_registered",
            actor,
            {"by": "officer" if officer else "owner", "instrument": _fields(instrument)},
        )
        session.flush()
        session.refresh(instrument)
        session.expunge(instrument)
    return instrument


def correct(rt: Runtime, actor: User, instrument_id: int, version: int, raw: dict[str, Any]) -> Instrument:
    """Correct a registration: the owner until the first verification is recorded, an officer at
    any time (the owner's fields too). ``version`` is the one the person saw: a change since is
    refused (409) rather than overwritten."""
    officer = _is_officer(actor)
    tax_code = None if officer else _owner_tax_code(actor)
    values, problems = clean(raw)
    if not officer:
        problems += _owners_own(actor, raw)
    if problems:
        raise _invalid(problems)
    with transaction(rt.engine) as session:
        _take_turn(session)
        instrument = session.exec(
            select(Instrument).where(Instrument.id == instrument_id).with_for_update()
        ).first()
        if instrument is None or (not officer and instrument.owner_tax_code != tax_code):
            raise not_found("phương tiện đo", "Instrument")
        if not officer and instrument.current_verification_id is not None:
            raise Forbidden(
                "Phương tiện đo đã có kết quả kiểm định: chỉ cán bộ của Sở được sửa thông tin đăng ký.",
                "The instrument has a recorded verification: only the department's officers may correct it.",
                "instrument_verified",
            )
        if instrument.version != version:
            raise Conflict(
                "Thông tin phương tiện đo đã được người khác cập nhật; hãy tải lại.",
                "Someone else updated the instrument; reload it.",
                "stale_instrument",
            )
        before = _fields(instrument)
        after = {**before, **values}
        if "owner_tax_code" in values:
            after["owner_tax_code"] = values["owner_tax_code"] or None
        if whole := _whole({**after, "owner_tax_code": after["owner_tax_code"] or ""}):
            raise _invalid(whole)
        changed = sorted(name for name in FIELDS if after[name] != before[name])
        if changed:
            if {"kind", "model", "serial_number"} & set(changed):
                _identity_taken(session, after, other_than=instrument.id)
            for name in changed:
                setattr(instrument, name, after[name])
            instrument.version += 1
            session.add(instrument)
            audit.record(
                session,
                f"instrument:{instrument.id}",
                "instrument_corrected",
                actor,
                {
                    "by": "officer" if officer else "owner",
                    "before": {k: before[k] for k in changed},
                    "after": {k: after[k] for k in changed},
                },
            )
            session.flush()
            session.refresh(instrument)
        session.expunge(instrument)
    return instrument
