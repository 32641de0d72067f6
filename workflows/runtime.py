"""What one running tdcflow holds: settings, database, catalogue, forms, models, storage, calendar.

Built once at start-up (``build_runtime``); commands and queries receive it. Building it parses and
checks every model and form, and registers each model version in the database (rule 11).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from forms.registry import FormLibrary, default_registry
from workflows import audit_anchor, calendar_entries
from workflows.accounts import configure_password_hashing
from workflows.calendar import WorkingCalendar, calendar_for, get_calendar
from workflows.catalogue import Catalogue, Procedure, office_day
from workflows.catalogue_loading import load_catalogue
from workflows.config import Settings, get_settings
from workflows.db import check_schema, create_schema, make_engine, reading, transaction
from workflows.deployments import DeploymentWatch
from workflows.engine import ProcessModel, parse_model
from workflows.errors import not_found
from workflows.models import Dossier, ModelVersion
from workflows.storage import BlobStore


@dataclass
class ModelCache:
    """Parsed models by version id. Current versions are loaded at start-up, old ones on demand."""

    engine: Engine
    _models: dict[int, ProcessModel] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, version_id: int, model: ProcessModel) -> None:
        self._models[version_id] = model

    def get(self, version_id: int) -> ProcessModel:
        model = self._models.get(version_id)
        if model is not None:
            return model
        with self._lock:
            if version_id not in self._models:
                # A read on its own connection: commands call this while holding the write lock.
                with reading(self.engine) as session:
                    row = session.get(ModelVersion, version_id)
                    if row is None:
                        raise not_found("phiên bản quy trình", "Process model version")
                    self._models[version_id] = parse_model(row.process_id, row.sources)
            return self._models[version_id]


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    # The versions installed with the software (the package's bpmn/ folder); ``catalogue`` adds
    # the administrator's deployed ones (workflows.deployments).
    installed_catalogue: Catalogue
    forms: FormLibrary
    models: ModelCache
    store: BlobStore
    calendar: WorkingCalendar
    # (procedure code, rules version key) -> the model version id its dossiers start on
    model_versions: dict[tuple[str, str], int]
    # Services opened on first use and kept for the process: the document signer (its PKCS#12
    # key read once, its PKCS#11 session kept open), keyed by name.
    services: dict[str, Any] = field(default_factory=dict)
    deployments: DeploymentWatch = field(default_factory=DeploymentWatch)
    _catalogue: Catalogue | None = None

    @property
    def catalogue(self) -> Catalogue:
        """Every version of every procedure: installed and deployed (another process's deployment
        is seen within a few seconds, ``DeploymentWatch``)."""
        self.deployments.refresh(self)
        return self._catalogue or self.installed_catalogue

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    @property
    def current_versions(self) -> dict[str, int]:
        """Procedure code -> the model version id of the rules in force today."""
        return {p.code: self.model_version_of(p) for p in self.catalogue.procedures.values()}

    def model_version_of(self, procedure: Procedure) -> int:
        return self.model_versions[(procedure.code, procedure.version_key)]

    def procedure(self, code: str) -> Procedure:
        """The procedure as it stands today (the version in force, else the nearest)."""
        procedure = self.catalogue.procedures.get(code)
        if procedure is None:
            raise not_found("thủ tục", "Procedure")
        return procedure

    def public_procedure(self, code: str) -> Procedure:
        """As :meth:`procedure`, for the public and the businesses: an internal procedure (started
        by the staff, e.g. an inspection campaign) is not found."""
        procedure = self.procedure(code)
        if procedure.internal:
            raise not_found("thủ tục", "Procedure")
        return procedure

    def procedure_for_new_dossier(self, code: str, at: datetime) -> Procedure | None:
        """The version a dossier submitted at ``at`` follows: the one in force on the day it
        counts as received (a submission out of office hours counts from the next working
        period, Decree 118/2025 art. on time counting), or None when none is in force then."""
        self.deployments.refresh(self, force=True)
        return self.catalogue.get(code, office_day(self.calendar.receipt_instant(at)))

    def procedure_of(self, dossier: Dossier) -> Procedure:
        """The version of its procedure a dossier follows (DESIGN: rules with effective dates)."""
        procedure = self.catalogue.for_dossier(dossier)
        if procedure is not None and procedure.version_key != (
            dossier.rules_version or procedure.version_key
        ):
            # A version deployed or migrated to by another process moments ago.
            self.deployments.refresh(self, force=True)
            procedure = self.catalogue.for_dossier(dossier)
        if procedure is None:
            raise not_found("thủ tục", "Procedure")
        return procedure


def register_model_versions(
    engine: Engine, catalogue: Catalogue, cache: ModelCache
) -> dict[tuple[str, str], int]:
    current: dict[tuple[str, str], int] = {}
    with transaction(engine) as session:
        for procedure in catalogue.all_versions():
            model = procedure.model
            row = session.exec(
                select(ModelVersion).where(
                    ModelVersion.process_id == model.process_id,
                    ModelVersion.content_hash == model.content_hash,
                )
            ).first()
            if row is None:
                row = ModelVersion(
                    process_id=model.process_id, content_hash=model.content_hash, sources=dict(model.sources)
                )
                session.add(row)
                session.flush()
            cache.put(row.id, model)
            current[(procedure.code, procedure.version_key)] = row.id
    return current


def build_runtime(settings: Settings | None = None, create_tables: bool = True) -> Runtime:
    """The runtime on ``settings``' database. ``create_tables``: a database with none of tdcflow's
    tables gets them (tests, a throw-away database). The ``tdcflow`` command migrates the database
    with Alembic first and passes False. Either way a database lacking tables or columns is
    refused (``SchemaOutOfDate``)."""
    settings = settings or get_settings()
    configure_password_hashing(settings.argon2_time_cost, settings.argon2_memory_kib)
    forms = FormLibrary(default_registry())
    catalogue = load_catalogue(settings.bpmn_dir, forms)
    engine = make_engine(settings.database_url, settings.sqlite_busy_timeout_seconds)
    audit_anchor.install_key(engine, audit_anchor.derive_key(settings.signing_key()))
    if create_tables:
        create_schema(engine)
    else:
        check_schema(engine)
    audit_anchor.sign_unsigned(engine)
    cache = ModelCache(engine)
    current = register_model_versions(engine, catalogue, cache)
    calendar = get_calendar() if settings is get_settings() else calendar_for(settings)
    rt = Runtime(
        settings=settings,
        engine=engine,
        installed_catalogue=catalogue,
        forms=forms,
        models=cache,
        store=BlobStore(settings.storage_path),
        calendar=calendar,
        model_versions=current,
    )
    calendar_entries.import_file_once(rt)
    rt.deployments.refresh(rt, force=True)
    return rt
