"""The database tables (SQLModel). Every instant is stored as aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import DDL, JSON, Column, DateTime, Index, Text, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from workflows.clock import now
from workflows.folding import search_key
from workflows.packed import PackedText
from workflows.plugins import plugin_roles

# The roles of every procedure; a procedure's own (e.g. a council) come with its plug-in.
CORE_ROLE_LABELS: dict[str, tuple[str, str]] = {
    "business": ("Tổ chức, doanh nghiệp", "Business"),
    "clerk": ("Bộ phận một cửa", "One-stop desk"),
    "specialist": ("Chuyên viên", "Specialist"),
    "leader": ("Lãnh đạo Sở", "Leader"),
    "admin": ("Quản trị", "Administrator"),
}


def role_labels() -> dict[str, tuple[str, str]]:
    """Every role known now: the core's and those of the plug-ins loaded."""
    return {**CORE_ROLE_LABELS, **plugin_roles()}


def known_roles() -> tuple[str, ...]:
    return tuple(role_labels())


def officer_roles() -> tuple[str, ...]:
    return tuple(role for role in role_labels() if role != "business")


def _instant(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def _created() -> Any:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False))


# A business account's tax code: ``unverified`` until an officer checks it against the business
# registration, then ``verified`` (one account per tax code at most) or ``rejected``.
TAX_CODE_STATES = ("unverified", "verified", "rejected")
VERIFIED_ONLY = "tax_code_status = 'verified'"


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    # Several accounts may hold one tax code while it is unverified; the database itself refuses a
    # second verified one (a partial unique index, on SQLite and PostgreSQL alike).
    __table_args__ = (
        Index(
            "uq_app_user_verified_tax_code",
            "tax_code",
            unique=True,
            sqlite_where=text(VERIFIED_ONLY),
            postgresql_where=text(VERIFIED_ONLY),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=256)
    full_name: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tax_code: str | None = Field(default=None, max_length=14, index=True)
    # The tax code's verification (None for an account without a tax code): its state, who decided
    # and when, and what the decision rests on (verified: the evidence checked, e.g. "GCN ĐKDN số
    # …, ngày …" or a look-up on the national business registration portal; rejected: the reason).
    tax_code_status: str | None = Field(default=None, max_length=12)
    tax_code_decided_at: datetime | None = _instant(nullable=True)
    tax_code_decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    tax_code_note: str | None = Field(default=None, max_length=500)
    organisation_name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=30)
    job_title: str | None = Field(default=None, max_length=120)
    is_active: bool = True
    # Raised to end every session of the account at once (a password change, a logout, a lock):
    # an access token or session cookie carries the value it was issued with and is refused
    # once it differs.
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # When the owner proved the mailbox is theirs (a verification or reset link opened), or an
    # administrator vouched for it (officers, the demo). A business account cannot log in before.
    email_verified_at: datetime | None = _instant(nullable=True)
    created_at: datetime = _created()

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_officer(self) -> bool:
        return any(role != "business" for role in self.roles)

    @property
    def display_name(self) -> str:
        return self.organisation_name or self.full_name


class UserSession(SQLModel, table=True):
    """One login: the token or cookie it gave carries its id (claim ``sid``) and is refused once
    the row is ended (or gone: expired rows are purged). ``last_seen_at`` moves at most every few
    minutes (``session_touch_minutes``), not at every request."""

    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=43)  # random, not guessable
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    client_address: str | None = Field(default=None, max_length=64)
    # "Firefox 128 · Windows", not the raw User-Agent header.
    client_summary: str = Field(default="", max_length=120)
    ended_at: datetime | None = _instant(nullable=True)
    # logout, ended_by_user, ended_all, password_changed, password_reset, deactivated
    ended_why: str | None = Field(default=None, max_length=40)


class AccountToken(SQLModel, table=True):
    """A single-use secret e-mailed to an account's owner: a password reset or an e-mail
    verification link. Only its SHA-256 is stored; a new one of the same purpose spends the
    older ones. ``details`` holds a registration waiting for its e-mail to be verified (when it
    claims an existing account without password and roles)."""

    __tablename__ = "account_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    purpose: str = Field(max_length=30)  # password_reset | email_verification
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    spent_at: datetime | None = _instant(nullable=True)
    spent_why: str | None = Field(default=None, max_length=30)  # used | replaced
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ModelVersion(SQLModel, table=True):
    """A registered version of a process model: its sources are kept so old dossiers still run."""

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("process_id", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    process_id: str = Field(max_length=120, index=True)
    content_hash: str = Field(max_length=64)
    sources: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()


class Dossier(SQLModel, table=True):
    """A dossier's searchable fields, kept in step with its process instance by every command."""

    __tablename__ = "dossier"
    __table_args__ = (
        UniqueConstraint("applicant_id", "idempotency_key"),
        Index("ix_dossier_status_submitted", "status", "submitted_at"),
        # The lists' order (newest first): a page is read off the index, not sorted (0018).
        Index("ix_dossier_submitted", "submitted_at", "id"),
        # The statistics' months: dossiers received, resolved in a period (0018).
        # Covering: a month's tens of thousands of rows are read from the index alone.
        Index("ix_dossier_received", "received_at", "procedure_code", "id"),
        Index(
            "ix_dossier_completed",
            "completed_at",
            "received_at",
            "outcome",
            "procedure_code",
            "timeliness_committed",
            "timeliness_legal",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    procedure_code: str = Field(max_length=60, index=True)
    # The version of the procedure's rules the dossier follows (the ISO date it took effect, ""
    # for an undated procedure; None for a dossier from before versions were recorded: the
    # version in force when it was received). See workflows.catalogue.
    rules_version: str | None = Field(default=None, max_length=10)
    applicant_id: int = Field(foreign_key="app_user.id", index=True)
    applicant_name: str = Field(max_length=300)
    applicant_tax_code: str = Field(max_length=14, index=True)
    subject: str = Field(default="", max_length=500)
    status: str = Field(max_length=40, index=True)
    current_step: str | None = Field(default=None, max_length=500)
    outcome: str | None = Field(default=None, max_length=40)
    idempotency_key: str | None = Field(default=None, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submitted_at: datetime = _created()
    received_at: datetime | None = _instant(nullable=True)
    appointment_at: datetime | None = _instant(nullable=True)
    legal_due_at: datetime | None = _instant(nullable=True)
    completed_at: datetime | None = _instant(nullable=True)
    updated_at: datetime = _created()
    # Working days a leader added once, with the apology slip (Mẫu 04); deadlines are recomputed.
    extension_days: int = 0
    extension_reason: str | None = Field(default=None, max_length=2000)
    # At completion: early / on_time / late against the committed appointment and the legal limit.
    timeliness_committed: str | None = Field(default=None, max_length=10)
    timeliness_legal: str | None = Field(default=None, max_length=10)
    # Code, applicant, tax code and subject folded (``dossier_search_text``): what the dossier lists
    # search, so that "dong ha" finds "Đông Hà" on every database. Written on every insert/update.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=text("''")))


def dossier_search_text(dossier: Dossier) -> str:
    """The folded text a dossier is found by (workflows.folding.search_key): its code, applicant,
    tax code and subject, and the subject's siblings (``subject_siblings``)."""
    parts = (dossier.code, dossier.applicant_name, dossier.applicant_tax_code, dossier.subject)
    return search_key(" ".join(p for p in (*parts, *subject_siblings(dossier.subject, dossier.data)) if p))


def subject_siblings(subject: str, data: Any) -> list[str]:
    """When the subject is a field of the first item of a list in the data (a shipment's first
    goods, ``goods.0.name``), the same field of the other items: the products a dossier of several
    is also found by. Nothing otherwise."""
    if not subject or not isinstance(data, dict):
        return []
    for value in data.values():
        if isinstance(value, list) and len(value) > 1 and isinstance(value[0], dict):
            key = next((k for k, v in value[0].items() if v == subject), None)
            if key is not None:
                return [str(item[key]) for item in value[1:] if isinstance(item, dict) and item.get(key)]
    return []


@event.listens_for(Dossier, "before_insert")
@event.listens_for(Dossier, "before_update")
def _fold_search_text(_mapper: Any, _connection: Any, dossier: Dossier) -> None:
    # Whichever command changes a searchable field, the folded copy follows in the same flush.
    dossier.search_text = dossier_search_text(dossier)


# SQLite: a trigram FTS5 index of ``dossier.search_text`` (``workflows.dossier_search``), an
# external-content table kept in step by triggers, so in the very transaction that writes the
# dossier (migration 0018 makes the same). PostgreSQL searches the column with pg_trgm (0016).
DOSSIER_SEARCH_FTS = "dossier_search_fts"
DOSSIER_SEARCH_FTS_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {DOSSIER_SEARCH_FTS} USING fts5("
    "search_text, content='dossier', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {DOSSIER_SEARCH_FTS}_insert AFTER INSERT ON dossier BEGIN "
    f"INSERT INTO {DOSSIER_SEARCH_FTS} (rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {DOSSIER_SEARCH_FTS}_delete AFTER DELETE ON dossier BEGIN "
    f"INSERT INTO {DOSSIER_SEARCH_FTS} ({DOSSIER_SEARCH_FTS}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {DOSSIER_SEARCH_FTS}_update AFTER UPDATE OF search_text ON dossier BEGIN "
    f"INSERT INTO {DOSSIER_SEARCH_FTS} ({DOSSIER_SEARCH_FTS}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {DOSSIER_SEARCH_FTS} (rowid, search_text) VALUES (new.id, new.search_text); END",
)


def pg_trigram_index(table: Any, index: str, column: str) -> None:
    """Have ``create_all`` make on PostgreSQL the trigram GIN index a migration makes (0016 for the
    dossiers, 0027 for the instruments), so a database made from the models (a throw-away one, a
    benchmark's) searches as a migrated one does: with ``pg_trgm`` when the server lets it be
    created, without the index (as the migrations do) when it does not."""
    extension = (
        "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; "
        "EXCEPTION WHEN others THEN RAISE NOTICE 'pg_trgm is not available: searching without its index'; END $$"
    )
    created = (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
        f"CREATE INDEX IF NOT EXISTS {index} ON {table.name} USING GIN ({column} gin_trgm_ops); "
        "END IF; END $$"
    )
    event.listen(table, "after_create", DDL(extension).execute_if(dialect="postgresql"))
    event.listen(table, "after_create", DDL(created).execute_if(dialect="postgresql"))


pg_trigram_index(Dossier.__table__, "ix_dossier_search_trgm", "search_text")
for _statement in DOSSIER_SEARCH_FTS_DDL:
    event.listen(Dossier.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(
    Dossier.__table__,
    "before_drop",
    DDL(f"DROP TABLE IF EXISTS {DOSSIER_SEARCH_FTS}").execute_if(dialect="sqlite"),
)


class ProcessInstance(SQLModel, table=True):
    """The serialized SpiffWorkflow state of one dossier, pinned to its model version.

    ``version`` is the optimistic lock: a command writes only if nobody wrote since it read.
    """

    __tablename__ = "process_instance"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    # Packed (``workflows.packed``, migration 0019): 8 KB of JSON is about 1.6 KB stored.
    state: str = Field(sa_column=Column(PackedText(), nullable=True))
    version: int = 1
    completed: bool = False
    # When the earliest BPMN timer of the instance falls due: the scheduler's index (rule 6).
    next_timer_at: datetime | None = _instant(nullable=True, index=True)


class ClockPause(SQLModel, table=True):
    """An interval during which the dossier's processing clock stood still (waiting on the business)."""

    __tablename__ = "clock_pause"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    reason: str = Field(max_length=60)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = _created()
    ended_at: datetime | None = _instant(nullable=True)


class WorkTask(SQLModel, table=True):
    """A user task projected from the process instance, for inboxes and history."""

    __tablename__ = "work_task"
    # The inbox's: its conditions, then its order, then what it filters on and returns, so that
    # a page of open tasks is chosen from the index alone (``queries.inbox``; 0018).
    __table_args__ = (
        Index("ix_work_task_open", "status", "candidate_role", "due_at", "created_at", "assignee_id", "id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    spec_name: str = Field(max_length=120)
    name: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    candidate_role: str = Field(max_length=40)
    form: str | None = Field(default=None, max_length=200)
    ui_form: str | None = Field(default=None, max_length=200)
    status: str = Field(default="open", max_length=20)
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    completed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _created()
    claimed_at: datetime | None = _instant(nullable=True)
    completed_at: datetime | None = _instant(nullable=True)
    due_at: datetime | None = _instant(nullable=True)


AUDIT_CHAIN_KEY = "audit_event_stream_seq_key"


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained per stream (one stream per dossier or per account)."""

    __tablename__ = "audit_event"
    # Named as PostgreSQL names it by default, so that existing databases already match.
    __table_args__ = (UniqueConstraint("stream", "seq", name=AUDIT_CHAIN_KEY),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=60, index=True)
    seq: int
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_label: str = Field(max_length=300)
    action: str = Field(max_length=60)
    at: datetime = _created()
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """The head of one audit stream as its last append left it, signed (``workflows.audit_anchor``).

    Kept apart from the events and written in the transaction that appends, so that deleting a
    stream's last events, or the whole stream, no longer leaves an intact-looking chain: the
    checkpoint still counts them. ``events`` is the head's ``seq`` (the number of events of an
    intact chain); ``mac`` is an HMAC of the row under a key derived from the secret key (None:
    made by migration 0010 from the events found, signed at the first start)."""

    __tablename__ = "audit_checkpoint"

    stream: str = Field(primary_key=True, max_length=60)
    events: int
    head_event_id: int
    head_hash: str = Field(max_length=64)
    updated_at: datetime = _created()
    mac: str | None = Field(default=None, max_length=64)


class AuditRoot(SQLModel, table=True):
    """One day's root hash over every stream's head, chained to the previous day's and signed.

    ``heads`` holds the heads that moved since the previous root (stream -> [events, head hash]),
    so every root's full list of heads is the fold of the roots up to it. The root is what the
    administration page shows and the officers' digest e-mails carry: a copy kept outside the
    database. ``verified_*`` is the result of the full verification the day's job ran after it."""

    __tablename__ = "audit_root"

    day: date = Field(primary_key=True)
    computed_at: datetime = _created()
    prev_hash: str = Field(max_length=64)
    root_hash: str = Field(max_length=64)
    streams: int
    events: int
    heads: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    mac: str = Field(max_length=64)
    verified_at: datetime | None = _instant(nullable=True)
    verify_ok: bool | None = None
    verify_report: str = Field(default="", max_length=4000)


class Attachment(SQLModel, table=True):
    """An uploaded file; the bytes live content-addressed (SHA-256) in the storage folder."""

    __tablename__ = "attachment"

    id: str = Field(primary_key=True, max_length=32)
    sha256: str = Field(max_length=64, index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=120)
    size: int
    owner_id: int = Field(foreign_key="app_user.id", index=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    created_at: datetime = _created()


class Document(SQLModel, table=True):
    """An issued document, whatever it was issued for (DESIGN rule 8): numbered, stored with its
    SHA-256 and a verification code; its other renditions (an .xlsx beside the .docx) alongside."""

    __tablename__ = "document"

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=60)
    title: str = Field(max_length=300)
    number: str = Field(max_length=60)
    # What it was issued for: a dossier ("dossier", with dossier_id), or a procedure's own thing
    # (a WTO notification, an award round), its id, and the reference the document prints.
    issued_for: str = Field(default="dossier", max_length=40)
    issued_for_id: int | None = Field(default=None, index=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    reference: str = Field(default="", max_length=120)
    reference_label_vi: str = Field(default="Hồ sơ", max_length=120)
    reference_label_en: str = Field(default="Dossier", max_length=120)
    holder_name: str = Field(default="", max_length=300)  # whom it is addressed to, when anyone
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)  # the .docx (an uploaded copy is found by it)
    size: int
    # {"xlsx": {"filename", "sha256", "size"}}: the same document in other formats.
    renditions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    verification_code: str = Field(max_length=20, unique=True, index=True)
    issued_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    issued_at: datetime = _created()
    # The audit stream its issue was recorded on ("dossier:7", "wto:3"), where its signing goes too.
    audit_stream: str = Field(default="", max_length=60, sa_column_kwargs={"server_default": text("''")})
    # The official copy: the PDF signed by the agency (PAdES), made by a worker after the issuing
    # command committed (``workflows.document_signing``); None until then.
    pdf_sha256: str | None = Field(default=None, max_length=64, index=True)
    pdf_size: int | None = None
    signed_at: datetime | None = _instant(nullable=True)
    # Who signed: the certificate's subject, serial and SHA-256 fingerprint, the timestamp if any;
    # None until signed.
    signature: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class DocumentRendering(SQLModel, table=True):
    """An issued document whose .docx is still to be rendered: written by the issuing command
    with what the document says (``context``, workflows.documents.frozen) and the template chosen
    on its issue day, deleted in the transaction that stores the .docx. Until then the document's
    ``sha256`` is empty; whoever needs the file first renders it (workflows.document_rendering)."""

    __tablename__ = "document_rendering"

    document_id: str = Field(primary_key=True, foreign_key="document.id", max_length=32)
    context: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # workflows.documents.template_versions.TemplateInForce.record(), or {"source": "builder"}.
    template: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    procedure_code: str | None = Field(default=None, max_length=60)


class DocumentSigning(SQLModel, table=True):
    """An issued document whose signed PDF is still to be made: written in the issuing command's
    transaction, claimed by a worker for a lease, deleted in the transaction that stores the PDF.
    A worker that dies leaves the lease to expire, and the next one resumes (nothing is lost)."""

    __tablename__ = "document_signing"
    __table_args__ = (Index("ix_document_signing_due", "due_at"),)

    document_id: str = Field(primary_key=True, foreign_key="document.id", max_length=32)
    due_at: datetime = _created()
    leased_until: datetime | None = _instant(nullable=True)
    lease: str | None = Field(default=None, max_length=32)  # the claiming worker's token
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    # A leader signs this one personally (``workflows.personal_signing``): the agency's worker
    # leaves the row alone while it is set; the prepared PDF's SHA-256 once they downloaded it.
    # (An account id without a foreign key: SQLite cannot add one to an existing table in place.)
    awaiting_user_id: int | None = Field(default=None, index=True)
    prepared_sha256: str | None = Field(default=None, max_length=64)


class DocumentTemplate(SQLModel, table=True):
    """An uploaded version of a document kind's .docx template (workflows.documents.template_versions):
    in force from its effective day (office time) for one procedure or, without one, for every
    procedure, until a newer version takes effect or it is withdrawn. Only versions that passed
    the check are stored; the file is in the content-addressed store under ``sha256``."""

    __tablename__ = "document_template"
    __table_args__ = (Index("ix_document_template_kind_effective", "kind", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=60)
    procedure_code: str | None = Field(default=None, max_length=120)  # None: every procedure
    effective_from: date
    sha256: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    decided_by: str = Field(max_length=300)  # the deciding document: "Thông tư 03/2025/TT-VPCP"
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_at: datetime = _created()
    check_report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    withdrawn_at: datetime | None = _instant(nullable=True)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class Counter(SQLModel, table=True):
    """Named sequences (dossier codes per agency and day, document numbers per year)."""

    __tablename__ = "counter"

    key: str = Field(primary_key=True, max_length=120)
    value: int = 0


class Alarm(SQLModel, table=True):
    """A warning due at an instant: a reminder before a task's due time, an escalation at it, a
    dossier about to miss (or missing) its appointment. Fired once by the scheduler (rule 6);
    an alarm that no longer applies (the task was done, the deadline moved) is deleted unfired."""

    __tablename__ = "alarm"
    __table_args__ = (Index("ix_alarm_pending", "fired_at", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    task_id: str | None = Field(default=None, max_length=36, index=True)
    kind: str = Field(max_length=30)
    due_at: datetime = _created()
    recipient_role: str | None = Field(default=None, max_length=40)
    recipient_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    fired_at: datetime | None = _instant(nullable=True)


class Violation(SQLModel, table=True):
    """A violation a model flagged on a dossier (e.g. a certificate not filed in time), on the
    officers' violation list until one of them records how it was handled."""

    __tablename__ = "violation"
    __table_args__ = (Index("ix_violation_open", "handled_at", "flagged_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    reason: str = Field(max_length=60)
    flagged_at: datetime = _created()
    handled_at: datetime | None = _instant(nullable=True)
    handled_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    handling: str = Field(default="", max_length=2000)


class ServiceRating(SQLModel, table=True):
    """The applicant's rating of the service once its dossier has a result (1–5 and a comment):
    one per dossier (the unique key); the satisfaction figure of Decision 766/QĐ-TTg (2022)."""

    __tablename__ = "service_rating"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    score: int
    comment: str = Field(default="", max_length=2000)
    rated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    rated_at: datetime = _created()


class OutcomeRecord(SQLModel, table=True):
    """A closed inspection's outcome against its subject (the importer's tax code for the import
    inspection), written by a model's ``tdcflow/record_outcome`` step; the subject's history that
    a procedure's start facts (``workflows.facts``) read, e.g. for the inspection measure."""

    __tablename__ = "outcome_record"
    __table_args__ = (Index("ix_outcome_record_subject", "procedure_code", "subject_key", "recorded_at"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_code: str = Field(max_length=60)
    subject_key: str = Field(max_length=120)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    outcome: str = Field(max_length=20)  # one of OUTCOMES
    recorded_at: datetime = _created()


OUTCOMES = ("passed", "failed")


class SchedulerHeartbeat(SQLModel, table=True):
    """A running scheduler (a ``tdcflow worker``, or the web app's own) and when it last finished a
    tick: what the readiness check (``/healthz/worker``, ``tdcflow worker --check``) reads."""

    __tablename__ = "scheduler_heartbeat"

    name: str = Field(primary_key=True, max_length=300)  # kind@host:pid
    kind: str = Field(max_length=10)  # worker | web
    host: str = Field(max_length=255)
    pid: int
    tick_seconds: float
    started_at: datetime = _created()
    last_tick_at: datetime | None = _instant(nullable=True)


LOGIN_COUNTER_KEY = "login_counter_kind_key_key"


class RequestEvent(SQLModel, table=True):
    """One counted public request (a reset link asked for, a contest filed, ...) under one key
    (``purpose:kind:value``, e.g. ``password_reset:email:a@b.vn``): the limits of
    ``workflows.request_limits`` count these, so every app process sees the same count. Rows older
    than their purpose's window are deleted as new ones come."""

    __tablename__ = "request_event"
    __table_args__ = (Index("ix_request_event_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    at: datetime = _created()


class LoginCounter(SQLModel, table=True):
    """Failed logins of one login text (``kind`` "account": the e-mail or tax code typed,
    normalised, whether or not an account has it) or of one client address (``kind`` "address"),
    and until when further attempts are refused (a delay, or a lock-out once ``failures`` reached
    the lock threshold). Kept in the database so that every app process counts the same
    (``workflows.login_throttle``)."""

    __tablename__ = "login_counter"
    __table_args__ = (UniqueConstraint("kind", "key", name=LOGIN_COUNTER_KEY),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # account | address
    key: str = Field(max_length=254)
    failures: int = 0
    first_failure_at: datetime = _created()
    last_failure_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    locked_until: datetime | None = _instant(nullable=True, index=True)


CONTEST_STATES = ("open", "accepted", "refused")


class TaxCodeContest(SQLModel, table=True):
    """A claim to a tax code another account holds verified, with the business registration
    certificate (GCN ĐKDN) attached: the clerks or the administrator accept it (the verification
    moves) or refuse it with a reason; the contester hears by e-mail either way."""

    __tablename__ = "tax_code_contest"
    __table_args__ = (Index("ix_tax_code_contest_open", "status", "filed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    tax_code: str = Field(max_length=14, index=True)
    organisation_name: str = Field(max_length=300)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=254)
    contact_phone: str = Field(default="", max_length=30)
    statement: str = Field(default="", max_length=2000)
    # The certificate, content-addressed in the store like an attachment (the contester may have
    # no account, so it is no ``attachment`` row: those belong to an account).
    certificate_filename: str = Field(max_length=255)
    certificate_type: str = Field(max_length=120)
    certificate_sha256: str = Field(max_length=64)
    certificate_size: int
    # The account that filed it, when it was filed signed in (e.g. one whose tax code was rejected).
    contester_id: int | None = Field(default=None, foreign_key="app_user.id")
    status: str = Field(default="open", max_length=10)  # one of CONTEST_STATES
    filed_at: datetime = _created()
    handled_at: datetime | None = _instant(nullable=True)
    handled_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decision_note: str = Field(default="", max_length=2000)


SIGNER_CERTIFICATE_ACTIVE = "revoked_at IS NULL"


class SignerCertificate(SQLModel, table=True):
    """A leader's own signing certificate (on their USB token), registered by the administrator:
    a result the leader signs personally is accepted only when signed with it
    (``workflows.personal_signing``). ``signs_personally``: the leader's choice to sign the results
    they approve themselves rather than leave them to the agency's signature. A fingerprint is
    registered once while active (a partial unique index); revoking keeps the row for the audit."""

    __tablename__ = "signer_certificate"
    __table_args__ = (
        Index(
            "uq_signer_certificate_active_sha256",
            "sha256",
            unique=True,
            sqlite_where=text(SIGNER_CERTIFICATE_ACTIVE),
            postgresql_where=text(SIGNER_CERTIFICATE_ACTIVE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)  # of the DER, uppercase hexadecimal (as validate_pdf says)
    subject: str = Field(max_length=500)
    serial: str = Field(max_length=64)  # uppercase hexadecimal
    valid_from: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    valid_until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    signs_personally: bool = True
    registered_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    registered_at: datetime = _created()
    revoked_at: datetime | None = _instant(nullable=True)
    revoked_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class ProcedureDeployment(SQLModel, table=True):
    """A version of a procedure deployed by an administrator (``workflows.deployments``): the
    bundle's files as uploaded (catalogue entry, models, forms), its hash, its effective date, who
    deployed it and when. The row and its model version are written in one transaction, so a
    version is either wholly there or not at all. Versions installed with the software are not
    rows here: they come from the package's ``bpmn/`` folder."""

    __tablename__ = "procedure_deployment"
    __table_args__ = (UniqueConstraint("procedure_code", "bundle_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_code: str = Field(max_length=60, index=True)
    effective_from: date
    label_vi: str = Field(default="", max_length=500)
    label_en: str = Field(default="", max_length=500)
    files: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    bundle_sha256: str = Field(max_length=64)
    model_version_id: int = Field(foreign_key="model_version.id")
    deployed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    deployed_at: datetime = _created()
    note: str = Field(default="", max_length=2000)
    # Withdrawn before it took effect, while no dossier followed it: kept for the record, no longer
    # in the catalogue.
    withdrawn_at: datetime | None = _instant(nullable=True)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class InstanceMigration(SQLModel, table=True):
    """One dossier moved from one version of its procedure to another (``workflows.
    instance_migration``), with the state it had before so that the move can be undone while the
    dossier has not moved since (its instance still at ``result_version``)."""

    __tablename__ = "instance_migration"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    batch: str = Field(max_length=40, index=True)
    from_model_version_id: int = Field(foreign_key="model_version.id")
    to_model_version_id: int = Field(foreign_key="model_version.id")
    from_rules_version: str | None = Field(default=None, max_length=10)
    to_rules_version: str | None = Field(default=None, max_length=10)
    mapping: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    previous_state: str = Field(sa_column=Column(Text, nullable=False))
    previous_version: int
    result_version: int
    migrated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    migrated_at: datetime = _created()
    undone_at: datetime | None = _instant(nullable=True)
    undone_by_id: int | None = Field(default=None, foreign_key="app_user.id")


CALENDAR_ENTRY_IN_FORCE = "removed_at IS NULL"
CALENDAR_ENTRY_KINDS = ("day_off", "working_day")


class CalendarEntry(SQLModel, table=True):
    """A day the government or the province decided differently from the holidays package: an
    extra day off or a make-up working day, with the deciding document
    (``workflows.calendar_entries``). Entered by an administrator, or imported once from the
    overrides file (``source = "import"``); one entry in force per day (a partial unique index);
    a removed entry keeps its row, with who removed it and when."""

    __tablename__ = "calendar_entry"
    __table_args__ = (
        Index(
            "uq_calendar_entry_day_in_force",
            "day",
            unique=True,
            sqlite_where=text(CALENDAR_ENTRY_IN_FORCE),
            postgresql_where=text(CALENDAR_ENTRY_IN_FORCE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date
    kind: str = Field(max_length=20)  # CALENDAR_ENTRY_KINDS
    name: str = Field(max_length=300)
    decided_by: str = Field(max_length=300)  # "Công văn 12729/VPCP-KGVX ngày 25/12/2025"
    source: str = Field(default="admin", max_length=20)  # admin | import
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _created()
    removed_at: datetime | None = _instant(nullable=True)
    removed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    removal_decided_by: str | None = Field(default=None, max_length=300)
