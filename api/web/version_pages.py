"""Administration of procedure versions: every version with its dossiers, deploying a bundle
(checked first), the diff of two versions, and moving running dossiers with a dry run, the step
mapping, the run's report and undo."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from api.deps import RowId, RuntimeDep
from api.uploads import read_limited
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import PagePermitted
from api.web.templating import render
from workflows import deployments, instance_migration, permissions
from workflows.catalogue import Procedure
from workflows.errors import DomainError, FieldProblem, InvalidInput, UploadRejected
from workflows.instance_migration import Selection
from workflows.models import User
from workflows.statuses import status_label
from workflows.version_diff import diff_versions

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
VersionsAdmin = Annotated[User, Depends(PagePermitted(permissions.PROCEDURE_VERSIONS_MANAGE))]
MAPPING_PREFIX = "map:"


def _problems(exc: DomainError) -> list[tuple[str, str]]:
    return [(p.message, p.message_en) for p in exc.fields] or [(exc.message, exc.message_en)]


def _versions_page(request: Request, rt: Any, user: User, status_code: int = 200, **context: Any) -> Response:
    values: dict[str, Any] = {
        "overview": deployments.overview(rt),
        "names": {code: (p.name_vi, p.name_en) for code, p in rt.catalogue.procedures.items()},
        "flash": None,
        "problems": [],
        "note": "",
        "withdrawn": deployments.withdrawn(rt),
    }
    values.update(context)
    return render(request, "admin_versions.html", user, values, status_code=status_code)


@router.get("/admin/versions")
def versions(request: Request, rt: RuntimeDep, user: VersionsAdmin) -> Response:
    return _versions_page(request, rt, user)


@router.post("/admin/versions", dependencies=[Csrf])
async def deploy(request: Request, rt: RuntimeDep, user: VersionsAdmin) -> Response:
    form = await request.form()
    note = str(form.get("note", ""))[:2000]
    check_only = form.get("action") == "check"
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _versions_page(
            request, rt, user, 422, problems=[(i18n._("Hãy chọn tệp gói phiên bản (.zip)."), "")], note=note
        )
    try:
        files = deployments.read_zip(await read_limited(upload, deployments.MAX_BUNDLE_BYTES))
        if check_only:
            prepared = await run_in_threadpool(deployments.prepare, rt, files)
            flash = i18n._(
                "Gói hợp lệ: %(code)s, hiệu lực từ %(day)s. Chưa triển khai.",
                code=prepared.procedure.code,
                day=f"{prepared.procedure.effective_from:%d/%m/%Y}",
            )
            return _versions_page(request, rt, user, flash=flash, note=note)
        row = await run_in_threadpool(deployments.deploy, rt, user, files, note)
    except UploadRejected as exc:
        return _versions_page(request, rt, user, 413, problems=_problems(exc), note=note)
    except DomainError as exc:
        return _versions_page(
            request,
            rt,
            user,
            409 if exc.code == "already_deployed" else 422,
            problems=_problems(exc),
            note=note,
        )
    flash = i18n._(
        "Đã triển khai phiên bản d%(id)s của %(code)s, hiệu lực từ %(day)s.",
        id=row.id,
        code=row.procedure_code,
        day=f"{row.effective_from:%d/%m/%Y}",
    )
    return _versions_page(request, rt, user, flash=flash)


@router.post("/admin/versions/{deployment_id}/withdraw", dependencies=[Csrf])
def withdraw(deployment_id: RowId, request: Request, rt: RuntimeDep, user: VersionsAdmin) -> Response:
    try:
        row = deployments.withdraw(rt, user, deployment_id)
    except DomainError as exc:
        return _versions_page(
            request, rt, user, 409 if exc.code != "not_found" else 404, problems=_problems(exc)
        )
    return _versions_page(request, rt, user, flash=i18n._("Đã thu hồi phiên bản d%(id)s.", id=row.id))


@router.get("/admin/versions/{code}/diff")
def diff(
    code: str, request: Request, rt: RuntimeDep, user: VersionsAdmin, a: str = "", b: str = ""
) -> Response:
    first, second = (
        deployments.version_of(rt, code[:60], a[:20]),
        deployments.version_of(rt, code[:60], b[:20]),
    )
    return render(
        request,
        "admin_version_diff.html",
        user,
        {"a": first, "b": second, "diff": diff_versions(first, second), "code": first.code},
    )


# --- migrations ---------------------------------------------------------------------------------


def _choices(rt: Any) -> dict[str, list[Procedure]]:
    rt.deployments.refresh(rt, force=True)
    return {code: list(versions) for code, versions in rt.catalogue.versions.items()}


def _migration_page(
    request: Request, rt: Any, user: User, status_code: int = 200, **context: Any
) -> Response:
    values: dict[str, Any] = {
        "choices": _choices(rt),
        "names": {code: (p.name_vi, p.name_en) for code, p in rt.catalogue.procedures.items()},
        "values": {},
        "problems": [],
        "dry_run": None,
        "report": None,
        "batches": instance_migration.batches(rt),
        "flash": None,
        "status_label": status_label,
        "mapping_rows": [],
        "target_steps": [],
        "source_steps": [],
        "seen": "",
    }
    values.update(context)
    return render(request, "admin_migrations.html", user, values, status_code=status_code)


@router.get("/admin/migrations")
def migrations(
    request: Request,
    rt: RuntimeDep,
    user: VersionsAdmin,
    procedure: str = "",
    source: str = "",
    target: str = "",
    undone: int = -1,
) -> Response:
    flash = i18n._("Đã hoàn tác %(n)s hồ sơ.", n=undone) if undone >= 0 else None
    values = {
        "procedure": procedure[:60],
        "source": source[:20],
        "target": target[:20],
        "step": "",
        "status": "",
    }
    return _migration_page(request, rt, user, values=values, flash=flash, **_steps(rt, values))


def _values(form: FormData) -> dict[str, str]:
    return {
        k: str(form.get(k, "")).strip()[:200] for k in ("procedure", "source", "target", "step", "status")
    }


def _mapping(form: FormData) -> dict[str, str]:
    return {
        name.removeprefix(MAPPING_PREFIX): str(value).strip()
        for name, value in form.multi_items()
        if name.startswith(MAPPING_PREFIX) and isinstance(value, str) and value.strip()
    }


def _selection(values: dict[str, str]) -> Selection:
    if not values["procedure"]:
        raise InvalidInput(
            "Hãy chọn thủ tục.",
            "Choose a procedure.",
            "validation_error",
            [FieldProblem("procedure", "Hãy chọn thủ tục.", "Choose a procedure.", "required")],
        )
    return Selection(
        values["procedure"],
        values["source"],
        values["target"],
        values["step"] or None,
        values["status"] or None,
    )


def _steps(rt: Any, values: dict[str, str]) -> dict[str, Any]:
    """The user tasks of the chosen versions, for the step filter and the mapping's choices."""
    source = rt.catalogue.version(values.get("procedure", ""), values.get("source", ""))
    target = rt.catalogue.version(values.get("procedure", ""), values.get("target", ""))
    return {
        "source_steps": [(t.spec_name, t.name) for t in source.model.user_task_specs()] if source else [],
        "target_steps": sorted(target.model.element_ids()) if target else [],
    }


@router.post("/admin/migrations/dry-run", dependencies=[Csrf])
async def dry_run(request: Request, rt: RuntimeDep, user: VersionsAdmin) -> Response:
    form = await request.form()
    values, mapping = _values(form), _mapping(form)
    try:
        result = await run_in_threadpool(instance_migration.dry_run, rt, _selection(values), mapping)
    except DomainError as exc:
        return _migration_page(
            request, rt, user, 422, values=values, problems=_problems(exc), **_steps(rt, values)
        )
    rows = sorted(set(result.proposed_mapping) | set(result.unmatched) | set(mapping))
    proposals = {**result.proposed_mapping, **mapping}
    return _migration_page(
        request,
        rt,
        user,
        values=values,
        dry_run=result,
        mapping_rows=[(step, proposals.get(step, "")) for step in rows],
        seen=json.dumps(result.seen_versions),
        **_steps(rt, values),
    )


@router.post("/admin/migrations/run", dependencies=[Csrf])
async def run(request: Request, rt: RuntimeDep, user: VersionsAdmin) -> Response:
    form = await request.form()
    values, mapping = _values(form), _mapping(form)
    try:
        seen = {int(k): int(v) for k, v in json.loads(str(form.get("seen", "{}"))[:2_000_000]).items()}
    except (ValueError, TypeError, AttributeError):
        problem = (i18n._("Hãy chạy thử lại trước khi chuyển."), "")
        return _migration_page(
            request, rt, user, 422, values=values, problems=[problem], **_steps(rt, values)
        )
    try:
        report = await run_in_threadpool(instance_migration.run, rt, user, _selection(values), mapping, seen)
    except DomainError as exc:
        return _migration_page(
            request, rt, user, 422, values=values, problems=_problems(exc), **_steps(rt, values)
        )
    return _migration_page(request, rt, user, values=values, report=report, **_steps(rt, values))


@router.post("/admin/migrations/batches/{batch}/undo", dependencies=[Csrf])
def undo_batch(batch: str, rt: RuntimeDep, user: VersionsAdmin) -> Response:
    result = instance_migration.undo_batch(rt, user, batch[:40])
    undone = sum(1 for ok, _ in result.values() if ok)
    return RedirectResponse(f"/admin/migrations?undone={undone}", status_code=303)
