"""The metrology database's tables. Instants are aware UTC; calendar dates (a verification's day,
its validity) are plain dates, as the certificate prints them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Integer, Text, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from workflows.clock import now
from workflows.folding import search_key
from workflows.models import pg_trigram_index


def _instant(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def _created() -> Any:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False))


class VerificationBody(SQLModel, table=True):
    """A verification body designated to verify group 2 instruments (tổ chức kiểm định được chỉ
    định), which reports its results through the API with its keys."""

    __tablename__ = "metrology_body"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=300)
    designation: str = Field(default="", max_length=200)  # the designation decision's number
    created_at: datetime = _created()
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class BodyApiKey(SQLModel, table=True):
    """An API key of a verification body. Only the key's SHA-256 is kept (the key is 32 random
    bytes, shown once: a fast hash suffices where a password needs a slow one); ``prefix`` is the
    key's first characters, so a body and the administrator can tell keys apart."""

    __tablename__ = "metrology_api_key"

    id: int | None = Field(default=None, primary_key=True)
    body_id: int = Field(foreign_key="metrology_body.id", index=True)
    label: str = Field(default="", max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _created()
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    revoked_at: datetime | None = _instant()
    revoked_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class Instrument(SQLModel, table=True):
    """A measuring instrument in use, registered by its owner or an officer
    (``workflows.metrology.registration``) or by the first report of a verification body.
    Identified by its kind, model and serial number. The
    ``current_*`` columns repeat its latest verification (by date), so that its status, an owner's
    list and the public counts need no search through the records."""

    __tablename__ = "metrology_instrument"
    __table_args__ = (
        # Serial number first: a file's rows look their instruments up by serial number.
        UniqueConstraint("serial_number", "kind", "model", name="uq_metrology_instrument_identity"),
        Index("ix_metrology_instrument_owner", "owner_tax_code", "id"),
        # An owner's page orders and counts by status (result, end of validity) from this index
        # alone: an owner's instruments are spread over the table (migration 0025).
        Index(
            "ix_metrology_instrument_owner_status",
            "owner_tax_code",
            "current_result",
            "current_valid_until",
            "current_verification_id",
            "id",
        ),
        Index("ix_metrology_instrument_valid_until", "current_valid_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    model: str = Field(max_length=100)
    approval_mark: str = Field(default="", max_length=60)  # dấu phê duyệt mẫu
    serial_number: str = Field(max_length=60)
    measuring_range: str = Field(default="", max_length=100)
    accuracy_class: str = Field(default="", max_length=30)
    # "business" (by tax code: a business's name is public) or "household" (a name never published).
    owner_type: str = Field(max_length=12)
    owner_tax_code: str | None = Field(default=None, max_length=14)
    owner_name: str = Field(max_length=300)
    commune: str = Field(max_length=120)  # xã, phường, đặc khu (two-level government, 01/07/2025)
    address: str = Field(default="", max_length=300)
    purpose: str = Field(default="", max_length=300)
    registered_at: datetime = _created()
    current_verification_id: int | None = Field(default=None)
    current_verified_on: date | None = Field(default=None)
    current_result: str | None = Field(default=None, max_length=8)
    current_valid_until: date | None = Field(default=None)
    # Grows with each correction of a registration: a correction made on a stale view is refused.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))
    # Serial number, model, approval mark, owner, tax code, commune and address folded
    # (workflows.folding.search_key): what the officers' search finds "Đông Hà" in as "dong ha".
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=text("''")))


# What the officers' search reads of an instrument (migration 0023 keeps a frozen copy).
SEARCHED = ("serial_number", "model", "approval_mark", "owner_name", "owner_tax_code", "commune", "address")


def instrument_search_text(instrument: Instrument) -> str:
    return search_key(" ".join(str(v) for v in (getattr(instrument, n) for n in SEARCHED) if v))


@event.listens_for(Instrument, "before_insert")
@event.listens_for(Instrument, "before_update")
def _fold_search_text(_mapper: Any, _connection: Any, instrument: Instrument) -> None:
    # Whoever writes the instrument (a registration, a correction, a body's report), the folded
    # copy follows in the same flush.
    instrument.search_text = instrument_search_text(instrument)


# PostgreSQL serves the officers' "words anywhere" search from a trigram index (migration 0027).
pg_trigram_index(Instrument.__table__, "ix_metrology_instrument_search_trgm", "search_text")


class VerificationRecord(SQLModel, table=True):
    """One verification of an instrument, as its verification body reported it: one per
    certificate number. ``stamp_token`` is what a QR code on the stamp carries."""

    __tablename__ = "metrology_verification"
    __table_args__ = (Index("ix_metrology_verification_instrument", "instrument_id", "verified_on"),)

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="metrology_instrument.id")
    body_id: int = Field(foreign_key="metrology_body.id", index=True)
    certificate_number: str = Field(max_length=60, unique=True)
    stamp_number: str | None = Field(default=None, max_length=60, unique=True)
    stamp_token: str = Field(max_length=32, unique=True)
    verified_on: date
    result: str = Field(max_length=8)  # "pass" / "fail"
    valid_until: date | None = Field(default=None)
    reported_at: datetime = _created()
    api_key_id: int | None = Field(default=None, foreign_key="metrology_api_key.id")
    # The report as received, normalised: what a second report of the certificate is compared with.
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ExpiryReminder(SQLModel, table=True):
    """An owner reminded that a verification ends soon: one row per verification, written with the
    reminder's outbox event, so a second sweep (the same day, after a restart, on another worker)
    finds it and sends nothing."""

    __tablename__ = "metrology_reminder"

    verification_id: int = Field(primary_key=True, foreign_key="metrology_verification.id")
    instrument_id: int = Field(foreign_key="metrology_instrument.id", index=True)
    valid_until: date
    sent_at: datetime = _created()


class ViolationWarning(SQLModel, table=True):
    """A violation warning the department's officers handle: an instrument used past the end of its
    verification (``overdue``), one whose latest verification failed (``failed``), a stamp
    reported lost (``stamp_lost``), one registered but never verified past its grace period
    (``unverified``, :mod:`workflows.metrology.unverified`). One per cause and verification: the sweep and a second report
    of a lost stamp find it. ``since`` is the day the violation began, which orders the list;
    ``version`` grows with each change, so a command made on a stale view is refused."""

    __tablename__ = "metrology_warning"
    __table_args__ = (
        UniqueConstraint("cause", "verification_id", name="uq_metrology_warning_cause"),
        # An instrument never verified has one ``unverified`` warning at most (it has no verification).
        Index(
            "uq_metrology_warning_unverified",
            "instrument_id",
            unique=True,
            sqlite_where=text("cause = 'unverified'"),
            postgresql_where=text("cause = 'unverified'"),
        ),
        Index("ix_metrology_warning_state", "state", "since", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="metrology_instrument.id", index=True)
    cause: str = Field(max_length=12)  # overdue / failed / stamp_lost / unverified
    # None for ``unverified``: a registered instrument of a kind to verify with no verification.
    verification_id: int | None = Field(default=None, foreign_key="metrology_verification.id")
    since: date
    state: str = Field(default="open", max_length=20)  # open / inspection_planned / owner_contacted / closed
    version: int = Field(default=1)
    note: str = Field(default="", max_length=1000)
    closed_reason: str = Field(default="", max_length=1000)
    opened_at: datetime = _created()
    updated_at: datetime = _created()
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
