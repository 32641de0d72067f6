"""Response bodies of the public lookup and of document verification: a dossier as the public sees
it, an issued document, its signatures and a checked file."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.schemas import Label, LocalTimes
from workflows.clock import format_date
from workflows.verification import FileCheck, VerifiedDocument


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
