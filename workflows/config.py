"""Settings read from the environment (``TDCFLOW_*``); the defaults give a working local install."""

from __future__ import annotations

import ipaddress
import logging
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATABASE_FILE = "tdcflow.sqlite3"
# Before the database followed the data folder it lived here, wherever TDCFLOW_DATA_DIR pointed.
LEGACY_DATABASE = PROJECT_ROOT / "var" / DATABASE_FILE
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
SERVED_BASE_URL_FILE = "base_url"  # in the data folder: the address `tdcflow serve` last served

log = logging.getLogger("tdcflow.config")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TDCFLOW_", extra="ignore")

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; sqlite:///path or postgresql+psycopg://user@host:port/db. "
        "Unset: the SQLite file tdcflow.sqlite3 in the data folder",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs access tokens. Unset: a random key is created once in the data folder.",
    )
    data_dir: Path = PROJECT_ROOT / "var"
    storage_dir: Path | None = Field(
        default=None, description="Uploads and issued documents; default data_dir/storage"
    )
    bpmn_dir: Path = PROJECT_ROOT / "bpmn"
    calendar_overrides: Path | None = Field(
        default=None,
        description="TOML file of extra days off / make-up working days; default bpmn_dir/calendar_overrides.toml",
    )
    timezone: str = "Asia/Ho_Chi_Minh"
    culture_day_off: bool = Field(
        default=True,
        description="24/11 (Vietnam Culture Day, Politburo Resolution 80, Government Resolution 30/NQ-CP) "
        "is a day off; false makes it a working day while the Labour Code change is unconfirmed",
    )
    office_hours: str = Field(
        default="07:30-11:30,13:30-17:00", description="Office periods, Monday to Friday"
    )
    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description="Public address in documents' QR codes and e-mails' links. Unset: `tdcflow serve` "
        "uses the host and port it serves and records them in the data folder for the worker",
    )
    agency_code: str = Field(
        default="000.00.15.H50",
        description="Receiving agency code of the dossier code (Circular 01/2018 art. 19, kept by Circular 03/2025: check)",
    )
    agency_name: str = "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
    agency_parent: str = "UBND TỈNH QUẢNG TRỊ"
    agency_place: str = "Quảng Trị"
    # What the pages' footer tells the public of the one-stop desk (not confirmed: check them).
    office_address: str = Field(
        default="Bộ phận Tiếp nhận và Trả kết quả, Sở Khoa học và Công nghệ tỉnh Quảng Trị (check)",
        description="The one-stop desk's address, shown in every page's footer",
    )
    office_hotline: str = Field(
        default="(check)", description="The desk's hotline, shown in every page's footer"
    )
    document_symbol: str = "SKHCN"
    # Who signs and drafts what the department issues (workflows.documents.authority, codes).
    document_unit: str = Field(
        default="TĐC",
        description="Abbreviation of the drafting unit in a letter's number, <n>/SKHCN-<unit> (Decree 30/2020 "
        "Phụ lục I: the agency's and the unit's abbreviations); default the standards, metrology and quality "
        "division (check the department's list of abbreviations)",
    )
    director_title: str = Field(
        default="GIÁM ĐỐC", description="Title of the head of the department, over 'KT.', 'TL.', 'TUQ.'"
    )
    tbt_signer_position: str = Field(
        default="PHỤ TRÁCH ĐIỂM HỎI ĐÁP TBT",
        description="Position under 'TUQ. GIÁM ĐỐC' on the letters a TBT officer issues by the director's "
        "written authorisation (check); empty: a TBT officer cannot sign letters",
    )
    access_token_minutes: int = 60 * 8
    session_touch_minutes: float = Field(
        default=5, ge=0, description="A session's 'last seen' moves at most this often (not every request)"
    )
    password_reset_minutes: int = Field(
        default=30, ge=1, description="How long a password reset link works, in minutes"
    )
    email_verification_hours: int = Field(
        default=48, ge=1, description="How long an e-mail verification link works, in hours"
    )
    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id passes (OWASP: >= 2)")
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8, description="argon2id memory in KiB")
    max_upload_bytes: int = 20 * 1024 * 1024
    max_form_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Largest request body that is not a file upload (JSON, a page's form)",
    )
    # Login throttling (workflows.login_throttle): failed logins are counted in the database per
    # login text and per client address; from *_delay_after failures each further attempt waits
    # 2, 4, 8 … seconds (at most login_delay_max_seconds), from *_lock_after it is locked out for
    # login_lock_minutes. A client address's thresholds are higher: an office's NAT shares one.
    login_account_delay_after: int = Field(
        default=5, ge=1, description="Failed logins of one login (e-mail or tax code) before delays start"
    )
    login_account_lock_after: int = Field(
        default=10, ge=1, description="Failed logins of one login that lock it out"
    )
    login_address_delay_after: int = Field(
        default=20, ge=1, description="Failed logins from one client address before delays start"
    )
    login_address_lock_after: int = Field(
        default=50, ge=1, description="Failed logins from one client address that lock it out"
    )
    login_delay_max_seconds: int = Field(
        default=300, ge=1, description="Longest delay between two attempts before the lock-out"
    )
    login_lock_minutes: float = Field(default=15, gt=0, description="How long a lock-out lasts")
    login_failure_window_minutes: float = Field(
        default=60,
        gt=0,
        description="Failures are forgotten once this long has passed since the last one (the count restarts)",
    )
    sqlite_busy_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="SQLite only: how long a request waits for another process's write (a backup, a "
        "migration, another worker) before it is answered 503 with Retry-After",
    )
    stamp_lookups_per_minute: int = Field(
        default=60,
        ge=1,
        description="Public stamp lookups (API and page) allowed per client address and minute, counted "
        "per process (workflows.lookup_throttle); more are answered 429 with Retry-After",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For "
        "names the client (e.g. '127.0.0.1,10.0.0.0/8'); empty: the peer's address is always the client's",
    )
    demo_mode: bool = False
    smtp_host: str | None = Field(
        default=None, description="SMTP server; unset: e-mail is not sent (stays pending)"
    )
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "Một cửa TĐC <no-reply@localhost>"
    digest_time: str = Field(
        default="07:00", description="Officers' daily digest, HH:MM local, on working days"
    )
    metrology_reminder_working_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Remind an instrument's owner this many working days before its verification ends",
    )
    metrology_unverified_grace_working_days: int = Field(
        default=20,
        ge=1,
        le=250,
        description="Warn of a registered instrument still never verified this many working days after registration",
    )
    # Retrying a failed message: backoff from 30 s doubling up to delivery_backoff_max_minutes; it
    # is given up (dead letter) once delivery_max_age_hours have passed since it was queued (or put
    # back by an administrator) or after delivery_max_attempts tries, whichever comes first.
    delivery_max_attempts: int = Field(
        default=50,
        ge=1,
        description="Most tries of one message (with the defaults the age limit comes first)",
    )
    delivery_max_age_hours: float = Field(
        default=72, gt=0, description="How long a failing message keeps being retried, in hours"
    )
    delivery_backoff_max_minutes: float = Field(
        default=180, gt=0, description="Longest wait between two tries of one message, in minutes"
    )
    # The circuit breaker of each channel (the mail server, each webhook, each SMS gateway).
    delivery_breaker_failures: int = Field(
        default=5, ge=1, description="Failures in a row, with no success, that pause a channel"
    )
    delivery_probe_max_minutes: float = Field(
        default=30, gt=0, description="Longest wait between two tries of a paused channel, in minutes"
    )
    scheduler: bool = Field(default=True, description="Run the timer/alarm scheduler inside the web app")
    web_workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Processes of tdcflow serve (unset: one per CPU); one scheduler among them does the work",
    )
    tick_seconds: float = Field(default=5.0, gt=0, description="How often the scheduler looks for due work")
    pdf_font_dir: Path | None = Field(
        default=None,
        description="Folder searched first for the PDF copy's serif font (Times New Roman's or Liberation "
        "Serif 2's four .ttf files); unset: Debian's fonts-liberation2, then fonts-noto-core",
    )
    log_level: str = Field(default="INFO", description="Level of tdcflow's own loggers (tdcflow.*)")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text: one line a record; json: one JSON object a line, for a log shipper"
    )
    log_levels: str = Field(
        default="",
        description="Other loggers' levels, e.g. 'spiff=INFO,apscheduler=DEBUG'; the rest log at WARNING",
    )
    # Signing of issued documents (workflows.signing): PAdES signatures with the agency's organisation
    # certificate. A PKCS#11 token (TDCFLOW_SIGNING_PKCS11_*) is the other way in (its own block).
    signing_p12: Path | None = Field(
        default=None,
        description="PKCS#12 file (.p12/.pfx) with the agency's organisation certificate, its private key "
        "and its chain; unset: no PKCS#12 signer",
    )
    signing_p12_password: SecretStr | None = Field(
        default=None, description="Password of the PKCS#12 file; unset or empty: a file without a password"
    )
    tsa_url: str | None = Field(
        default=None,
        description="RFC 3161 timestamp server (http/https URL): signatures become PAdES B-T; "
        "unset: PAdES B-B (only the signer's claimed time)",
    )
    signing_trust_roots: str | None = Field(
        default=None,
        description="PEM file(s) of the CA certificates the signature validator trusts, separated by ':'; "
        "unset: the CA that issued the signing certificate when the PKCS#12 chain holds it, else none",
    )
    # Signing with the agency's key on a PKCS#11 token or HSM (workflows.signing.pkcs11). The key is
    # found on the token labelled signing_pkcs11_token_label by label and/or CKA_ID; its certificate
    # by the cert_* settings, else by the key's label/ID (a key and its certificate share them).
    signing_pkcs11_module: Path | None = Field(
        default=None,
        description="PKCS#11 module (.so) of the token or HSM, e.g. /usr/lib/softhsm/libsofthsm2.so",
    )
    signing_pkcs11_token_label: str | None = Field(default=None, description="Label of the token")
    signing_pkcs11_key_label: str | None = Field(default=None, description="Label of the private key")
    signing_pkcs11_key_id: str | None = Field(
        default=None,
        description="CKA_ID of the private key, in hex (e.g. 'a1b2'); with or instead of its label",
    )
    signing_pkcs11_cert_label: str | None = Field(
        default=None, description="Label of the signing certificate; unset: the key's label/ID finds it"
    )
    signing_pkcs11_cert_id: str | None = Field(
        default=None, description="CKA_ID of the signing certificate, in hex; unset: the key's"
    )
    signing_pkcs11_pin: str | None = Field(
        default=None, repr=False, description="User PIN of the token; prefer signing_pkcs11_pin_file"
    )
    signing_pkcs11_pin_file: Path | None = Field(
        default=None,
        description="File holding the user PIN (one line, readable by tdcflow only), so the PIN is not in the environment",
    )
    signing_pkcs11_chain_file: Path | None = Field(
        default=None,
        description="PEM file of the issuing CA certificates to embed beside the signing certificate",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        """Every entry an address or a network: a typo must stop the start, not trust the wrong host."""
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError as exc:
                    raise ValueError(f"not an IP address or network: {part.strip()!r}") from exc
        return value

    @model_validator(mode="after")
    def _database_in_data_folder(self) -> Settings:
        """Unset ``database_url``: the SQLite file in the data folder, so the folder (and a backup
        of it) holds everything. An installation upgraded from before — its data folder in use (a
        secret key there) but no database in it, the database at the old place — keeps using the
        old file, with a warning, rather than starting empty."""
        if self.database_url:
            return self
        path = self.data_dir / DATABASE_FILE
        legacy = LEGACY_DATABASE
        if (
            not path.exists()
            and path.resolve() != legacy.resolve()
            and legacy.exists()
            and (self.data_dir / "secret_key").exists()
        ):
            log.warning(
                "the database is still at %s, outside the data folder %s: stop tdcflow and move it "
                "there (with its -wal file) so that the data folder holds everything",
                legacy,
                self.data_dir,
            )
            path = legacy
        self.database_url = f"sqlite:///{path}"
        return self

    def recorded_base_url(self) -> str:
        """The public address: ``TDCFLOW_BASE_URL`` when set, else the one ``tdcflow serve``
        last recorded in the data folder (a worker or ``tdcflow demo`` beside it), else the default."""
        if "base_url" in self.model_fields_set:
            return self.base_url
        try:
            recorded = (self.data_dir / SERVED_BASE_URL_FILE).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return self.base_url
        return recorded if recorded.startswith(("http://", "https://")) else self.base_url

    @property
    def storage_path(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"

    @property
    def overrides_path(self) -> Path:
        return self.calendar_overrides or self.bpmn_dir / "calendar_overrides.toml"

    def signing_key(self) -> str:
        """The token signing key: the environment's, else one kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
