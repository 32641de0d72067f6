"""A business's tax code is verified, not taken by whoever registers first.

A business account starts ``unverified``; several accounts may hold one tax code meanwhile. A clerk
(or the administrator) checks it against the business registration (the certificate, GCN ĐKDN, or
a look-up on the national business registration portal), usually at the first dossier's receipt,
and **verifies** one account — every other account holding the tax code is then **rejected** — or
**rejects** one, with a reason. A rejected account keeps its dossiers but submits no new one until
it corrects its tax code or contests (``workflows.tax_code_contests``). A tax code held by a
verified account is refused at registration, with the way to contest.

The database guarantees at most one verified account per tax code (the partial unique index
``uq_app_user_verified_tax_code``); the commands lock the accounts of a tax code before deciding,
so that of two officers deciding at once one waits, then is told what the other decided.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from stdnum.vn import mst

from workflows import audit, permissions
from workflows.clock import now
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import TAX_CODE_STATES, Dossier, User
from workflows.outbox import emit

if TYPE_CHECKING:
    from workflows.runtime import Runtime

UNVERIFIED, VERIFIED, REJECTED = TAX_CODE_STATES
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")
MIN_NOTE = 10  # characters: evidence names a document ("GCN ĐKDN số …"), a reason says why
CONTEST_PAGE = "/tax-code-contests/new"
VERIFIED_INDEX = "uq_app_user_verified_tax_code"

# The outbox events of tax codes and their contests (workflows.outbox declares who hears of each).
EVENT_TYPES = (
    "tax_code_verified",
    "tax_code_rejected",
    "tax_code_contest_received",
    "tax_code_contest_filed",
    "tax_code_contest_decided",
)

STATE_LABELS: dict[str, tuple[str, str]] = {
    UNVERIFIED: ("Chưa xác minh", "Not verified yet"),
    VERIFIED: ("Đã xác minh", "Verified"),
    REJECTED: ("Bị từ chối", "Rejected"),
}


def state_label(state: str | None) -> tuple[str, str]:
    return STATE_LABELS.get(state or "", ("", ""))


# --- what a tax code is ---------------------------------------------------------------------------


def tax_code_problem(tax_code: str, field: str = "tax_code") -> FieldProblem | None:
    """What is wrong with ``tax_code`` as written (the pattern, then python-stdnum's check digit:
    0000000000 and 1234567890 are no tax codes), or None."""
    if not TAX_CODE.match(tax_code):
        return FieldProblem(
            field,
            "Mã số thuế gồm 10 chữ số, hoặc 10 chữ số, dấu '-' và 3 chữ số (mã đơn vị phụ thuộc).",
            "A tax code is 10 digits, or 10 digits, '-' and 3 digits (dependent unit).",
            "pattern",
        )
    if not mst.is_valid(tax_code):
        return FieldProblem(
            field,
            "Mã số thuế không hợp lệ (chữ số kiểm tra không đúng): xin kiểm tra lại.",
            "Not a valid tax code (its check digit is wrong): check it again.",
            "checksum",
        )
    return None


def verified_elsewhere(field: str = "tax_code") -> Conflict:
    """A tax code a verified account holds: refused, with the way to contest."""
    return Conflict(
        "Mã số thuế này đã được Sở xác minh cho một tài khoản khác. Nếu đây là mã số thuế của tổ chức "
        f"bạn, hãy gửi khiếu nại kèm Giấy chứng nhận đăng ký doanh nghiệp tại {CONTEST_PAGE} "
        "(hoặc POST /api/tax-code-contests); Sở xem xét và trả lời qua thư điện tử.",
        "This tax code was verified by the Department for another account. If it is your "
        "organisation's tax code, contest it with your business registration certificate at "
        f"{CONTEST_PAGE} (or POST /api/tax-code-contests); the Department answers by e-mail.",
        "tax_code_verified",
        [
            FieldProblem(
                field,
                f"Đã được xác minh cho tài khoản khác; khiếu nại tại {CONTEST_PAGE}.",
                f"Verified for another account; contest at {CONTEST_PAGE}.",
                "verified",
            )
        ],
    )


def check_registrable(session: Session, tax_code: str, field: str = "tax_code") -> None:
    """A new account may take ``tax_code`` unless a verified account holds it (then Conflict
    ``tax_code_verified``, with the way to contest). Accounts that are unverified or rejected
    do not stand in the way: the officer decides between them."""
    if session.exec(
        select(User.id).where(User.tax_code == tax_code, User.tax_code_status == VERIFIED)
    ).first():
        raise verified_elsewhere(field)


# --- deciding ---------------------------------------------------------------------------------------


def _note(text: str, field: str, what_vi: str, what_en: str) -> str:
    note = " ".join(text.split())
    if len(note) < MIN_NOTE:
        raise InvalidInput(
            f"Hãy ghi rõ {what_vi}.",
            f"Say {what_en}.",
            "validation_error",
            [
                FieldProblem(
                    field,
                    f"Cần ít nhất {MIN_NOTE} ký tự.",
                    f"At least {MIN_NOTE} characters are needed.",
                    "minLength",
                )
            ],
        )
    return note[:500]


def evidence_of(text: str) -> str:
    return _note(
        text,
        "evidence",
        "căn cứ xác minh (ví dụ: GCN ĐKDN số …, ngày …)",
        "what the verification rests on (e.g. the business registration certificate no. …, of …)",
    )


def reason_of(text: str, field: str = "reason") -> str:
    return _note(text, field, "lý do từ chối", "why it is rejected")


def _business(session: Session, user_id: int) -> User:
    account = session.get(User, user_id)
    if account is None or not account.tax_code or account.tax_code_status is None:
        raise not_found("tài khoản doanh nghiệp", "Business account")
    return account


def lock_holders(session: Session, tax_code: str) -> list[User]:
    """The accounts holding ``tax_code``, locked in id order until the transaction ends (PostgreSQL:
    ``FOR UPDATE``; SQLite's write lock is held since ``BEGIN IMMEDIATE``), read afresh."""
    return list(
        session.exec(
            select(User)
            .where(User.tax_code == tax_code)
            .order_by(col(User.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    )


def record_decision(
    session: Session, account: User, actor: User | None, state: str, note: str, at: datetime
) -> None:
    """Set the account's tax-code state (who, when, on what), audit it on the account's stream and
    tell the account (outbox). The caller holds the lock of the tax code's accounts."""
    before = account.tax_code_status
    account.tax_code_status = state
    account.tax_code_decided_at = at
    account.tax_code_decided_by_id = actor.id if actor else None
    account.tax_code_note = note
    session.add(account)
    audit.record(
        session,
        f"user:{account.id}",
        f"tax_code_{state}",
        actor,
        {"tax_code": account.tax_code, "before": before, "after": state, "note": note},
        at=at,
    )
    emit(
        session,
        f"tax_code_{state}",
        None,
        {
            "user_ids": [account.id],
            "tax_code": account.tax_code,
            "organisation_name": account.organisation_name or "",
            "note": note,
            "link_path": "/account/tax-code",
        },
        at,
    )


def verify_in(
    session: Session, actor: User | None, account: User, evidence: str, holders: Sequence[User]
) -> User:
    """Verify ``account`` (one of ``holders``, the locked accounts of its tax code); every other
    holder not yet rejected is rejected, told why. Conflict when another holds it verified."""
    if account.tax_code_status == VERIFIED:
        raise Conflict(
            "Mã số thuế của tài khoản này đã được xác minh.",
            "This account's tax code is already verified.",
            "already_verified",
        )
    if any(h.tax_code_status == VERIFIED for h in holders if h.id != account.id):
        raise verified_elsewhere()
    at = now()
    # Written at the flush below, not by a query on the way (the audit's reads would flush early):
    # the one place where the partial unique index may refuse it.
    with session.no_autoflush:
        record_decision(session, account, actor, VERIFIED, evidence, at)
        for other in holders:
            if other.id != account.id and other.tax_code_status != REJECTED:
                record_decision(
                    session,
                    other,
                    actor,
                    REJECTED,
                    f"Mã số thuế {account.tax_code} đã được xác minh cho tổ chức khác theo giấy tờ đăng ký "
                    f"doanh nghiệp. / Tax code {account.tax_code} was verified for another organisation "
                    "against its business registration.",
                    at,
                )
    try:
        session.flush()
    except IntegrityError as exc:
        # The partial unique index: a second verified account of the tax code is never written.
        if VERIFIED_INDEX in str(exc.orig) or "app_user.tax_code" in str(exc.orig):
            raise verified_elsewhere() from exc
        raise
    return account


@command("verify_tax_code")
def verify_tax_code(rt: Runtime, actor: User, user_id: int, evidence: str) -> User:
    """Verify a business's tax code against its registration (``evidence``: what was checked)."""
    permissions.require(actor, permissions.ACCOUNT_VERIFY_TAX_CODE)
    note = evidence_of(evidence)
    with transaction(rt.engine) as session:
        tax_code = _business(session, user_id).tax_code or ""
        holders = lock_holders(session, tax_code)
        account = next((h for h in holders if h.id == user_id), None)
        if account is None:  # its tax code changed while we locked
            raise not_found("tài khoản doanh nghiệp", "Business account")
        verify_in(session, actor, account, note, holders)
        session.expunge(account)
        return account


@command("reject_tax_code")
def reject_tax_code(rt: Runtime, actor: User, user_id: int, reason: str) -> User:
    """Reject a business's unverified tax code (``reason`` required); the business is told."""
    permissions.require(actor, permissions.ACCOUNT_VERIFY_TAX_CODE)
    note = reason_of(reason)
    with transaction(rt.engine) as session:
        tax_code = _business(session, user_id).tax_code or ""
        account = next((h for h in lock_holders(session, tax_code) if h.id == user_id), None)
        if account is None:
            raise not_found("tài khoản doanh nghiệp", "Business account")
        if account.tax_code_status != UNVERIFIED:
            vi, en = state_label(account.tax_code_status)
            raise Conflict(
                f"Chỉ từ chối được mã số thuế chưa xác minh (tài khoản này: {vi.lower()}).",
                f"Only an unverified tax code can be rejected (this account's: {en.lower()}).",
                "not_unverified",
            )
        record_decision(session, account, actor, REJECTED, note, now())
        session.flush()
        session.expunge(account)
        return account


@command("correct_tax_code")
def correct_tax_code(rt: Runtime, actor: User, tax_code: str) -> User:
    """A business corrects its own tax code while it is not verified (e.g. after a rejection): the
    account is unverified again with the new one; refused when a verified account holds it."""
    tax_code = tax_code.strip()
    problem = tax_code_problem(tax_code)
    if problem is not None:
        raise InvalidInput(
            "Mã số thuế chưa hợp lệ.", "The tax code is not valid.", "validation_error", [problem]
        )
    with transaction(rt.engine) as session:
        account = session.get(User, actor.id)
        if account is None or account.tax_code_status is None:
            raise not_found("tài khoản doanh nghiệp", "Business account")
        if account.tax_code_status == VERIFIED:
            raise Conflict(
                "Mã số thuế của tài khoản đã được xác minh; muốn thay đổi, xin liên hệ bộ phận một cửa.",
                "The account's tax code is verified; to change it, contact the one-stop desk.",
                "already_verified",
                [FieldProblem("tax_code", "Đã xác minh.", "Verified.", "verified")],
            )
        check_registrable(session, tax_code)
        before = account.tax_code
        account.tax_code = tax_code
        account.tax_code_status = UNVERIFIED
        account.tax_code_decided_at = account.tax_code_decided_by_id = account.tax_code_note = None
        session.add(account)
        audit.record(
            session,
            f"user:{account.id}",
            "tax_code_corrected",
            account,
            {"before": before, "after": tax_code},
        )
        session.flush()
        session.expunge(account)
        return account


def refuse_new_dossier_if_rejected(session: Session, actor: User) -> None:
    """A rejected account keeps its dossiers but starts no new one (Conflict ``tax_code_rejected``)."""
    if actor.tax_code_status is None:
        return
    state = session.exec(select(User.tax_code_status).where(User.id == actor.id)).first()
    if state == REJECTED:
        raise Conflict(
            "Mã số thuế của tài khoản đã bị từ chối khi đối chiếu với đăng ký doanh nghiệp nên chưa nộp "
            "được hồ sơ mới. Hãy sửa mã số thuế tại /account/tax-code, hoặc khiếu nại tại "
            f"{CONTEST_PAGE}.",
            "The account's tax code was rejected against the business registration, so no new dossier "
            "can be submitted. Correct the tax code at /account/tax-code, or contest at "
            f"{CONTEST_PAGE}.",
            "tax_code_rejected",
        )


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """An account holding a tax code, as the officers' list shows it."""

    id: int
    email: str
    full_name: str
    organisation_name: str
    phone: str
    address: str
    registered_at: datetime
    status: str
    decided_at: datetime | None
    note: str
    dossiers: int
    received: int


@dataclass(frozen=True)
class TaxCodeGroup:
    """A tax code with unverified accounts, and every account holding it."""

    tax_code: str
    holders: list[Holder]

    @property
    def contested(self) -> bool:
        """Several accounts hold it (not counting the rejected ones): the officer must choose."""
        return sum(h.status != REJECTED for h in self.holders) > 1

    @property
    def verified(self) -> Holder | None:
        return next((h for h in self.holders if h.status == VERIFIED), None)


def unverified_groups(rt: Runtime, actor: User) -> list[TaxCodeGroup]:
    """The tax codes held by an unverified account, each with all its holders: those held by
    several accounts first, then by the earliest registration."""
    permissions.require(actor, permissions.ACCOUNT_VERIFY_TAX_CODE)
    with reading(rt.engine) as session:
        pending = select(User.tax_code).where(User.tax_code_status == UNVERIFIED)
        accounts = session.exec(
            select(User).where(col(User.tax_code).in_(pending)).order_by(col(User.tax_code), col(User.id))
        ).all()
        ids = [a.id for a in accounts]
        counts: dict[int, tuple[int, int]] = {}
        if ids:
            for applicant, total, received in session.exec(
                select(
                    Dossier.applicant_id,
                    func.count(),
                    func.count(col(Dossier.received_at)),
                )
                .where(col(Dossier.applicant_id).in_(ids))
                .group_by(Dossier.applicant_id)
            ).all():
                counts[applicant] = (int(total), int(received))
    groups: dict[str, list[Holder]] = {}
    for a in accounts:
        total, received = counts.get(a.id or 0, (0, 0))
        groups.setdefault(a.tax_code or "", []).append(
            Holder(
                id=a.id or 0,
                email=a.email,
                full_name=a.full_name,
                organisation_name=a.organisation_name or "",
                phone=a.phone or "",
                address=a.address or "",
                registered_at=a.created_at,
                status=a.tax_code_status or UNVERIFIED,
                decided_at=a.tax_code_decided_at,
                note=a.tax_code_note or "",
                dossiers=total,
                received=received,
            )
        )
    result = [TaxCodeGroup(code, holders) for code, holders in groups.items()]
    return sorted(
        result, key=lambda g: (not g.contested, min(h.registered_at for h in g.holders), g.tax_code)
    )


@dataclass(frozen=True)
class ApplicantCheck:
    """What an officer who may verify is shown on a dossier whose applicant is unverified."""

    user_id: int
    tax_code: str
    organisation_name: str
    other_holders: int  # other accounts holding the tax code (not rejected)


def applicant_check(rt: Runtime, viewer: User, dossier: Dossier) -> ApplicantCheck | None:
    """The applicant's unverified tax code, for an officer who may verify it, while the dossier is
    open (any procedure: the receipt task and the dossier page show it); else None."""
    if dossier.completed_at is not None or not permissions.may(viewer, permissions.ACCOUNT_VERIFY_TAX_CODE):
        return None
    with reading(rt.engine) as session:
        applicant = session.get(User, dossier.applicant_id)
        if applicant is None or applicant.tax_code_status != UNVERIFIED or not applicant.tax_code:
            return None
        others = session.exec(
            select(func.count()).where(
                User.tax_code == applicant.tax_code,
                User.id != applicant.id,
                User.tax_code_status != REJECTED,
            )
        ).one()
    return ApplicantCheck(
        user_id=applicant.id or 0,
        tax_code=applicant.tax_code,
        organisation_name=applicant.organisation_name or applicant.full_name,
        other_holders=int(others),
    )


def decided_by_name(rt: Runtime, account: User) -> str:
    """Who decided on the account's tax code ("" for the system or nobody yet)."""
    if account.tax_code_decided_by_id is None:
        return ""
    with reading(rt.engine) as session:
        officer = session.get(User, account.tax_code_decided_by_id)
        return officer.full_name if officer else ""
