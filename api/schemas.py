"""Response and request bodies of the JSON API. Instants are ISO 8601 in Asia/Ho_Chi_Minh (+07:00)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_serializer
from pydantic_core import PydanticCustomError

from forms.text import text_problem
from workflows import tax_codes
from workflows.calendar import get_calendar
from workflows.clock import as_utc, format_date, now, to_local
from workflows.models import Attachment, AuditEvent, Document, Dossier, User, WorkTask
from workflows.statuses import status_label
from workflows.verification import FileCheck, VerifiedDocument


class LocalTimes(BaseModel):
    @field_serializer("*", when_used="json")
    def _local(self, value: Any) -> Any:
        return to_local(value).isoformat() if isinstance(value, datetime) else value


def _single_line(value: str) -> str:
    found = text_problem(value, multiline=False)
    if found is not None and found.code == "single_line":
        raise PydanticCustomError("single_line", found.message_en)
    return value


# Text of one line (a name, an address, a code): no line break or tab. What no text may carry at
# all (controls, lone surrogates, bidi overrides) is refused before any model (api.text_guard).
SingleLine = Annotated[str, AfterValidator(_single_line)]


class RegisterBusiness(BaseModel):
    email: SingleLine = Field(max_length=254, examples=["lienhe@congtyabc.vn"])
    password: str = Field(max_length=200)
    full_name: SingleLine = Field(max_length=200, description="Người đăng ký / Registrant")
    tax_code: SingleLine = Field(max_length=14, examples=["0101234567"])
    organisation_name: SingleLine = Field(max_length=300)
    address: SingleLine = Field(default="", max_length=500)
    phone: SingleLine = Field(default="", max_length=30)


class ChangePassword(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class EmailIn(BaseModel):
    email: str = Field(max_length=254, examples=["lienhe@congtyabc.vn"])


class TokenIn(BaseModel):
    token: str = Field(max_length=128, description="Mã trong liên kết đã gửi qua thư / The link's token")


class ResetPassword(BaseModel):
    token: str = Field(max_length=128, description="Mã trong liên kết đã gửi qua thư / The link's token")
    new_password: str = Field(max_length=200)


class Accepted(BaseModel):
    """The same answer whatever the address: nothing here tells whether it has an account."""

    message: str
    message_en: str


class SessionOut(LocalTimes):
    id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: str | None
    client_summary: str
    current: bool = Field(description="Phiên của chính yêu cầu này / The session of this very request")


class SessionsOut(BaseModel):
    items: list[SessionOut]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Label(BaseModel):
    vi: str
    en: str


class TaxCodeVerificationOut(LocalTimes):
    """Where a business account's tax code stands: checked by the Department against the business
    registration (verified), not yet (unverified), or found not to be the account's (rejected)."""

    status: str = Field(description="unverified | verified | rejected")
    label: Label
    decided_at: datetime | None = None
    evidence: str | None = Field(default=None, description="Verified: what the Department checked")
    reason: str | None = Field(default=None, description="Rejected: why")
    message: Label = Field(description="What it means for the business")

    @classmethod
    def of(cls, user: User) -> TaxCodeVerificationOut | None:
        if user.tax_code_status is None:
            return None
        vi, en = tax_codes.state_label(user.tax_code_status)
        status = user.tax_code_status
        return cls(
            status=status,
            label=Label(vi=vi, en=en),
            decided_at=user.tax_code_decided_at,
            evidence=user.tax_code_note if status == tax_codes.VERIFIED else None,
            reason=user.tax_code_note if status == tax_codes.REJECTED else None,
            message=Label(vi=TAX_CODE_MESSAGES[status][0], en=TAX_CODE_MESSAGES[status][1]),
        )


TAX_CODE_MESSAGES = {
    "unverified": (
        "Mã số thuế sẽ được Sở đối chiếu với đăng ký doanh nghiệp khi tiếp nhận hồ sơ đầu tiên.",
        "The Department will check the tax code against the business registration at the receipt "
        "of the first dossier.",
    ),
    "verified": (
        "Mã số thuế đã được Sở đối chiếu với đăng ký doanh nghiệp.",
        "The Department checked the tax code against the business registration.",
    ),
    "rejected": (
        "Mã số thuế không được xác minh: hồ sơ đã nộp vẫn được giải quyết, nhưng chưa nộp được hồ sơ "
        "mới cho đến khi sửa mã số thuế (/account/tax-code) hoặc khiếu nại (/tax-code-contests/new).",
        "The tax code was rejected: dossiers already filed go on, but no new one can be filed until "
        "the tax code is corrected (/account/tax-code) or contested (/tax-code-contests/new).",
    ),
}


class UserOut(LocalTimes):
    id: int
    email: str
    full_name: str
    roles: list[str]
    tax_code: str | None
    organisation_name: str | None
    job_title: str | None
    created_at: datetime
    tax_code_verification: TaxCodeVerificationOut | None = None

    @classmethod
    def of(cls, user: User) -> UserOut:
        out = cls.model_validate(user, from_attributes=True)
        out.tax_code_verification = TaxCodeVerificationOut.of(user)
        return out


class RulesVersionOut(BaseModel):
    """One dated version of a procedure's rules (what a dossier received in it follows)."""

    key: str = Field(description="What a dossier records: the ISO date it took effect ('' if undated)")
    effective_from: date | None
    effective_until: date | None
    label: Label
    legal_basis: list[str]


class ProcedureOut(BaseModel):
    code: str
    name: Label
    summary: Label
    field: str
    legal_basis: list[str]
    legal_days: int
    committed_days: int
    required_documents: list[Label]
    fees: list[dict[str, Any]]
    outputs: list[str]
    start_form: str
    model_version_id: int
    rules: RulesVersionOut = Field(description="The version of the rules in force today")
    upcoming: RulesVersionOut | None = Field(
        default=None, description="The next version of the rules, when one is known"
    )


class ProcedureDetailOut(ProcedureOut):
    start_form_fields: list[str] = Field(description="Top-level fields of the start form (through its $refs)")
    start_form_schema: dict[str, Any]
    start_form_ui_schema: dict[str, Any]


def remaining_minutes(due: datetime | None) -> int | None:
    """Working (office) minutes from now to ``due``; negative once it has passed."""
    if due is None:
        return None
    calendar = get_calendar()
    instant, due = now(), as_utc(due)
    if due >= instant:
        return int(calendar.working_time_between(instant, due).total_seconds() // 60)
    return -int(calendar.working_time_between(due, instant).total_seconds() // 60)


class TaskOut(LocalTimes):
    id: str
    dossier_code: str
    step: str
    name: Label
    candidate_role: str
    form: str | None
    status: str
    assignee_id: int | None
    created_at: datetime
    claimed_at: datetime | None
    due_at: datetime | None
    remaining_working_minutes: int | None = None

    @classmethod
    def of(cls, task: WorkTask, dossier_code: str) -> TaskOut:
        return cls(
            id=task.id,
            dossier_code=dossier_code,
            step=task.spec_name,
            name=Label(vi=task.name, en=task.name_en),
            candidate_role=task.candidate_role,
            form=task.form,
            status=task.status,
            assignee_id=task.assignee_id,
            created_at=task.created_at,
            claimed_at=task.claimed_at,
            due_at=task.due_at,
            remaining_working_minutes=remaining_minutes(task.due_at) if task.status == "open" else None,
        )


class InboxItemOut(TaskOut):
    procedure_code: str
    applicant_name: str
    subject: str
    dossier_status: str


class TaskDetailOut(BaseModel):
    task: TaskOut
    form_schema: dict[str, Any] | None
    form_ui_schema: dict[str, Any] | None
    data: dict[str, Any]


class DossierSummaryOut(LocalTimes):
    code: str
    procedure_code: str
    applicant_name: str
    applicant_tax_code: str
    subject: str
    status: str
    status_label: Label
    current_step: str | None
    outcome: str | None
    submitted_at: datetime
    received_at: datetime | None
    appointment_at: datetime | None
    legal_due_at: datetime | None
    completed_at: datetime | None
    extension_days: int = 0
    timeliness_committed: str | None = Field(
        default=None, description="early | on_time | late, at completion"
    )
    timeliness_legal: str | None = None
    remaining_working_minutes: int | None = Field(
        default=None, description="Office time left until the appointment (negative when late)"
    )

    @classmethod
    def of(cls, dossier: Dossier) -> DossierSummaryOut:
        vi, en = status_label(dossier.status)
        return cls(
            code=dossier.code,
            procedure_code=dossier.procedure_code,
            applicant_name=dossier.applicant_name,
            applicant_tax_code=dossier.applicant_tax_code,
            subject=dossier.subject,
            status=dossier.status,
            status_label=Label(vi=vi, en=en),
            current_step=dossier.current_step,
            outcome=dossier.outcome,
            submitted_at=dossier.submitted_at,
            received_at=dossier.received_at,
            appointment_at=dossier.appointment_at,
            legal_due_at=dossier.legal_due_at,
            completed_at=dossier.completed_at,
            extension_days=dossier.extension_days,
            timeliness_committed=dossier.timeliness_committed,
            timeliness_legal=dossier.timeliness_legal,
            remaining_working_minutes=remaining_minutes(dossier.appointment_at)
            if not dossier.completed_at
            else None,
        )


class DossierPageOut(BaseModel):
    items: list[DossierSummaryOut]
    total: int
    page: int
    page_size: int
    more: bool = Field(
        default=False,
        description="Lists are counted up to 1,000: true when more match (total is then a lower bound) / "
        "true khi còn nhiều hơn (total khi đó là cận dưới)",
    )


class InboxPageOut(BaseModel):
    items: list[InboxItemOut]
    total: int
    page: int
    page_size: int
    more: bool = Field(
        default=False,
        description="Lists are counted up to 1,000: true when more match (total is then a lower bound) / "
        "true khi còn nhiều hơn (total khi đó là cận dưới)",
    )


class HistoryEventOut(LocalTimes):
    seq: int
    action: str
    at: datetime
    actor: str
    details: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent, with_details: bool) -> HistoryEventOut:
        details = (
            event.details if with_details else {k: v for k, v in event.details.items() if k in _PUBLIC_KEYS}
        )
        return cls(seq=event.seq, action=event.action, at=event.at, actor=event.actor_label, details=details)


# What a business may read of an event's details (the rest is the department's working record).
_PUBLIC_KEYS = frozenset(
    {
        "code",
        "procedure",
        "reason",
        "items",
        "reasons",
        "outcome",
        "kind",
        "number",
        "received_at",
        "appointment_at",
        "legal_due_at",
        "task",
        "filename",
    }
)


class DocumentOut(LocalTimes):
    id: str
    kind: str
    title: str
    number: str
    filename: str
    sha256: str
    size: int
    verification_code: str
    issued_at: datetime
    signed: bool = Field(description="The official copy (the PDF signed by the agency) is ready")
    signed_at: datetime | None = None
    pdf_sha256: str | None = Field(default=None, description="SHA-256 of the signed PDF, once signed")
    download_url: str = Field(description="The official copy: the signed PDF (409 while being signed)")
    editable_url: str = Field(description="The .docx it was rendered as: officers only")

    @classmethod
    def of(cls, document: Document) -> DocumentOut:
        return cls(
            id=document.id,
            kind=document.kind,
            title=document.title,
            number=document.number,
            filename=document.filename,
            sha256=document.sha256,
            size=document.size,
            verification_code=document.verification_code,
            issued_at=document.issued_at,
            signed=document.pdf_sha256 is not None,
            signed_at=document.signed_at,
            pdf_sha256=document.pdf_sha256,
            download_url=f"/api/documents/{document.id}",
            editable_url=f"/api/documents/{document.id}/docx",
        )


class AttachmentOut(LocalTimes):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    download_url: str

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            created_at=attachment.created_at,
            download_url=f"/api/attachments/{attachment.id}",
        )


class SupplementRequestOut(LocalTimes):
    requested_at: datetime
    answered_at: datetime | None
    items: list[str]


class DossierOut(DossierSummaryOut):
    data: dict[str, Any]
    open_tasks: list[TaskOut]
    history: list[HistoryEventOut]
    documents: list[DocumentOut]
    attachments: list[AttachmentOut]
    supplement_requests: list[SupplementRequestOut]


class PublicDossierOut(BaseModel):
    code: str
    procedure: Label
    status: str
    status_label: Label
    appointment_date: str | None = Field(description="dd/mm/yyyy, Asia/Ho_Chi_Minh")


class VerifiedDocumentOut(LocalTimes):
    verification_code: str
    kind: str
    title: str
    number: str
    reference: str = Field(description="What it was issued for: a dossier code, a WTO symbol, an award round")
    reference_label: Label
    dossier_code: str | None = Field(description="The dossier, for a document issued on one")
    applicant_name: str
    issued_at: datetime
    issued_date: str
    sha256: str
    valid_until: date | None = Field(
        default=None, description="The last day the result is valid (a declaration's notice), if it has one"
    )
    subject: str = Field(default="", description="What the dossier is about: its product, goods or question")
    signed: bool = Field(default=False, description="The official copy, a PDF signed by the agency, exists")
    pdf_sha256: str | None = Field(default=None, description="SHA-256 of the signed PDF (the official copy)")
    signed_at: datetime | None = None
    signer: str | None = Field(default=None, description="Whose certificate signed it")
    certificate_serial: str | None = None
    timestamp_at: datetime | None = Field(default=None, description="The RFC 3161 timestamp's time, if any")

    @classmethod
    def of(cls, document: VerifiedDocument) -> VerifiedDocumentOut:
        signature = document.signature or {}
        return cls(
            subject=document.subject,
            signed=document.signed,
            pdf_sha256=document.pdf_sha256,
            signed_at=document.signed_at,
            signer=signature.get("signer"),
            certificate_serial=signature.get("certificate_serial"),
            timestamp_at=signature.get("timestamp_at"),
            verification_code=document.verification_code,
            kind=document.kind,
            title=document.title,
            number=document.number,
            reference=document.reference,
            reference_label=Label(vi=document.reference_label_vi, en=document.reference_label_en),
            dossier_code=document.dossier_code,
            applicant_name=document.holder_name,
            issued_at=document.issued_at,
            issued_date=format_date(document.issued_at),
            valid_until=document.valid_until,
            sha256=document.sha256,
        )


class SignatureOut(LocalTimes):
    """One signature of a checked PDF."""

    intact: bool = Field(description="The signed bytes are unchanged")
    valid: bool = Field(description="The cryptographic signature is correct")
    trusted: bool = Field(description="The certificate chains to a trusted root")
    whole_document: bool = Field(description="Nothing was added to the file after signing")
    signer: str = Field(description="The certificate's holder (common name, organisation)")
    certificate_serial: str | None = None
    signing_time: datetime | None = None
    timestamp_at: datetime | None = None
    problems: list[str] = Field(default_factory=list, description="Vietnamese / English")


class FileCheckOut(LocalTimes):
    """What an uploaded file is: an issued document's official or editable copy, or neither."""

    sha256: str
    size: int
    issued: bool = Field(description="The file is, byte for byte, a document this agency issued")
    copy_kind: str | None = Field(
        default=None, description='"pdf": the official signed copy; "docx": the editable copy'
    )
    message: Label
    document: VerifiedDocumentOut | None = None
    signatures: list[SignatureOut] = Field(default_factory=list, description="For a PDF: its signatures")
    problems: list[str] = Field(default_factory=list, description="Problems of the file itself")

    @classmethod
    def of(cls, check: FileCheck) -> FileCheckOut:
        report = check.signature
        signatures = [
            SignatureOut(
                intact=info.intact,
                valid=info.valid,
                trusted=info.trusted,
                whole_document=info.whole_document,
                signer=", ".join(p for p in (info.signer_common_name, info.signer_organisation) if p),
                certificate_serial=info.certificate_serial,
                signing_time=info.signing_time,
                timestamp_at=info.timestamp_time,
                problems=list(info.problems),
            )
            for info in (report.signatures if report else [])
        ]
        return cls(
            sha256=check.sha256,
            size=check.size,
            issued=check.is_issued_document,
            copy_kind=check.copy,
            message=Label(vi=file_check_message(check)[0], en=file_check_message(check)[1]),
            document=VerifiedDocumentOut.of(check.document) if check.document else None,
            signatures=signatures,
            problems=list(report.problems) if report else [],
        )


def file_check_message(check: FileCheck) -> tuple[str, str]:
    """The one sentence the verify page and API answer with, Vietnamese and English."""
    report = check.signature
    signature_ok = bool(report and report.signatures and all(i.ok for i in report.signatures))
    if check.copy == "pdf" and signature_ok:
        return (
            "Đây là văn bản đã phát hành, chữ ký số hợp lệ.",
            "This is the issued document; its signature is valid.",
        )
    if check.copy == "pdf":
        return (
            "Đây là văn bản đã phát hành, nhưng chữ ký số không kiểm tra được (xem chi tiết).",
            "This is the issued document, but its signature could not be verified (see details).",
        )
    if check.copy == "docx":
        return (
            "Tệp trùng với bản .docx (bản chỉnh sửa) của văn bản đã phát hành; bản chính thức là PDF có chữ ký số.",
            "The file is the editable .docx of an issued document; the official copy is the signed PDF.",
        )
    return (
        "Không phải văn bản đã phát hành: tệp không trùng với văn bản nào của cơ quan.",
        "Not the issued document: the file matches no document this agency issued.",
    )


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


class ExtendIn(BaseModel):
    days: int = Field(ge=1, le=30, description="Ngày làm việc gia hạn / working days added")
    reason: str = Field(min_length=10, max_length=2000, description="Lý do chậm / why the result is late")


class TimelinessOut(BaseModel):
    group: str
    total: int
    early: int
    on_time: int
    late: int
    legal_late: int


class LoginLockOut(LocalTimes):
    """A login counter whose wait runs: a lock-out, or a shorter delay (login throttling)."""

    id: int
    kind: str = Field(description="account: a login text (e-mail or tax code) / address: a client address")
    key: str = Field(description="The login, normalised, or the address (IPv6: its /64)")
    failures: int
    first_failure_at: datetime
    last_failure_at: datetime
    locked_until: datetime
    lockout: bool = Field(description="true: locked out after too many failures; false: a delay")
