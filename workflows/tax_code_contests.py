"""Contesting a verified tax code: whoever finds its tax code verified for another account (at
registration, or after its own account was rejected) files a contest with the business
registration certificate (GCN ĐKDN); the one-stop desk or the administrator decides.

* **accepted**: the verification moves. The account that held the tax code verified is rejected
  (told why); when the contest was filed from an account holding the tax code, that account is
  verified, on the certificate and the officer's note; otherwise the tax code is free and the
  contester registers (its account is then verified at its first receipt, as any other).
* **refused**, with a reason.

The contester hears by e-mail when the contest is received and when it is decided (it may have no
account: the address it gave); the one-stop desk hears of a new contest. Every step is audited on
the contest's stream (``tax_code_contest:<id>``) and the accounts' own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import col, select

from workflows import audit, permissions, request_limits, tax_codes
from workflows.accounts import EMAIL, normalise_email
from workflows.attachments import detect_type, safe_filename, too_large
from workflows.clock import now
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, UploadRejected, not_found
from workflows.models import TaxCodeContest, User
from workflows.outbox import emit
from workflows.paging import Page, paginate

if TYPE_CHECKING:
    from workflows.runtime import Runtime

OPEN, ACCEPTED, REFUSED = "open", "accepted", "refused"
LISTED = 500


def _stream(contest: TaxCodeContest) -> str:
    return f"tax_code_contest:{contest.id}"


def _required(value: str, field: str, vi: str, en: str, limit: int) -> tuple[str, FieldProblem | None]:
    text = " ".join(value.split())[:limit]
    if not text:
        return text, FieldProblem(field, f"{vi} là bắt buộc.", f"{en} is required.", "required")
    return text, None


@command("file_tax_code_contest")
def file_contest(
    rt: Runtime,
    actor: User | None,
    *,
    tax_code: str,
    organisation_name: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    statement: str = "",
    certificate_name: str = "",
    certificate: bytes = b"",
    client_address: str | None = None,
) -> TaxCodeContest:
    """File a contest (``actor``: the account it is filed from, None without one; at most
    ``request_limits.TAX_CODE_CONTEST`` a day from one client address or for one contact address)."""
    tax_code = tax_code.strip()
    problems: list[FieldProblem] = []
    if (problem := tax_codes.tax_code_problem(tax_code)) is not None:
        problems.append(problem)
    organisation, problem = _required(
        organisation_name, "organisation_name", "Tên tổ chức", "The organisation", 300
    )
    problems += [problem] if problem else []
    name, problem = _required(contact_name, "contact_name", "Người liên hệ", "The contact person", 200)
    problems += [problem] if problem else []
    email = normalise_email(contact_email)
    if not EMAIL.match(email) or len(email) > 254:
        problems.append(
            FieldProblem(
                "contact_email", "Địa chỉ thư điện tử không hợp lệ.", "Invalid e-mail address.", "format"
            )
        )
    if not certificate:
        problems.append(
            FieldProblem(
                "certificate",
                "Hãy đính kèm Giấy chứng nhận đăng ký doanh nghiệp.",
                "Attach the business registration certificate.",
                "required",
            )
        )
    if problems:
        raise InvalidInput(
            "Khiếu nại chưa hợp lệ.", "The contest is not valid.", "validation_error", problems
        )
    if len(certificate) > rt.settings.max_upload_bytes:
        raise too_large(rt.settings.max_upload_bytes)
    filename = safe_filename(certificate_name or "giay-chung-nhan-dkdn.pdf")
    try:
        kind = detect_type(certificate, filename)
    except UploadRejected as exc:
        raise InvalidInput(
            exc.message,
            exc.message_en,
            "validation_error",
            [FieldProblem("certificate", exc.message, exc.message_en, exc.code)],
        ) from exc
    with transaction(rt.engine) as session:
        # Counted before the file is stored: a refused contest leaves nothing behind.
        request_limits.admit(
            session, request_limits.TAX_CODE_CONTEST, {"address": client_address, "email": email}
        )
        digest = rt.store.put(certificate)
        contest = TaxCodeContest(
            tax_code=tax_code,
            organisation_name=organisation,
            contact_name=name,
            contact_email=email,
            contact_phone=" ".join(contact_phone.split())[:30],
            statement=statement.strip()[:2000],
            certificate_filename=filename,
            certificate_type=kind.mime,
            certificate_sha256=digest,
            certificate_size=len(certificate),
            contester_id=actor.id if actor is not None else None,
        )
        session.add(contest)
        session.flush()
        at = contest.filed_at
        audit.record(
            session,
            _stream(contest),
            "filed",
            actor,
            {"tax_code": tax_code, "organisation_name": organisation, "contact_email": email},
            at=at,
        )
        payload = {
            "contest_id": contest.id,
            "tax_code": tax_code,
            "organisation_name": organisation,
            "contact_name": name,
        }
        emit(session, "tax_code_contest_received", None, {**payload, "contact_email": email}, at)
        emit(session, "tax_code_contest_filed", None, {**payload, "link_path": "/work/tax-code-contests"}, at)
        session.flush()
        session.expunge(contest)
        return contest


@command("decide_tax_code_contest")
def decide_contest(rt: Runtime, actor: User, contest_id: int, accepted: bool, note: str) -> TaxCodeContest:
    """Accept (the verification moves) or refuse a contest; ``note``: what was checked, or why not."""
    permissions.require(actor, permissions.ACCOUNT_VERIFY_TAX_CODE)
    text = tax_codes.evidence_of(note) if accepted else tax_codes.reason_of(note, "note")
    with transaction(rt.engine) as session:
        contest = session.exec(
            select(TaxCodeContest)
            .where(TaxCodeContest.id == contest_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if contest is None:
            raise not_found("khiếu nại", "Contest")
        if contest.status != OPEN:
            raise Conflict(
                "Khiếu nại này đã được giải quyết.", "This contest was already decided.", "already_decided"
            )
        at = now()
        moved: dict[str, int | None] = {"from": None, "to": None}
        if accepted:
            holders = tax_codes.lock_holders(session, contest.tax_code)
            reason = (
                f"Khiếu nại về mã số thuế {contest.tax_code} của {contest.organisation_name} được chấp nhận: "
                f"{text} / The contest of tax code {contest.tax_code} by {contest.organisation_name} was "
                "accepted."
            )[:500]
            for holder in holders:
                if holder.tax_code_status == tax_codes.VERIFIED and holder.id != contest.contester_id:
                    tax_codes.record_decision(session, holder, actor, tax_codes.REJECTED, reason, at)
                    moved["from"] = holder.id
            session.flush()
            contester = next((h for h in holders if h.id == contest.contester_id), None)
            if contester is not None and contester.tax_code_status != tax_codes.VERIFIED:
                evidence = f"{text} (khiếu nại số {contest.id} / contest no. {contest.id})"[:500]
                tax_codes.verify_in(session, actor, contester, evidence, holders)
                moved["to"] = contester.id
        contest.status = ACCEPTED if accepted else REFUSED
        contest.handled_at, contest.handled_by_id, contest.decision_note = at, actor.id, text[:2000]
        session.add(contest)
        audit.record(
            session,
            _stream(contest),
            contest.status,
            actor,
            {
                "tax_code": contest.tax_code,
                "note": contest.decision_note,
                "verification_from": moved["from"],
                "verification_to": moved["to"],
            },
            at=at,
        )
        emit(
            session,
            "tax_code_contest_decided",
            None,
            {
                "contest_id": contest.id,
                "tax_code": contest.tax_code,
                "organisation_name": contest.organisation_name,
                "contact_name": contest.contact_name,
                "contact_email": contest.contact_email,
                "accepted": accepted,
                "note": contest.decision_note,
                # Accepted without an account of its own: the tax code is free to register now.
                "register": accepted and moved["to"] is None,
            },
            at,
        )
        session.flush()
        session.expunge(contest)
        return contest


@dataclass(frozen=True)
class ListedContest:
    contest: TaxCodeContest
    holder: str  # the verified holder of the tax code now ("" when none)
    handled_by: str


def contest_list(rt: Runtime, actor: User, decided: bool = False) -> list[ListedContest]:
    """Open contests, oldest first (``decided``: the latest decided ones, newest first)."""
    return contest_page(rt, actor, decided, 1, LISTED).items


def contest_page(rt: Runtime, actor: User, decided: bool = False, page: int = 1, page_size: int = 50) -> Page:
    """``contest_list``, one page of it and how many there are."""
    permissions.require(actor, permissions.ACCOUNT_VERIFY_TAX_CODE)
    query = select(TaxCodeContest)
    if decided:
        query = query.where(TaxCodeContest.status != OPEN).order_by(
            col(TaxCodeContest.handled_at).desc(), col(TaxCodeContest.id).desc()
        )
    else:
        query = query.where(TaxCodeContest.status == OPEN).order_by(
            col(TaxCodeContest.filed_at), col(TaxCodeContest.id)
        )
    with reading(rt.engine) as session:
        found = paginate(session, query, page, page_size)
        contests = found.items
        codes = {c.tax_code for c in contests}
        holders = {
            u.tax_code: u
            for u in session.exec(
                select(User).where(col(User.tax_code).in_(codes), User.tax_code_status == tax_codes.VERIFIED)
            ).all()
        }
        officer_ids = {c.handled_by_id for c in contests if c.handled_by_id}
        officers = {
            u.id: u.full_name for u in session.exec(select(User).where(col(User.id).in_(officer_ids))).all()
        }
    listed = [
        ListedContest(
            contest=c,
            holder=(
                f"{holders[c.tax_code].organisation_name or holders[c.tax_code].full_name} ({holders[c.tax_code].email})"
                if c.tax_code in holders
                else ""
            ),
            handled_by=officers.get(c.handled_by_id or 0, ""),
        )
        for c in contests
    ]
    return Page(listed, found.total, found.page, found.page_size)


def certificate(rt: Runtime, actor: User, contest_id: int) -> tuple[TaxCodeContest, bytes]:
    """A contest's certificate, for those who decide contests."""
    permissions.require(actor, permissions.ACCOUNT_VERIFY_TAX_CODE)
    with reading(rt.engine) as session:
        contest = session.get(TaxCodeContest, contest_id)
    if contest is None:
        raise not_found("khiếu nại", "Contest")
    return contest, rt.store.read(contest.certificate_sha256)
