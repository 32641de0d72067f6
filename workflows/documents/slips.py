"""The one-stop slips every procedure issues, on the forms of Circular 03/2025/TT-VPCP (guiding
Decree 118/2025/NĐ-CP; they replace the forms of Circular 01/2018/TT-VPCP): the receipt and
appointment (Mẫu số 01), the supplement request (02), the refusal to receive (03), the apology
and request to extend the time (04), the notice of stopping the processing (05) and the process
control slip (06). The forms' numbers and
titles are from Annex I of the circular; its in-force date is (check)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workflows.clock import as_utc
from workflows.documents.model import Block, DocumentBody, DocumentContext, Grid, Para, Span, document_kind
from workflows.documents.templating import Variable, template_kind
from workflows.documents.text import (
    ONE_STOP_UNIT,
    agency_in_text,
    applicant_identity,
    applicant_paras,
    as_instant,
    as_text,
    date_vn,
    ended,
    ending,
    extra_days,
    extra_instant,
    instant_short,
    instant_vn,
    procedure_name,
    received_phrase,
    texts,
)


@template_kind(
    "receipt_refusal",
    Variable("reason", "Lý do từ chối tiếp nhận", "Why the dossier is refused"),
)
def receipt_refusal_values(ctx: DocumentContext) -> dict[str, Any]:
    reason = as_text((ctx.data or {}).get("refusal_reason"))
    if not reason:
        raise ValueError("receipt_refusal needs data['refusal_reason']")
    return {"reason": reason, "procedure": procedure_name(ctx)}


@document_kind(
    "receipt_refusal",
    title_vi="Phiếu từ chối tiếp nhận giải quyết hồ sơ (Mẫu số 03, Thông tư 03/2025/TT-VPCP)",
    title_en="Refusal to receive a dossier (form 03, Circular 03/2025/TT-VPCP)",
    symbol="PTC",
)
def receipt_refusal(ctx: DocumentContext) -> DocumentBody:
    reason = receipt_refusal_values(ctx)["reason"]
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)
    procedure = procedure_name(ctx)

    blocks: list[Block] = [
        Para((f"{ONE_STOP_UNIT} - {agency} đã tiếp nhận hồ sơ của:",)),
        *applicant_paras(ctx),
    ]
    blocks.append(
        Para(("Nội dung yêu cầu giải quyết: thủ tục ", Span(procedure, bold=True), "."), align="left")
    )
    submitted = received_phrase(ctx, "; ngày nộp hồ sơ:")
    blocks.append(
        Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True), f"{submitted}."), align="left")
    )
    blocks.append(
        Para(
            (
                "Sau khi xem xét, đối chiếu thành phần hồ sơ với quy định hiện hành, Bộ phận Tiếp nhận và "
                "Trả kết quả từ chối tiếp nhận, giải quyết hồ sơ này với lý do: ",
                Span(ending(reason, "."), bold=True),
            )
        )
    )
    blocks.append(Para((f"Xin thông báo để {applicant} biết và thực hiện.",)))
    return DocumentBody(
        heading="PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        blocks=ended(blocks),
        recipients=(applicant, "Lưu: Bộ phận Tiếp nhận và Trả kết quả"),
        # The form's signature: the officer who received the dossier (check against Mẫu 03).
        signer_title="NGƯỜI TIẾP NHẬN HỒ SƠ",
    )


@template_kind("stop_notice", Variable("reason", "Lý do dừng giải quyết", "Why the processing stops"))
def stop_notice_values(ctx: DocumentContext) -> dict[str, Any]:
    reason = as_text(ctx.extra.get("reason"))
    if not reason:
        raise ValueError("stop_notice needs extra['reason']")
    return {"reason": reason, "procedure": procedure_name(ctx)}


@document_kind(
    "stop_notice",
    title_vi="Thông báo dừng giải quyết hồ sơ (Mẫu số 05, Thông tư 03/2025/TT-VPCP)",
    title_en="Notice of stopping the processing of a dossier (form 05, Circular 03/2025/TT-VPCP)",
    symbol="TBDGQ",
)
def stop_notice(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 05: the processing of a received dossier stops. ``extra``: ``reason`` (why: the
    applicant withdrew it, or did not complete it in the time the supplement request gave)."""
    reason = stop_notice_values(ctx)["reason"]
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)
    blocks: list[Block] = [
        Para((f"{ONE_STOP_UNIT} - {agency} thông báo dừng giải quyết hồ sơ của:",)),
        *applicant_paras(ctx),
        Para(
            ("Nội dung yêu cầu giải quyết: thủ tục ", Span(procedure_name(ctx), bold=True), "."), align="left"
        ),
        Para(
            (
                "Mã hồ sơ: ",
                Span(as_text(ctx.dossier_code), bold=True),
                f"{received_phrase(ctx, '; ngày tiếp nhận:')}.",
            ),
            align="left",
        ),
        Para(("Lý do dừng giải quyết: ", Span(ending(reason, "."), bold=True))),
        Para((f"Hồ sơ được lưu tại {agency}. Khi có nhu cầu, {applicant} nộp hồ sơ mới theo quy định.",)),
    ]
    return DocumentBody(
        heading="THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
        blocks=ended(blocks),
        recipients=(applicant, f"Lưu: {ONE_STOP_UNIT}"),
        signer_title=ONE_STOP_UNIT.upper(),
    )


def numbered(items: Sequence[str]) -> list[Block]:
    """Items as "1. …;" … "n. …." paragraphs."""
    last = len(items)
    return [
        Para((f"{i}. {ending(item, '.' if i == last else ';')}",)) for i, item in enumerate(items, start=1)
    ]


@template_kind(
    "receipt_slip",
    Variable("receiving_unit", "Bộ phận tiếp nhận hồ sơ", "The unit that received the dossier"),
    Variable(
        "received_by_unit",
        "Hồ sơ được tiếp nhận khi nộp, không do cán bộ (đơn vị ký thay «NGƯỜI TIẾP NHẬN HỒ SƠ»)",
        "Received on submission by the unit (which signs instead of the officer)",
    ),
    Variable("documents", "Danh sách thành phần hồ sơ đã nhận", "The documents received"),
    Variable(
        "processing_days", "Thời gian giải quyết theo quy định (ngày làm việc)", "Legal time (working days)"
    ),
    Variable("appointment_at", "Thời điểm hẹn trả kết quả (bộ lọc instant_vn)", "When the result is due"),
)
def receipt_slip_values(ctx: DocumentContext) -> dict[str, Any]:
    unit = as_text(ctx.extra.get("receiving_unit"))
    return {
        "receiving_unit": unit or ONE_STOP_UNIT,
        "received_by_unit": bool(unit),
        "documents": texts(ctx.extra.get("documents")),
        "processing_days": extra_days(ctx, "processing_days"),
        "appointment_at": extra_instant(ctx, "appointment_at"),
        "procedure": procedure_name(ctx),
    }


@document_kind(
    "receipt_slip",
    title_vi="Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu số 01, Thông tư 03/2025/TT-VPCP)",
    title_en="Receipt and appointment (form 01, Circular 03/2025/TT-VPCP)",
    symbol="TNHS",
)
def receipt_slip(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 01. ``extra``: ``documents`` (the documents received), ``appointment_at`` (the instant
    the result is due), ``processing_days`` (the legal time, working days), ``procedure_name``,
    ``receiving_unit`` (a dossier received on submission, by no officer in person: the unit that
    receives it, which signs instead of "NGƯỜI TIẾP NHẬN HỒ SƠ" and with no name)."""
    values = receipt_slip_values(ctx)
    agency = agency_in_text(ctx.agency_name)
    unit = as_text(ctx.extra.get("receiving_unit"))
    applicant = as_text(ctx.applicant_name)
    code = as_text(ctx.dossier_code)
    documents = values["documents"]
    appointment = values["appointment_at"]
    days = values["processing_days"]
    number = itertools.count(1)

    blocks: list[Block] = [
        Para((f"{unit or ONE_STOP_UNIT} - {agency} tiếp nhận hồ sơ của:",)),
        *applicant_paras(ctx),
        Para(
            ("Nội dung yêu cầu giải quyết: thủ tục ", Span(procedure_name(ctx), bold=True), "."),
            align="left",
        ),
        Para(("Mã hồ sơ: ", Span(code, bold=True), "."), align="left"),
    ]
    if documents:
        blocks.append(Para((f"{next(number)}. Thành phần hồ sơ nộp gồm:",)))
        last = len(documents)
        blocks.extend(
            Para((f"- {ending(document, '.' if i == last else ';')}",))
            for i, document in enumerate(documents, start=1)
        )
    blocks.append(Para((f"{next(number)}. Số lượng hồ sơ: 01 bộ.",)))
    if days:
        blocks.append(
            Para((f"{next(number)}. Thời gian giải quyết hồ sơ theo quy định: {days} ngày làm việc.",))
        )
    if ctx.received_at:
        blocks.append(
            Para(
                (
                    f"{next(number)}. Thời gian nhận hồ sơ: ",
                    Span(instant_vn(ctx.received_at), bold=True),
                    ".",
                )
            )
        )
    if appointment:
        blocks.append(
            Para(
                (
                    f"{next(number)}. Thời gian trả kết quả giải quyết hồ sơ: ",
                    Span(instant_vn(appointment), bold=True),
                    ".",
                )
            )
        )
    blocks.append(
        Para(
            (
                f"{next(number)}. Nơi trả kết quả: Trả kết quả trực tuyến qua tài khoản của tổ chức; "
                f"hoặc tại Bộ phận một cửa - {agency}.",
            )
        )
    )
    blocks.append(
        Para(
            (
                f"{applicant} có thể tra cứu tình trạng giải quyết hồ sơ trực tuyến bằng mã hồ sơ ",
                Span(code, bold=True),
                ".",
            )
        )
    )
    return DocumentBody(
        heading="GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        blocks=ended(blocks),
        recipients=(applicant, f"Lưu: {unit or ONE_STOP_UNIT}"),
        signer_title=unit.upper() if unit else "NGƯỜI TIẾP NHẬN HỒ SƠ",
    )


@template_kind(
    "supplement_request",
    Variable("items", "Các nội dung cần bổ sung, hoàn thiện", "What to supplement"),
    Variable(
        "answer_days", "Thời hạn bổ sung (ngày làm việc, có thể trống)", "Days to answer (may be empty)"
    ),
)
def supplement_request_values(ctx: DocumentContext) -> dict[str, Any]:
    items = texts(ctx.extra.get("items"))
    if not items:
        raise ValueError("supplement_request needs at least one item in extra['items']")
    return {"items": items, "answer_days": extra_days(ctx, "answer_days"), "procedure": procedure_name(ctx)}


@document_kind(
    "supplement_request",
    title_vi="Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu số 02, Thông tư 03/2025/TT-VPCP)",
    title_en="Request to supplement a dossier (form 02, Circular 03/2025/TT-VPCP)",
    symbol="YCBS",
)
def supplement_request(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 02. ``extra``: ``items`` (what to supplement, required), ``answer_days`` (working days
    the business has to answer), ``procedure_name``."""
    values = supplement_request_values(ctx)
    items, days = values["items"], values["answer_days"]
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)

    received = f"; ngày nhận hồ sơ: {date_vn(ctx.received_at)}" if ctx.received_at else ""
    blocks: list[Block] = [
        Para((f"{ONE_STOP_UNIT} - {agency} đã nhận hồ sơ của:",)),
        *applicant_paras(ctx),
        Para(
            ("Nội dung yêu cầu giải quyết: thủ tục ", Span(procedure_name(ctx), bold=True), "."),
            align="left",
        ),
        Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True), f"{received}."), align="left"),
        Para(
            (
                f"Sau khi nghiên cứu, đối chiếu với quy định hiện hành, {ONE_STOP_UNIT} đề nghị {applicant} "
                "bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:",
            )
        ),
        *numbered(items),
    ]
    if days:
        blocks.append(
            Para(
                (
                    "Thời hạn bổ sung, hoàn thiện hồ sơ: ",
                    Span(f"{days} ngày làm việc", bold=True),
                    " kể từ ngày nhận được Phiếu này.",
                )
            )
        )
    blocks.append(
        Para(
            (
                "Thời gian giải quyết hồ sơ tạm dừng trong thời gian bổ sung, hoàn thiện hồ sơ và được "
                "tiếp tục tính khi nhận đủ hồ sơ đã bổ sung, hoàn thiện.",
            )
        )
    )
    blocks.append(
        Para(
            (
                f"Trong quá trình bổ sung, hoàn thiện hồ sơ, nếu có vướng mắc, {applicant} liên hệ "
                f"{ONE_STOP_UNIT} - {agency} để được hướng dẫn.",
            )
        )
    )
    blocks.append(Para((f"Xin lỗi về sự bất tiện này và trân trọng cảm ơn sự hợp tác của {applicant}.",)))
    return DocumentBody(
        heading="PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        blocks=ended(blocks),
        recipients=(applicant, f"Lưu: {ONE_STOP_UNIT}"),
        signer_title="NGƯỜI HƯỚNG DẪN, TIẾP NHẬN HỒ SƠ",
    )


@template_kind(
    "apology_slip",
    Variable("reason", "Lý do chậm trả kết quả", "Why the result is late"),
    Variable("new_appointment_at", "Thời điểm hẹn trả mới (bộ lọc instant_vn)", "The new appointment"),
    Variable(
        "old_appointment_at", "Thời điểm hẹn trả cũ (có thể trống)", "The old appointment (may be empty)"
    ),
)
def apology_slip_values(ctx: DocumentContext) -> dict[str, Any]:
    reason = as_text(ctx.extra.get("reason"))
    if not reason:
        raise ValueError("apology_slip needs extra['reason']")
    new = extra_instant(ctx, "new_appointment_at", required=True)
    old = extra_instant(ctx, "old_appointment_at")
    if new is not None and old is not None and as_utc(new) <= as_utc(old):
        raise ValueError("apology_slip: extra['new_appointment_at'] must be later than the old appointment")
    return {
        "reason": reason,
        "new_appointment_at": new,
        "old_appointment_at": old,
        "procedure": procedure_name(ctx),
    }


@document_kind(
    "apology_slip",
    title_vi="Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết (Mẫu số 04, Thông tư 03/2025/TT-VPCP)",
    title_en="Apology and request to extend the processing time (form 04, Circular 03/2025/TT-VPCP)",
    symbol="XL",
)
def apology_slip(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 04, signed by the leader. ``extra``: ``reason`` (why it is late, required),
    ``new_appointment_at`` (required), ``old_appointment_at``, ``procedure_name``."""
    values = apology_slip_values(ctx)
    reason, new, old = values["reason"], values["new_appointment_at"], values["old_appointment_at"]
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)

    received = f"Ngày {date_vn(ctx.received_at)}, {agency} đã" if ctx.received_at else f"{agency} đã"
    blocks: list[Block] = [
        Para(("Kính gửi: ", Span(applicant, bold=True)), align="center", indent=False),
        Para(
            (
                f"{received} tiếp nhận hồ sơ của ",
                *applicant_identity(ctx),
                " đề nghị giải quyết thủ tục ",
                Span(procedure_name(ctx), bold=True),
                ".",
            )
        ),
        Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True), "."), align="left"),
    ]
    if old is not None:
        blocks.append(Para(("Thời gian hẹn trả kết quả giải quyết hồ sơ: ", instant_vn(old), ".")))
    blocks.append(
        Para(
            (
                f"Tuy nhiên đến nay, {agency} chưa trả kết quả giải quyết hồ sơ của {applicant} với lý do: ",
                Span(ending(reason, "."), bold=True),
            )
        )
    )
    blocks.append(
        Para(
            (
                f"Sự chậm trễ này đã gây phiền hà, tốn kém chi phí đi lại của {applicant}. "
                f"{agency} xin lỗi {applicant} và sẽ trả kết quả giải quyết hồ sơ vào ",
                Span(instant_vn(new), bold=True),
                ".",
            )
        )
    )
    blocks.append(Para((f"Xin trân trọng cảm ơn sự hợp tác của {applicant}.",)))
    return DocumentBody(
        heading="VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
        blocks=ended(blocks),
        recipients=(applicant, f"Lưu: VT, {ONE_STOP_UNIT}"),
    )


OUTCOMES_VI = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Trễ hạn", None: ""}
PROCESS_COLUMNS = (
    "TÊN CƠ QUAN / BƯỚC",
    "THỜI GIAN GIAO, NHẬN HỒ SƠ",
    "HẠN XỬ LÝ",
    "HOÀN THÀNH",
    "KẾT QUẢ (trước hạn / đúng hạn / trễ hạn)",
    "NGƯỜI XỬ LÝ",
)


def _step_row(ctx: DocumentContext, index: int, step: Any) -> tuple[str, ...]:
    if not isinstance(step, Mapping):
        raise ValueError(f"process_control_slip: extra['steps'][{index}] is not a mapping: {step!r}")
    outcome = step.get("outcome") or None
    if outcome not in OUTCOMES_VI:
        known = ", ".join(k for k in OUTCOMES_VI if k)
        raise ValueError(f"process_control_slip: unknown outcome {outcome!r} (known: {known})")
    instants = (
        instant_short(as_instant(step.get(key), f"process_control_slip: extra['steps'][{index}][{key!r}]"))
        for key in ("received_at", "due_at", "done_at")
    )
    return (as_text(step.get("step")), *instants, OUTCOMES_VI[outcome], as_text(step.get("by")))


@template_kind(
    "process_control_slip",
    Variable(
        "rows",
        "Các bước: mỗi dòng 6 ô (bước, giao nhận, hạn, hoàn thành, kết quả, người xử lý)",
        "The steps: six cells a row",
    ),
    Variable("columns", "Tiêu đề 6 cột của bảng", "The table's six column titles"),
    Variable("appointment_at", "Thời điểm hẹn trả kết quả (có thể trống)", "The appointment (may be empty)"),
)
def process_control_slip_values(ctx: DocumentContext) -> dict[str, Any]:
    steps = ctx.extra.get("steps") or ()
    if isinstance(steps, str | bytes | Mapping) or not isinstance(steps, Iterable):
        raise ValueError("process_control_slip: extra['steps'] must be a list of steps")
    return {
        "rows": [list(_step_row(ctx, index, step)) for index, step in enumerate(steps)],
        "columns": list(PROCESS_COLUMNS),
        "appointment_at": extra_instant(ctx, "appointment_at"),
        "procedure": procedure_name(ctx),
    }


@document_kind(
    "process_control_slip",
    title_vi="Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu số 06, Thông tư 03/2025/TT-VPCP)",
    title_en="Dossier process control slip (form 06, Circular 03/2025/TT-VPCP)",
    symbol="KSQT",
)
def process_control_slip(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 05: every hand-over of the dossier, planned against actual. ``extra``: ``steps`` (a list
    of {step, received_at, due_at, done_at, by, outcome: "early" | "on_time" | "late" | None}),
    ``appointment_at``, ``procedure_name``."""
    values = process_control_slip_values(ctx)
    rows = tuple(tuple(row) for row in values["rows"])
    appointment = values["appointment_at"]
    agency = agency_in_text(ctx.agency_name)

    blocks: list[Block] = [
        Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True)), align="left"),
        *applicant_paras(ctx),
        Para(("Nội dung yêu cầu giải quyết: thủ tục ", Span(procedure_name(ctx), bold=True)), align="left"),
        Para((f"Cơ quan giải quyết hồ sơ: {agency}",), align="left"),
    ]
    if ctx.received_at:
        blocks.append(Para(("Thời gian nhận hồ sơ: ", instant_vn(ctx.received_at)), align="left"))
    if appointment is not None:
        blocks.append(Para(("Thời gian hẹn trả kết quả: ", instant_vn(appointment)), align="left"))
    blocks.append(Grid(header=PROCESS_COLUMNS, rows=rows, widths_mm=(35, 26, 26, 26, 27, 25)))
    return DocumentBody(
        heading="PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        blocks=ended(blocks),
        recipients=("Các cơ quan, bộ phận giải quyết hồ sơ", f"Lưu: {ONE_STOP_UNIT}"),
        # Kept by the one-stop unit, which hands the dossier over (check against Mẫu 06).
        signer_title=ONE_STOP_UNIT.upper(),
    )


# The slips every procedure may issue (a procedure's own kinds come with its plug-in).
ONE_STOP_KINDS = frozenset(
    {
        "receipt_slip",
        "supplement_request",
        "receipt_refusal",
        "apology_slip",
        "stop_notice",
        "process_control_slip",
    }
)
