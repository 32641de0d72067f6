"""Deploying a version of a procedure: an administrator's bundle of catalogue entry, models, forms.

A bundle is a folder or a zip::

    procedure.toml          code = "<procedure code>", effective_from = 2027-01-01, label_vi, label_en,
                            and any key of a [[procedure.versions]] table (bpmn_files, start_form,
                            step_budgets, legal_days, parameters…); what it leaves out is as the
                            installed version in force that day says it
    *.bpmn, *.dmn           every model file the version runs (its ``bpmn_files``)
    forms/*.schema.json     forms the version adds; a changed form gets a new file name (forms are
    forms/*.uischema.json   never shadowed: a running dossier keeps the form it was asked)
    *.toml                  parameters files the version names

It is checked as ``tdcflow check`` checks the installed catalogue (the file and the element at
fault are named), then recorded in one transaction: its model version (process id + content hash,
rule 11), the deployment row with every file, its hash, its effective date, who and when, and an
audit event. Nothing half-deployed is ever visible: other processes pick deployments up from the
table (``DeploymentWatch``) and every process unpacks a deployment's files into its data folder
under the bundle's hash before using them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
import threading
import time
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import select

from forms.registry import FormLibrary, FormSchemaError
from workflows import audit
from workflows.catalogue import Catalogue, CatalogueError, Procedure, office_day
from workflows.catalogue_loading import load_deployed_version
from workflows.clock import now
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import Dossier, ModelVersion, ProcedureDeployment, User

if TYPE_CHECKING:
    from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.deployments")

MANIFEST = "procedure.toml"
FORMS_FOLDER = "forms"
_SUFFIXES = (".toml", ".bpmn", ".dmn", ".json")
MAX_FILES = 200
MAX_BUNDLE_BYTES = 20 * 1024 * 1024  # unpacked
AUDIT_STREAM = "procedures"


def invalid_bundle(problem_vi: str, problem_en: str) -> InvalidInput:
    return InvalidInput(
        "Gói phiên bản thủ tục không hợp lệ.",
        "The procedure version bundle is not valid.",
        "invalid_bundle",
        [FieldProblem("bundle", problem_vi, problem_en, "invalid_bundle")],
    )


# --- reading a bundle ---------------------------------------------------------------------------


def read_folder(folder: Path) -> dict[str, str]:
    """The bundle in ``folder``: relative path -> text."""
    if not folder.is_dir():
        raise invalid_bundle(f"Không có thư mục {folder}.", f"No folder {folder}.")
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    }
    return _texts(files)


def read_zip(data: bytes) -> dict[str, str]:
    """The bundle in a zip (its files at the top, or in one folder at the top)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_BUNDLE_BYTES:
            raise invalid_bundle("Tệp zip quá lớn.", "The zip file is too large.")
        files = {
            m.filename: archive.read(m) for m in members if not PurePosixPath(m.filename).name.startswith(".")
        }
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise invalid_bundle(
            "Tệp không phải là tệp zip đọc được.", "The file is not a readable zip."
        ) from exc
    names = list(files)
    tops = {PurePosixPath(n).parts[0] for n in names}
    if MANIFEST not in names and len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in names):
        top = tops.pop()
        files = {str(PurePosixPath(n).relative_to(top)): b for n, b in files.items()}
    return _texts(files)


def _texts(files: Mapping[str, bytes]) -> dict[str, str]:
    if len(files) > MAX_FILES or sum(len(b) for b in files.values()) > MAX_BUNDLE_BYTES:
        raise invalid_bundle("Gói quá lớn.", "The bundle is too large.")
    texts: dict[str, str] = {}
    for name, data in files.items():
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or len(path.parts) > 2:
            raise invalid_bundle(
                f"Đường dẫn không được phép: {name}.", f"A path that is not allowed: {name}."
            )
        if len(path.parts) == 2 and path.parts[0] != FORMS_FOLDER:
            raise invalid_bundle(
                f"{name}: chỉ thư mục forms/ được phép.", f"{name}: only the forms/ folder is allowed."
            )
        if path.suffix not in _SUFFIXES:
            raise invalid_bundle(
                f"{name}: loại tệp không được nhận (chỉ .toml, .bpmn, .dmn, .json).",
                f"{name}: file type not accepted (only .toml, .bpmn, .dmn, .json).",
            )
        try:
            texts[path.as_posix()] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid_bundle(f"{name}: không phải văn bản UTF-8.", f"{name}: not UTF-8 text.") from exc
    if MANIFEST not in texts:
        raise invalid_bundle(f"Thiếu tệp {MANIFEST}.", f"The bundle has no {MANIFEST}.")
    return texts


def bundle_sha256(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def manifest_of(files: Mapping[str, str]) -> dict[str, Any]:
    try:
        return tomllib.loads(files[MANIFEST])
    except tomllib.TOMLDecodeError as exc:
        raise invalid_bundle(
            f"{MANIFEST}: không phải TOML hợp lệ: {exc}", f"{MANIFEST}: not valid TOML: {exc}"
        ) from exc


# --- checking and unpacking ---------------------------------------------------------------------


def unpack(files: Mapping[str, str], folder: Path) -> Path:
    """Write the bundle to ``folder`` (named by its hash) once, atomically: a folder that exists
    is complete."""
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=folder.parent))
    try:
        for name, text in files.items():
            target = scratch / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        try:
            os.rename(scratch, folder)
        except OSError:
            if not folder.is_dir():  # not another process's identical unpacking
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return folder


def _bundle_forms(files: Mapping[str, str], library: FormLibrary) -> dict[str, str]:
    """The bundle's forms that are new; one already known with the same content is left out, one
    known with other content is refused (a changed form takes a new file name)."""
    new = {}
    for name, text in files.items():
        if not name.startswith(f"{FORMS_FOLDER}/"):
            continue
        file_name = PurePosixPath(name).name
        known = library.file_of(file_name)
        if known is None:
            new[file_name] = text
        elif known.read_text(encoding="utf-8") != text:
            raise invalid_bundle(
                f"{name}: đã có biểu mẫu cùng tên với nội dung khác; biểu mẫu thay đổi phải có tên tệp mới.",
                f"{name}: a form of that name exists with other content; a changed form takes a new file name.",
            )
    return new


def load_version(
    catalogue: Catalogue,
    library: FormLibrary,
    files: Mapping[str, str],
    folder: Path,
    deployment_id: int | None,
) -> tuple[Procedure, FormLibrary, Path | None]:
    """The version a bundle (unpacked in ``folder``) describes, checked; the forms library with
    its new forms, and the folder of those forms (None when it brings none)."""
    raw = manifest_of(files)
    code = raw.pop("code", None)
    if not isinstance(code, str):
        raise invalid_bundle(
            f"{MANIFEST}: thiếu code (mã thủ tục).", f"{MANIFEST}: code (the procedure's code) is missing."
        )
    new_forms = _bundle_forms(files, library)
    forms_folder = folder / FORMS_FOLDER if new_forms else None
    if forms_folder is not None:
        for stale in [p for p in forms_folder.iterdir() if p.name not in new_forms]:
            stale.unlink()  # identical to a known form: the known one is used
        try:
            library = library.with_folder(forms_folder)
        except FormSchemaError as exc:
            raise invalid_bundle(f"{exc}", f"{exc}") from exc
    try:
        procedure = load_deployed_version(catalogue, code, raw, folder, library, deployment_id)
    except CatalogueError as exc:
        raise invalid_bundle(str(exc), str(exc)) from exc
    return procedure, library, forms_folder


@dataclass(frozen=True)
class Prepared:
    files: dict[str, str]
    sha256: str
    procedure: Procedure


def prepare(rt: Runtime, files: dict[str, str]) -> Prepared:
    """Check a bundle without deploying it (what the upload page shows before confirming)."""
    files = _texts({name: text.encode("utf-8") for name, text in files.items()})
    sha = bundle_sha256(files)
    with tempfile.TemporaryDirectory(prefix="tdcflow-bundle-") as scratch:
        folder = unpack(files, Path(scratch) / sha)
        procedure, _, _ = load_version(rt.catalogue, rt.forms, files, folder, None)
    return Prepared(files=files, sha256=sha, procedure=procedure)


def deploy(rt: Runtime, admin: User, files: dict[str, str], note: str = "") -> ProcedureDeployment:
    """Check and record a bundle; the version is in this process's catalogue on return."""
    prepared = prepare(rt, files)
    procedure = prepared.procedure
    if procedure.effective_from is not None and procedure.effective_from < _today():
        raise invalid_bundle(
            f"{MANIFEST}: effective_from {procedure.effective_from:%d/%m/%Y} đã qua; phiên bản chỉ có hiệu lực từ hôm nay trở đi.",
            f"{MANIFEST}: effective_from {procedure.effective_from:%d/%m/%Y} is past; a version takes effect from today on.",
        )
    model = procedure.model
    with transaction(rt.engine) as session:
        existing = session.exec(
            select(ProcedureDeployment).where(
                ProcedureDeployment.procedure_code == procedure.code,
                ProcedureDeployment.bundle_sha256 == prepared.sha256,
            )
        ).first()
        if existing is not None:
            withdrawn_vi = ", đã thu hồi; hãy sửa gói" if existing.withdrawn_at else ""
            withdrawn_en = ", withdrawn; change the bundle" if existing.withdrawn_at else ""
            raise Conflict(
                f"Gói này đã được triển khai (phiên bản d{existing.id}{withdrawn_vi}).",
                f"This bundle is already deployed (version d{existing.id}{withdrawn_en}).",
                "already_deployed",
            )
        version = session.exec(
            select(ModelVersion).where(
                ModelVersion.process_id == model.process_id, ModelVersion.content_hash == model.content_hash
            )
        ).first()
        if version is None:
            version = ModelVersion(
                process_id=model.process_id, content_hash=model.content_hash, sources=dict(model.sources)
            )
            session.add(version)
            session.flush()
        row = ProcedureDeployment(
            procedure_code=procedure.code,
            effective_from=procedure.effective_from,
            label_vi=procedure.version_label_vi[:500],
            label_en=procedure.version_label_en[:500],
            files=prepared.files,
            bundle_sha256=prepared.sha256,
            model_version_id=version.id,
            deployed_by_id=admin.id,
            note=note[:2000],
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            AUDIT_STREAM,
            "procedure_version_deployed",
            admin,
            {
                "procedure": procedure.code,
                "version": f"d{row.id}",
                "effective_from": procedure.effective_from.isoformat() if procedure.effective_from else None,
                "bundle_sha256": prepared.sha256,
                "model_version_id": version.id,
                "content_hash": model.content_hash,
                "files": sorted(prepared.files),
            },
        )
        session.expunge(row)
    log.info("Deployed %s version d%s (effective %s)", procedure.code, row.id, procedure.effective_from)
    rt.deployments.refresh(rt, force=True)
    return row


def withdraw(rt: Runtime, admin: User, deployment_id: int) -> ProcedureDeployment:
    """Take back a deployed version before it takes effect, while no dossier follows it (a mistaken
    deployment); it stays in the table for the record, out of the catalogue."""
    key = f"d{deployment_id}"
    with transaction(rt.engine) as session:
        row = session.exec(
            select(ProcedureDeployment).where(ProcedureDeployment.id == deployment_id).with_for_update()
        ).first()
        if row is None or row.withdrawn_at is not None:
            raise not_found("phiên bản đã triển khai", "Deployed version")
        if row.effective_from <= _today():
            raise Conflict(
                "Phiên bản đã có hiệu lực nên không thể thu hồi; hãy triển khai phiên bản thay thế.",
                "The version is already in force and cannot be withdrawn; deploy a replacement.",
                "already_in_force",
            )
        followers = session.exec(
            select(func.count())
            .select_from(Dossier)
            .where(Dossier.procedure_code == row.procedure_code, Dossier.rules_version == key)
        ).one()
        if followers:
            raise Conflict(
                f"Có {followers} hồ sơ theo phiên bản này nên không thể thu hồi.",
                f"{followers} dossiers follow this version, so it cannot be withdrawn.",
                "version_in_use",
            )
        row.withdrawn_at = now()
        row.withdrawn_by_id = admin.id
        session.add(row)
        audit.record(
            session,
            AUDIT_STREAM,
            "procedure_version_withdrawn",
            admin,
            {"procedure": row.procedure_code, "version": key, "bundle_sha256": row.bundle_sha256},
        )
        session.flush()
        session.expunge(row)
    rt.deployments.refresh(rt, force=True)
    return row


def _today() -> date:
    return office_day(now())


# --- every process: the deployments in the catalogue --------------------------------------------


@dataclass
class DeploymentWatch:
    """What this process has loaded of the ``procedure_deployment`` table. A deploy in this process
    refreshes at once; a deploy in another is seen within ``interval`` seconds (and at once by a
    submission, which asks with ``force``)."""

    interval: float = 2.0
    seen: tuple[int, int, int] = (0, 0, 0)  # (count, max id, withdrawn)
    checked_at: float = field(default=0.0)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self, rt: Runtime, force: bool = False) -> None:
        if not force and time.monotonic() - self.checked_at < self.interval:
            return
        with reading(rt.engine) as session:
            count, top, withdrawn = session.exec(
                select(
                    func.count(ProcedureDeployment.id),
                    func.max(ProcedureDeployment.id),
                    func.count(ProcedureDeployment.withdrawn_at),
                )
            ).one()
        self.checked_at = time.monotonic()
        mark = (int(count or 0), int(top or 0), int(withdrawn or 0))
        if mark == self.seen:
            return
        with self._lock:
            if mark != self.seen:
                load_all(rt)
                self.seen = mark


def load_all(rt: Runtime) -> None:
    """Put every deployed version in this process's catalogue, forms and models."""
    with reading(rt.engine) as session:
        rows = list(
            session.exec(
                select(ProcedureDeployment)
                .where(ProcedureDeployment.withdrawn_at.is_(None))
                .order_by(ProcedureDeployment.id)
            ).all()
        )
    deployed = []
    library = rt.forms
    installed = rt.installed_catalogue
    for row in rows:
        folder = unpack(row.files, deployments_folder(rt) / row.bundle_sha256)
        try:
            procedure, library_after, forms_folder = load_version(
                installed, library, row.files, folder, row.id
            )
        except InvalidInput as exc:
            # Deployed once, it was valid: a later software release may refuse it. Its dossiers
            # keep their model version; the version is left out of the catalogue and logged.
            log.error(
                "Deployed version d%s of %s cannot be loaded: %s", row.id, row.procedure_code, exc.fields
            )
            continue
        if forms_folder is not None:
            rt.forms.add_folder(forms_folder)
            library = rt.forms
        del library_after
        rt.models.put(row.model_version_id, procedure.model)
        rt.model_versions[(procedure.code, procedure.version_key)] = row.model_version_id
        deployed.append(procedure)
    rt.set_catalogue(installed.with_deployed(deployed))


def deployments_folder(rt: Runtime) -> Path:
    return rt.settings.data_dir / "deployments"


# --- what the administrator sees ----------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    procedure: Procedure
    deployment: ProcedureDeployment | None
    deployed_by: str | None
    model_version_id: int
    running: int
    finished: int
    in_force_today: bool

    @property
    def withdrawable(self) -> bool:
        """A deployed version not yet in force that no dossier follows may be taken back."""
        starts = self.procedure.effective_from
        return (
            self.deployment is not None
            and not (self.running or self.finished)
            and bool(starts and starts > _today())
        )


def overview(rt: Runtime) -> dict[str, list[VersionRow]]:
    """Every version of every procedure (installed and deployed), oldest first, with how many
    dossiers run on it and how many have ended on it."""
    rt.deployments.refresh(rt)
    with reading(rt.engine) as session:
        counts: dict[tuple[str, str | None, bool], int] = {}
        for code, key, done, n in session.exec(
            select(
                Dossier.procedure_code, Dossier.rules_version, Dossier.completed_at.is_not(None), func.count()
            ).group_by(Dossier.procedure_code, Dossier.rules_version, Dossier.completed_at.is_not(None))
        ).all():
            counts[(code, key, bool(done))] = n
        rows = {r.id: r for r in session.exec(select(ProcedureDeployment)).all()}
        names = (
            {
                u.id: u.full_name or u.email
                for u in session.exec(
                    select(User).where(
                        User.id.in_([r.deployed_by_id for r in rows.values() if r.deployed_by_id])
                    )
                ).all()
            }
            if rows
            else {}
        )
    today = _today()
    result: dict[str, list[VersionRow]] = {}
    for code, versions in rt.catalogue.versions.items():
        items = []
        for procedure in versions:
            row = rows.get(procedure.deployment_id) if procedure.deployment_id else None
            key = procedure.version_key
            running = counts.get((code, key, False), 0)
            finished = counts.get((code, key, True), 0)
            items.append(
                VersionRow(
                    procedure=procedure,
                    deployment=row,
                    deployed_by=names.get(row.deployed_by_id) if row and row.deployed_by_id else None,
                    model_version_id=rt.model_version_of(procedure),
                    running=running,
                    finished=finished,
                    in_force_today=procedure.in_force_on(today),
                )
            )
        result[code] = items
    return result


def withdrawn(rt: Runtime) -> list[ProcedureDeployment]:
    """The deployments taken back before they took effect, newest first."""
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(ProcedureDeployment)
                .where(ProcedureDeployment.withdrawn_at.is_not(None))
                .order_by(ProcedureDeployment.id.desc())
            ).all()
        )


def version_of(rt: Runtime, code: str, key: str) -> Procedure:
    rt.deployments.refresh(rt, force=True)
    found = rt.catalogue.version(code, key)
    if found is None:
        raise not_found("phiên bản thủ tục", "Procedure version")
    return found
