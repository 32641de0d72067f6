"""The inspection campaign's table: one row per instrument found at a site (migration 0024).

Findings are data worth querying across campaigns (an instrument's inspections, the violations per
commune or kind), so they live in a table of their own rather than only in the dossier's data.
Instants are aware UTC; a visit's day and an action's deadline are calendar dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.clock import now

COMPLIANT = "compliant"
NO_VALID_VERIFICATION = "no_valid_verification"
STAMP_LOST_OR_BROKEN = "stamp_lost_or_broken"
OTHER_VIOLATION = "other_violation"
RESULTS = (COMPLIANT, NO_VALID_VERIFICATION, STAMP_LOST_OR_BROKEN, OTHER_VIOLATION)

REQUEST_VERIFICATION = "request_verification"
TRANSFERRED = "transferred_to_inspectorate"
CLOSED = "closed"
HANDLING_ACTIONS = (REQUEST_VERIFICATION, TRANSFERRED, CLOSED)


def _instant() -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


def _created() -> Any:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False))


class CampaignFinding(SQLModel, table=True):
    """What the team found on one instrument at one site of a campaign (the campaign is a dossier
    of the procedure), and how a violation was handled. ``instrument_id`` is empty for an
    instrument not in the registry (its kind, model and serial number as the team read them);
    ``warning_id`` is the metrology warning the violation opened or was linked to, if any."""

    __tablename__ = "metrology_campaign_finding"
    __table_args__ = (
        UniqueConstraint("dossier_id", "site_no", "finding_no", name="uq_metrology_campaign_finding"),
        Index("ix_metrology_campaign_finding_result", "result", "visited_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    site_no: int
    finding_no: int
    site_owner: str = Field(max_length=300)
    site_address: str = Field(max_length=300)
    site_commune: str = Field(default="", max_length=120)
    visited_on: date
    instrument_id: int | None = Field(default=None, foreign_key="metrology_instrument.id", index=True)
    stamp_number: str = Field(default="", max_length=60)
    kind: str = Field(default="", max_length=40)
    model: str = Field(default="", max_length=100)
    serial_number: str = Field(default="", max_length=60)
    result: str = Field(max_length=24)
    note: str = Field(default="", max_length=1000)
    warning_id: int | None = Field(default=None, foreign_key="metrology_warning.id")
    action: str = Field(default="", max_length=32)
    action_note: str = Field(default="", max_length=1000)
    action_due: date | None = Field(default=None)
    handled_at: datetime | None = _instant()
    handled_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = _created()
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")

    @property
    def violating(self) -> bool:
        return self.result != COMPLIANT
