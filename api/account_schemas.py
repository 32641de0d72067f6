"""Request and response bodies of accounts: registration, passwords, sessions, the tax code's
verification and login locks. Instants are ISO 8601 in Asia/Ho_Chi_Minh (+07:00)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas import Label, LocalTimes, SingleLine
from workflows import tax_codes
from workflows.models import User


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
