"""Procedure versions and dossier migrations through the API (administrator only): list every
version with its dossiers, deploy a bundle (zip), compare two versions, dry-run and run a batch
migration of running dossiers, undo it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.uploads import read_limited
from workflows import deployments, instance_migration, permissions
from workflows.catalogue import Procedure
from workflows.instance_migration import DryRun, RunReport, Selection
from workflows.models import User
from workflows.version_diff import diff_versions

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES)

Admin = Annotated[User, Depends(Permitted(permissions.PROCEDURE_VERSIONS_MANAGE))]
StepId = Annotated[str, Field(min_length=1, max_length=200)]


def version_out(procedure: Procedure) -> dict[str, Any]:
    return {
        "key": procedure.version_key,
        "label_vi": procedure.version_label_vi,
        "label_en": procedure.version_label_en,
        "effective_from": procedure.effective_from,
        "effective_until": procedure.effective_until,
        "deployment_id": procedure.deployment_id,
        "process_id": procedure.process_id,
        "content_hash": procedure.model.content_hash,
    }


@router.get("/procedure-versions")
def list_versions(admin: Admin, rt: RuntimeDep) -> dict[str, Any]:
    """Mọi phiên bản của mọi thủ tục / Every version of every procedure, with the dossiers running
    on it and ended on it; ``installed``: came with the software, else deployed (who, when)."""
    overview = deployments.overview(rt)
    return {
        code: [
            {
                **version_out(row.procedure),
                "installed": row.deployment is None,
                "deployed_by": row.deployed_by,
                "deployed_at": row.deployment.deployed_at if row.deployment else None,
                "bundle_sha256": row.deployment.bundle_sha256 if row.deployment else None,
                "model_version_id": row.model_version_id,
                "running": row.running,
                "finished": row.finished,
                "in_force_today": row.in_force_today,
            }
            for row in rows
        ]
        for code, rows in overview.items()
    }


@router.post("/procedure-versions", status_code=201)
async def deploy(
    admin: Admin,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="Gói phiên bản (.zip) / The version bundle (.zip)")],
    note: Annotated[str, Form(max_length=2000)] = "",
    check_only: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Triển khai phiên bản thủ tục / Deploy a procedure version from a zip bundle
    (``procedure.toml``, models, ``forms/``); 422 on ``bundle`` naming the file and element at
    fault, 409 when the same bundle is deployed already. ``check_only``: check, deploy nothing."""
    content = await read_limited(file, deployments.MAX_BUNDLE_BYTES)
    files = deployments.read_zip(content)
    if check_only:
        prepared = await run_in_threadpool(deployments.prepare, rt, files)
        return {"checked": True, "bundle_sha256": prepared.sha256, **version_out(prepared.procedure)}
    row = await run_in_threadpool(deployments.deploy, rt, admin, files, note)
    return {"checked": True, **version_out(rt.catalogue.version(row.procedure_code, f"d{row.id}"))}


@router.post("/procedure-versions/{deployment_id}/withdraw")
def withdraw(deployment_id: RowId, admin: Admin, rt: RuntimeDep) -> dict[str, Any]:
    """Thu hồi phiên bản chưa có hiệu lực / Withdraw a deployed version before it takes effect
    (409 ``already_in_force`` or ``version_in_use`` when dossiers follow it)."""
    row = deployments.withdraw(rt, admin, deployment_id)
    return {"key": f"d{row.id}", "withdrawn_at": row.withdrawn_at}


@router.get("/procedure-versions/{code}/diff")
def diff(
    code: Annotated[str, Path(max_length=60)],
    a: Annotated[str, Query(max_length=20)],
    b: Annotated[str, Query(max_length=20)],
    admin: Admin,
    rt: RuntimeDep,
) -> dict[str, Any]:
    """So sánh hai phiên bản / What changes from version ``a`` to version ``b`` (their keys)."""
    return _diff(rt, code, a, b)


def _diff(rt: Any, code: str, a: str, b: str) -> dict[str, Any]:
    first, second = deployments.version_of(rt, code, a), deployments.version_of(rt, code, b)
    result = diff_versions(first, second)
    return {
        "a": version_out(first),
        "b": version_out(second),
        "steps_added": [vars(s) for s in result.steps_added],
        "steps_removed": [vars(s) for s in result.steps_removed],
        "steps_changed": [vars(c) for c in result.steps_changed],
        "guessed_renames": result.guessed_renames,
        "operators_added": result.operators_added,
        "operators_removed": result.operators_removed,
        "forms_added": result.forms_added,
        "forms_removed": result.forms_removed,
        "rules_added": result.rules_added,
        "rules_removed": result.rules_removed,
        "rules_changed": result.rules_changed,
        "figures_changed": [vars(c) for c in result.figures_changed],
    }


class MigrationIn(BaseModel):
    """Which dossiers move, from which version to which, with which step mapping."""

    model_config = ConfigDict(extra="forbid")

    procedure: str = Field(min_length=1, max_length=60)
    source: str = Field(max_length=20, description="phiên bản nguồn / the source version's key")
    target: str = Field(max_length=20, description="phiên bản đích / the target version's key")
    step: str | None = Field(default=None, max_length=200)
    status: str | None = Field(default=None, max_length=40)
    mapping: dict[StepId, StepId] = Field(default_factory=dict, max_length=200)


class MigrationRunIn(MigrationIn):
    dossiers: dict[int, int] = Field(
        max_length=100_000,
        description="hồ sơ → phiên bản đã thấy khi chạy thử / dossier id → the instance version the dry run saw",
    )


def _selection(body: MigrationIn) -> Selection:
    return Selection(body.procedure, body.source, body.target, body.step or None, body.status or None)


def dry_run_out(result: DryRun) -> dict[str, Any]:
    return {
        "source": version_out(result.source),
        "target": version_out(result.target),
        "mapping": result.mapping,
        "counts": result.counts,
        "proposed_mapping": result.proposed_mapping,
        "unmatched": result.unmatched,
        "dossiers": [
            {
                "id": item.dossier_id,
                "code": item.code,
                "status": item.status,
                "current_step": item.current_step,
                "instance_version": item.instance_version,
                "verdict": item.check.verdict,
                "guesses": dict(item.check.guesses),
                "unmatched": list(item.check.unmatched),
                "restarted_timers": list(item.check.restarted_timers),
                "reason_vi": item.check.reason_vi,
                "reason_en": item.check.reason_en,
            }
            for item in result.items
        ],
    }


def report_out(report: RunReport) -> dict[str, Any]:
    return {
        "batch": report.batch,
        "counts": {o: report.count(o) for o in ("migrated", "moved", "impossible")},
        "dossiers": [{"id": i, "outcome": o, "reason": why} for i, (o, why) in report.outcomes.items()],
    }


@router.post("/migrations/dry-run")
def dry_run(body: MigrationIn, admin: Admin, rt: RuntimeDep) -> dict[str, Any]:
    """Chạy thử / The dry run: per dossier, migratable as is, needs a mapping, or impossible."""
    return dry_run_out(instance_migration.dry_run(rt, _selection(body), body.mapping))


@router.post("/migrations")
def run(body: MigrationRunIn, admin: Admin, rt: RuntimeDep) -> dict[str, Any]:
    """Chuyển hồ sơ / Run the migration for the dossiers the dry run saw (each in its own
    transaction; one that moved since is reported as ``moved``, never forced)."""
    return report_out(instance_migration.run(rt, admin, _selection(body), body.mapping, body.dossiers))


@router.post("/migrations/{migration_id}/undo")
def undo(migration_id: RowId, admin: Admin, rt: RuntimeDep) -> dict[str, Any]:
    """Hoàn tác cho một hồ sơ / Undo one dossier's migration (409 ``moved_since`` when the dossier
    has moved on)."""
    row = instance_migration.undo(rt, admin, migration_id)
    return {"id": row.id, "dossier_id": row.dossier_id, "undone_at": row.undone_at}


@router.post("/migrations/batches/{batch}/undo")
def undo_batch(batch: Annotated[str, Path(max_length=40)], admin: Admin, rt: RuntimeDep) -> dict[str, Any]:
    """Hoàn tác cả đợt / Undo every dossier of a batch that has not moved since."""
    result = instance_migration.undo_batch(rt, admin, batch)
    return {"dossiers": [{"id": i, "undone": ok, "reason": why} for i, (ok, why) in result.items()]}
