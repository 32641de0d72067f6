"""``/api/metrology-campaigns``: open a campaign (a specialist), list and read campaigns and their
findings (specialists and leaders). Approving, recording sites, handling violations and the report
are the campaign's tasks (``/api/tasks/{id}/claim`` and ``/complete``), as in every procedure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.bounds import PageNumber
from api.deps import Permitted, RuntimeDep
from api.errors import ERROR_RESPONSES
from workflows.clock import as_utc
from workflows.models import User
from workflows.procedures.metrology_campaign import campaigns as campaign_queries
from workflows.procedures.metrology_campaign.actions import OPEN, READ
from workflows.procedures.metrology_campaign.campaigns import Campaign
from workflows.procedures.metrology_campaign.findings import ACTION_LABELS, RESULT_LABELS
from workflows.procedures.metrology_campaign.models import RESULTS, CampaignFinding
from workflows.statuses import status_label

router = APIRouter(prefix="/api/metrology-campaigns", tags=["metrology-campaigns"], responses=ERROR_RESPONSES)

Opener = Annotated[User, Depends(Permitted(OPEN))]
Reader = Annotated[User, Depends(Permitted(READ))]
PAGE_SIZE = 50


class OpenIn(BaseModel):
    data: dict[str, Any]


def _label(pair: tuple[str, str]) -> dict[str, str]:
    return {"vi": pair[0], "en": pair[1]}


def finding_json(row: CampaignFinding, campaign_code: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        **({"campaign": campaign_code} if campaign_code else {}),
        "site_no": row.site_no,
        "finding_no": row.finding_no,
        "site_owner": row.site_owner,
        "site_address": row.site_address,
        "site_commune": row.site_commune,
        "visited_on": row.visited_on.isoformat(),
        "instrument_id": row.instrument_id,
        "in_registry": row.instrument_id is not None,
        "stamp_number": row.stamp_number,
        "kind": row.kind,
        "model": row.model,
        "serial_number": row.serial_number,
        "result": row.result,
        "result_label": _label(RESULT_LABELS[row.result]),
        "violation": row.violating,
        "note": row.note,
        "warning_id": row.warning_id,
        "action": row.action or None,
        "action_label": _label(ACTION_LABELS[row.action]) if row.action else None,
        "action_due": row.action_due.isoformat() if row.action_due else None,
        "action_note": row.action_note,
    }


def campaign_json(found: Campaign, whole: bool = True) -> dict[str, Any]:
    dossier = found.dossier
    data = dossier.data or {}
    counts = found.counts
    body: dict[str, Any] = {
        "code": dossier.code,
        "title": dossier.subject,
        "status": dossier.status,
        "status_label": _label(status_label(dossier.status)),
        "opened_at": as_utc(dossier.submitted_at).isoformat(),
        "completed_at": as_utc(dossier.completed_at).isoformat() if dossier.completed_at else None,
        "counts": {
            "sites": counts.sites,
            "findings": counts.findings,
            "compliant": counts.compliant,
            "violations": counts.violations,
            "handled": counts.handled,
            "warnings": counts.warnings,
        },
        "open_steps": [
            {
                "task_id": t.id,
                "step": t.spec_name,
                "name": {"vi": t.name, "en": t.name_en},
                "role": t.candidate_role,
            }
            for t in found.open_steps
        ],
    }
    if whole:
        body["plan"] = data.get("plan")
        body["report_due"] = data.get("report_due")
        body["findings"] = [finding_json(row) for row in found.findings]
        body["documents"] = [
            {
                "id": d.id,
                "kind": d.kind,
                "title": d.title,
                "number": d.number,
                "verification_code": d.verification_code,
                "url": f"/api/documents/{d.id}",
            }
            for d in found.documents
        ]
    return body


@router.post("", status_code=status.HTTP_201_CREATED)
def open_campaign(
    body: OpenIn,
    user: Opener,
    rt: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> Any:
    """Lập kế hoạch kiểm tra (chuyên viên) / Open an inspection campaign with its plan (a specialist).
    Repeating the same ``Idempotency-Key`` returns the first campaign (200)."""
    dossier, created = campaign_queries.open_campaign(rt, user, body.data, idempotency_key)
    out = campaign_json(campaign_queries.campaign(rt, user, dossier.code))
    return out if created else JSONResponse(out, status_code=status.HTTP_200_OK)


@router.get("")
def list_campaigns(user: Reader, rt: RuntimeDep, page: PageNumber = 1) -> dict[str, Any]:
    """Các đợt kiểm tra, mới nhất trước / The inspection campaigns, newest first."""
    found, total = campaign_queries.campaigns(rt, user, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return {"items": [campaign_json(c, whole=False) for c in found], "total": total, "page": page}


@router.get("/findings")
def list_findings(
    user: Reader,
    rt: RuntimeDep,
    instrument_id: Annotated[int | None, Query(ge=1, le=2147483647)] = None,
    result: Annotated[str | None, Query(pattern="^(" + "|".join(RESULTS) + ")$")] = None,
    commune: Annotated[str | None, Query(max_length=120)] = None,
    page: PageNumber = 1,
) -> dict[str, Any]:
    """Kết quả kiểm tra của mọi đợt (theo phương tiện đo, kết quả, xã) / Findings across campaigns."""
    rows = campaign_queries.findings(
        rt, user, instrument_id=instrument_id, result=result, commune=commune, offset=(page - 1) * 100
    )
    return {"items": [finding_json(row, code) for row, code in rows], "page": page}


@router.get("/{code}")
def get_campaign(code: Annotated[str, Path(max_length=60)], user: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """Một đợt kiểm tra: kế hoạch, kết quả từng phương tiện đo, xử lý, báo cáo / One campaign."""
    return campaign_json(campaign_queries.campaign(rt, user, code))
