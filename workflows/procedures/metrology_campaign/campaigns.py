"""Opening and reading inspection campaigns: the commands and queries the API and pages call.

A campaign is a dossier of the procedure (so it runs on the engine, its tasks are in the officers'
inbox and its history in the audit trail); its findings are rows of ``metrology_campaign_finding``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from workflows import permissions, submission
from workflows.db import reading
from workflows.errors import not_found
from workflows.models import Document, Dossier, User, WorkTask
from workflows.procedures.metrology_campaign.actions import READ
from workflows.procedures.metrology_campaign.findings import Counts, counts_of, findings_of
from workflows.procedures.metrology_campaign.models import CampaignFinding
from workflows.runtime import Runtime

CODE = "kiem-tra-do-luong"


def open_campaign(
    rt: Runtime, actor: User, data: dict[str, Any], idempotency_key: str | None = None
) -> tuple[Dossier, bool]:
    """Start a campaign with its plan (the policy's ``metrology.campaign.open``, asked by the
    generic submission through the plug-in's ``started_by``)."""
    return submission.submit_dossier(rt, actor, CODE, data, idempotency_key)


@dataclass(frozen=True)
class Campaign:
    dossier: Dossier
    findings: list[CampaignFinding]
    counts: Counts
    documents: list[Document]
    open_steps: list[WorkTask]


def _campaign(session: Session, dossier: Dossier) -> Campaign:
    assert dossier.id is not None
    rows = findings_of(session, dossier.id)
    documents = list(
        session.exec(
            select(Document).where(Document.dossier_id == dossier.id).order_by(col(Document.issued_at))
        ).all()
    )
    steps = list(
        session.exec(
            select(WorkTask).where(WorkTask.dossier_id == dossier.id, WorkTask.status == "open")
        ).all()
    )
    return Campaign(dossier, rows, counts_of(rows), documents, steps)


def campaign(rt: Runtime, actor: User, code: str) -> Campaign:
    permissions.require(actor, READ)
    with reading(rt.engine) as session:
        dossier = session.exec(
            select(Dossier).where(Dossier.code == code, Dossier.procedure_code == CODE)
        ).first()
        if dossier is None:
            raise not_found("đợt kiểm tra", "Inspection campaign")
        return _campaign(session, dossier)


def campaigns(rt: Runtime, actor: User, limit: int = 50, offset: int = 0) -> tuple[list[Campaign], int]:
    """The campaigns, newest first."""
    permissions.require(actor, READ)
    with reading(rt.engine) as session:
        query = select(Dossier).where(Dossier.procedure_code == CODE)
        total = session.exec(
            select(func.count()).select_from(Dossier).where(Dossier.procedure_code == CODE)
        ).one()
        rows = session.exec(query.order_by(col(Dossier.id).desc()).limit(limit).offset(offset)).all()
        return [_campaign(session, d) for d in rows], int(total)


def findings(
    rt: Runtime,
    actor: User,
    *,
    instrument_id: int | None = None,
    result: str | None = None,
    commune: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[CampaignFinding, str]]:
    """Findings across campaigns (an instrument's inspections, the violations of a commune),
    newest visit first, each with its campaign's code."""
    permissions.require(actor, READ)
    query = select(CampaignFinding, Dossier.code).join(Dossier, col(Dossier.id) == CampaignFinding.dossier_id)
    if instrument_id is not None:
        query = query.where(CampaignFinding.instrument_id == instrument_id)
    if result:
        query = query.where(CampaignFinding.result == result)
    if commune:
        query = query.where(CampaignFinding.site_commune == " ".join(commune.split()))
    with reading(rt.engine) as session:
        rows = session.exec(
            query.order_by(col(CampaignFinding.visited_on).desc(), col(CampaignFinding.id).desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return [(finding, code) for finding, code in rows]
