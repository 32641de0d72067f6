"""An inspection campaign's findings: recording a visited site (its instruments, from the registry
or not), handling the violations, and reading them back. The two operators run inside the command
that completed the officer's step, so a site or a handling is recorded whole or not at all; a
reference the registry does not know is refused (422, naming the field), never guessed.

A violation found on an instrument of the registry updates the department's warning list
(``workflows.metrology.alerts``): no valid verification opens (or finds) the ``failed`` or
``overdue`` warning of its current verification, a lost or broken stamp the ``stamp_lost`` one;
any other violation is linked to the instrument's warning still open, if there is one. An
instrument with no verification at all, or not in the registry, has no warning to hang on (the
warning list keys each warning to a verification): its finding is listed in the report alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from workflows import audit
from workflows.catalogue import office_day
from workflows.context import CommandContext
from workflows.errors import FieldProblem, InvalidInput
from workflows.metrology import alerts, unverified, warning_list
from workflows.metrology.models import Instrument, VerificationRecord, ViolationWarning
from workflows.procedures.metrology_campaign.models import (
    CLOSED,
    COMPLIANT,
    HANDLING_ACTIONS,
    NO_VALID_VERIFICATION,
    REQUEST_VERIFICATION,
    STAMP_LOST_OR_BROKEN,
    TRANSFERRED,
    CampaignFinding,
)

RESULT_LABELS = {
    COMPLIANT: ("Đạt yêu cầu", "Compliant"),
    NO_VALID_VERIFICATION: ("Không có kiểm định còn hiệu lực", "No valid verification"),
    STAMP_LOST_OR_BROKEN: ("Mất hoặc hỏng tem kiểm định", "Verification stamp lost or broken"),
    "other_violation": ("Vi phạm khác", "Other violation"),
}
ACTION_LABELS = {
    REQUEST_VERIFICATION: ("Yêu cầu kiểm định trong thời hạn", "Verification requested within a deadline"),
    TRANSFERRED: ("Chuyển biên bản vi phạm cho Thanh tra", "Record of violation sent to the inspectorate"),
    CLOSED: ("Đóng (đã khắc phục)", "Closed (remedied)"),
}
# What handling a violation does to the warning it found (workflows.metrology.alerts.ACTIONS).
_WARNING_ACTION = {REQUEST_VERIFICATION: "contact_owner", TRANSFERRED: "plan_inspection", CLOSED: "close"}


def _invalid(field: str, vi: str, en: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(
        "Thông tin kiểm tra chưa hợp lệ.",
        "The inspection record is not valid.",
        "validation_error",
        [FieldProblem(field, vi, en, code)],
    )


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


# --- a site -------------------------------------------------------------------------------------


def record_site(ctx: CommandContext, params: dict[str, Any]) -> None:
    """Operator ``campaign_record_site``: the site just filed (``site``) and its findings."""
    site = params.get("site") or {}
    session, dossier = ctx.session, ctx.dossier
    assert dossier.id is not None
    visited = _day(site.get("visited_on"))
    plan = dossier.data.get("plan") or {}
    period_from, period_to = _day(plan.get("period_from")), _day(plan.get("period_to"))
    if not period_from <= visited <= period_to:
        raise _invalid(
            "site.visited_on",
            f"Ngày kiểm tra phải trong thời gian của kế hoạch ({period_from:%d/%m/%Y} – {period_to:%d/%m/%Y}).",
            f"The visit must fall within the plan's period ({period_from:%d/%m/%Y} – {period_to:%d/%m/%Y}).",
            "out_of_range",
        )
    if visited > office_day(ctx.at):
        raise _invalid(
            "site.visited_on", "Ngày kiểm tra chưa đến.", "The visit day is in the future.", "future"
        )
    last = session.exec(
        select(CampaignFinding.site_no)
        .where(CampaignFinding.dossier_id == dossier.id)
        .order_by(col(CampaignFinding.site_no).desc())
    ).first()
    site_no = (last or 0) + 1
    rows: list[CampaignFinding] = []
    for number, finding in enumerate(site.get("findings") or [], start=1):
        where = f"site.findings[{number - 1}]"
        instrument, stamp = _instrument_of(session, finding, where)
        unregistered = finding.get("unregistered") or {}
        row = CampaignFinding(
            dossier_id=dossier.id,
            site_no=site_no,
            finding_no=number,
            site_owner=_text(site.get("owner_name"), 300),
            site_address=_text(site.get("address"), 300),
            site_commune=_text(site.get("commune"), 120),
            visited_on=visited,
            instrument_id=instrument.id if instrument else None,
            stamp_number=stamp,
            kind=instrument.kind if instrument else _text(unregistered.get("kind"), 40),
            model=instrument.model if instrument else _text(unregistered.get("model"), 100),
            serial_number=instrument.serial_number
            if instrument
            else _text(unregistered.get("serial_number"), 60),
            result=str(finding.get("result")),
            note=_text(finding.get("note"), 1000),
            recorded_at=ctx.at,
            recorded_by_id=ctx.actor.id if ctx.actor else None,
        )
        if instrument is not None and row.violating and ctx.actor is not None:
            row.warning_id = _warning_for(session, ctx, instrument, row)
        session.add(row)
        rows.append(row)
    session.flush()
    audit.record(
        session,
        ctx.stream,
        "campaign_site_recorded",
        ctx.actor,
        {
            "site_no": site_no,
            "owner": rows[0].site_owner if rows else "",
            "findings": len(rows),
            "violations": sum(1 for r in rows if r.violating),
            "warnings": sorted({r.warning_id for r in rows if r.warning_id}),
        },
        dossier_id=dossier.id,
        at=ctx.at,
    )


def _instrument_of(session: Session, finding: dict[str, Any], where: str) -> tuple[Instrument | None, str]:
    """The registry's instrument a finding names (by id or by stamp number), and the stamp number;
    (None, "") for an instrument recorded as not in the registry. Exactly one way must be used."""
    named = [
        k for k in ("instrument_id", "stamp_number", "unregistered") if finding.get(k) not in (None, "", {})
    ]
    if len(named) != 1:
        raise _invalid(
            f"{where}.instrument_id",
            "Chọn phương tiện đo theo mã trong cơ sở dữ liệu, theo số tem, hoặc ghi phương tiện đo chưa có "
            "trong cơ sở dữ liệu (chỉ một cách).",
            "Name the instrument by its registry id, by its stamp number, or record one not in the "
            "registry (one way only).",
            "one_of",
        )
    if named[0] == "instrument_id":
        instrument = session.get(Instrument, int(finding["instrument_id"]))
        if instrument is None:
            raise _invalid(
                f"{where}.instrument_id",
                "Không có phương tiện đo với mã này trong cơ sở dữ liệu.",
                "No instrument with this id in the registry.",
                "not_found",
            )
        stamp = ""
        if instrument.current_verification_id is not None:
            record = session.get(VerificationRecord, instrument.current_verification_id)
            stamp = (record.stamp_number or "") if record else ""
        return instrument, stamp
    if named[0] == "stamp_number":
        typed = " ".join(str(finding["stamp_number"]).split()).upper()
        record = session.exec(
            select(VerificationRecord).where(VerificationRecord.stamp_number == typed)
        ).first()
        instrument = session.get(Instrument, record.instrument_id) if record else None
        if instrument is None:
            raise _invalid(
                f"{where}.stamp_number",
                "Không có tem kiểm định với số này trong cơ sở dữ liệu.",
                "No verification stamp with this number in the registry.",
                "not_found",
            )
        return instrument, typed
    return None, ""


def _warning_for(
    session: Session, ctx: CommandContext, instrument: Instrument, row: CampaignFinding
) -> int | None:
    """Open or link the metrology warning of a violation found on a registry instrument."""
    assert ctx.actor is not None and instrument.id is not None
    note = f"Kiểm tra {ctx.dossier.code}, cơ sở {row.site_no}: {row.note}".strip(": ")[:1000]
    cause: str | None = None
    since = row.visited_on
    if row.result == NO_VALID_VERIFICATION and instrument.current_verification_id is None:
        cause = unverified.UNVERIFIED  # registered, never verified, and found in use
    elif row.result == NO_VALID_VERIFICATION:
        if instrument.current_result != "pass" or instrument.current_valid_until is None:
            cause = alerts.FAILED
        elif instrument.current_valid_until < row.visited_on:
            cause, since = alerts.OVERDUE, instrument.current_valid_until + timedelta(days=1)
    elif row.result == STAMP_LOST_OR_BROKEN:
        cause = alerts.STAMP_LOST
    if cause is not None:
        found = alerts.open_or_link_warning(session, instrument, cause, since, ctx.actor, note)
        if found is not None:
            return found
    return warning_list.open_warning_of(session, instrument.id)


# --- the handling of the violations ---------------------------------------------------------------


def handle_violations(ctx: CommandContext, params: dict[str, Any]) -> None:
    """Operator ``campaign_handle``: one decision for each violating finding (``handlings``)."""
    session, dossier = ctx.session, ctx.dossier
    handlings = list(params.get("handlings") or [])
    violating = {
        f.id: f
        for f in session.exec(
            select(CampaignFinding).where(
                CampaignFinding.dossier_id == dossier.id, CampaignFinding.result != COMPLIANT
            )
        ).all()
    }
    seen: set[int] = set()
    today = office_day(ctx.at)
    for index, handling in enumerate(handlings):
        where = f"handlings[{index}]"
        finding = violating.get(int(handling.get("finding_id") or 0))
        if finding is None or finding.id in seen:
            raise _invalid(
                f"{where}.finding_id",
                "Không phải một phát hiện vi phạm của đợt kiểm tra này, hoặc đã được xử lý ở dòng khác.",
                "Not a violation found by this campaign, or handled on another line.",
                "not_found",
            )
        assert finding.id is not None
        seen.add(finding.id)
        action = str(handling.get("action"))
        note = _text(handling.get("note"), 1000)
        if action == CLOSED and not note:
            raise _invalid(
                f"{where}.note", "Cần ghi lý do đóng.", "A reason is required to close.", "required"
            )
        days = handling.get("within_days")
        if action == REQUEST_VERIFICATION and not days:
            raise _invalid(
                f"{where}.within_days",
                "Cần ghi thời hạn kiểm định (số ngày làm việc).",
                "The deadline for the verification (working days) is required.",
                "required",
            )
        if action not in HANDLING_ACTIONS:  # the form's enum makes this unreachable
            raise _invalid(f"{where}.action", "Biện pháp không hợp lệ.", "Unknown action.", "enum")
        finding.action, finding.action_note = action, note
        if action == REQUEST_VERIFICATION:
            due = ctx.rt.calendar.end_of_working_days_after(today, int(days or 1))
            finding.action_due = office_day(due)
        finding.handled_at, finding.handled_by_id = ctx.at, ctx.actor.id if ctx.actor else None
        _update_warning(session, ctx, finding)
        session.add(finding)
    missing = sorted(set(violating) - seen)
    if missing:
        raise _invalid(
            "handlings",
            f"Còn {len(missing)} phát hiện vi phạm chưa quyết định biện pháp xử lý (mã {', '.join(map(str, missing))}).",
            f"{len(missing)} violation(s) have no action decided (ids {', '.join(map(str, missing))}).",
            "incomplete",
        )
    session.flush()
    audit.record(
        session,
        ctx.stream,
        "campaign_violations_handled",
        ctx.actor,
        {"handled": {str(f.id): f.action for f in violating.values()}},
        dossier_id=dossier.id,
        at=ctx.at,
    )


def _update_warning(session: Session, ctx: CommandContext, finding: CampaignFinding) -> None:
    if finding.warning_id is None or ctx.actor is None:
        return
    warning = session.exec(
        select(ViolationWarning).where(ViolationWarning.id == finding.warning_id).with_for_update()
    ).first()
    if warning is None or warning.state == alerts.CLOSED:
        return
    vi, _ = ACTION_LABELS[finding.action]
    due = f" trước {finding.action_due:%d/%m/%Y}" if finding.action_due else ""
    note = f"Kiểm tra {ctx.dossier.code}: {vi}{due}. {finding.action_note}".strip()[:1000]
    warning_list.apply_action(session, ctx.actor, warning, _WARNING_ACTION[finding.action], note)


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    sites: int
    findings: int
    compliant: int
    violations: int
    handled: int
    warnings: int


def findings_of(session: Session, dossier_id: int) -> list[CampaignFinding]:
    return list(
        session.exec(
            select(CampaignFinding)
            .where(CampaignFinding.dossier_id == dossier_id)
            .order_by(col(CampaignFinding.site_no), col(CampaignFinding.finding_no))
        ).all()
    )


def counts_of(rows: list[CampaignFinding]) -> Counts:
    violating = [r for r in rows if r.violating]
    return Counts(
        sites=len({r.site_no for r in rows}),
        findings=len(rows),
        compliant=len(rows) - len(violating),
        violations=len(violating),
        handled=sum(1 for r in violating if r.action),
        warnings=len({r.warning_id for r in rows if r.warning_id}),
    )
