"""The import inspection's documents: the confirmation of the registration (what customs needs
to clear the goods) and the notice of the inspection's result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workflows.documents.model import Block, DocumentBody, DocumentContext, Grid, Para, Span, document_kind
from workflows.documents.templating import Variable, template_kind
from workflows.documents.text import (
    agency_in_text,
    applicant_identity,
    as_text,
    date_vn,
    ended,
    ending,
    joined,
    labelled,
    legal_basis_line,
)

# --------------------------------------------------------------------------- import inspection

# What a preview without a dossier cites; an issued document cites its dossier's rules.
IMPORT_BASIS = (
    "Căn cứ Luật Chất lượng sản phẩm, hàng hóa năm 2007; Nghị định số 132/2008/NĐ-CP, được sửa đổi, "
    "bổ sung bởi Nghị định số 74/2018/NĐ-CP và Nghị định số 154/2018/NĐ-CP"
)
# Rules until 30/06/2026 (Decree 132/2008 as amended by 74/2018 and 154/2018): the measure the
# goods' QCVN sets, or a written exemption.
INSPECTION_MEASURES = {
    0: "Miễn kiểm tra: hàng hóa có văn bản xác nhận miễn kiểm tra còn hiệu lực (khoản 3 Điều 4 Nghị định "
    "154/2018/NĐ-CP); bản đăng ký được ghi nhận",
    1: "Biện pháp a: kiểm tra trên cơ sở kết quả tự đánh giá sự phù hợp của người nhập khẩu; bản đăng ký được "
    "ghi nhận",
    2: "Biện pháp b: kiểm tra trên cơ sở kết quả chứng nhận của tổ chức chứng nhận đã đăng ký hoặc được thừa nhận",
    3: "Biện pháp c: kiểm tra trên cơ sở kết quả chứng nhận, giám định của tổ chức được chỉ định",
}
# Rules from 01/07/2026 (Decree 37/2026, Circular 36/2026): by the goods' risk level.
INSPECTION_ROUTES = {
    "none": "Hàng hóa rủi ro thấp: không kiểm tra nhà nước; bản đăng ký được ghi nhận",
    "declaration": "Hàng hóa rủi ro trung bình: công bố hợp quy của người nhập khẩu; bản đăng ký được ghi nhận",
    "certificate": "Hàng hóa rủi ro cao: kiểm tra trên cơ sở giấy chứng nhận hợp quy đã có",
    "designated_body": "Hàng hóa rủi ro cao chưa có giấy chứng nhận: đưa về bảo quản, đánh giá sự phù hợp "
    "tại tổ chức được chỉ định",
}
RECORDED_ROUTES = frozenset({"none", "declaration"})
REQUIRED_HANDLING = {
    "re_export": "tái xuất hàng hóa",
    "destroy": "tiêu hủy hàng hóa",
    "reprocess": "tái chế hàng hóa dưới sự giám sát của cơ quan có thẩm quyền",
}


def _goods_rows(data: dict) -> list[dict[str, str]]:
    """The goods as the table prints them (a name over its trademark and model, the origin over
    the maker)."""
    rows = []
    for line in (g for g in data.get("goods") or () if isinstance(g, dict)):
        quantity = line.get("quantity")
        amount = f"{quantity:g}" if isinstance(quantity, int | float) else as_text(quantity)
        rows.append(
            {
                "name": joined(
                    (
                        as_text(line.get("name")),
                        labelled("nhãn hiệu", line.get("trademark")),
                        labelled("kiểu loại", line.get("model")),
                    ),
                    "\n",
                ),
                "hs_code": as_text(line.get("hs_code")),
                "origin": joined((as_text(line.get("origin")), as_text(line.get("manufacturer"))), "\n"),
                "quantity": joined((amount, as_text(line.get("unit"))), " "),
                "qcvn": as_text(line.get("qcvn")),
            }
        )
    return rows


def _goods_grid(data: dict) -> Grid | None:
    rows = [
        (str(index), row["name"], row["hs_code"], row["origin"], row["quantity"], row["qcvn"])
        for index, row in enumerate(_goods_rows(data), start=1)
    ]
    if not rows:
        return None
    return Grid(
        header=(
            "TT",
            "Tên hàng hóa, nhãn hiệu, kiểu loại",
            "Mã HS",
            "Xuất xứ, nhà sản xuất",
            "Số lượng",
            "QCVN",
        ),
        rows=tuple(rows),
        widths_mm=(10, 50, 22, 35, 20, 28),
    )


def _measure(data: dict) -> int | None:
    try:
        return int(data.get("inspection_measure"))
    except (TypeError, ValueError):
        return None


SHIPMENT_LABELS = (
    ("Số tờ khai hải quan: ", "customs_declaration_number"),
    ("Hợp đồng số: ", "contract_number"),
    ("Hóa đơn số: ", "invoice_number"),
    ("Phiếu đóng gói số: ", "packing_list_number"),
    ("Vận đơn số: ", "bill_of_lading_number"),
    ("Cửa khẩu nhập: ", "port_of_entry"),
    ("Thời gian nhập khẩu dự kiến: ", "expected_arrival"),
)


def _shipment(data: dict) -> dict[str, str]:
    """The shipment's papers, by key (empty: not given); the arrival day as dd/mm/yyyy."""
    values = {key: as_text(data.get(key)) for _, key in SHIPMENT_LABELS}
    if values["expected_arrival"]:
        values["expected_arrival"] = date_vn(data.get("expected_arrival"))
    return values


def _shipment_paras(data: dict) -> list[Block]:
    shipment = _shipment(data)
    return [
        Para((label, shipment[key]), align="left") for label, key in SHIPMENT_LABELS if as_text(data.get(key))
    ]


TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"
# What the check's sample context holds (workflows.documents.samples).
SAMPLE_DATA: dict[str, Any] = {
    "goods": [
        {
            "name": "Mũ bảo hiểm cho người đi mô tô",
            "trademark": "SafeRide",
            "model": "SR-200",
            "hs_code": "65061010",
            "origin": "Thái Lan",
            "manufacturer": "SafeRide Co., Ltd.",
            "quantity": 1200,
            "unit": "chiếc",
            "qcvn": "QCVN 2:2021/BKHCN",
        }
    ],
    "customs_declaration_number": "105123456780",
    "contract_number": "HĐ-2026/015",
    "invoice_number": "INV-88120",
    "packing_list_number": "PL-88120",
    "bill_of_lading_number": "BL-TH-5531",
    "port_of_entry": "Cửa khẩu quốc tế Lao Bảo",
    "expected_arrival": "2026-12-04",
}
_BASIS_LINE = Variable(
    "basis_line",
    "Dòng căn cứ pháp lý: «Căn cứ Luật Chất lượng sản phẩm, hàng hóa năm 2007; …»",
    "The legal basis line",
)
_GOODS = Variable(
    "goods",
    "Các dòng hàng hóa: mỗi dòng có name, hs_code, origin, quantity, qcvn",
    "The goods lines: each with name, hs_code, origin, quantity, qcvn",
)
_SHIPMENT = Variable(
    "shipment",
    "Chứng từ lô hàng: customs_declaration_number, contract_number, invoice_number, "
    "packing_list_number, bill_of_lading_number, port_of_entry, expected_arrival (trống: không có)",
    "The shipment's papers by key (empty: not given)",
)


@template_kind(
    "import_registration_confirmation",
    _BASIS_LINE,
    _GOODS,
    _SHIPMENT,
    Variable(
        "route",
        "Cách kiểm tra áp dụng theo mức độ rủi ro (quy định từ 01/07/2026; có thể trống)",
        "The inspection route by risk (rules from 01/07/2026; may be empty)",
    ),
    Variable(
        "measure",
        "Biện pháp kiểm tra áp dụng (quy định trước 01/07/2026; có thể trống)",
        "The inspection measure (rules until 30/06/2026; may be empty)",
    ),
    Variable(
        "recorded",
        "Bản đăng ký chỉ được ghi nhận (không phải nộp giấy chứng nhận) (đúng/sai)",
        "The registration is only recorded (no certificate to file)",
    ),
    directory=TEMPLATES,
    sample_data={**SAMPLE_DATA, "inspection_route": "certificate"},
)
def import_registration_confirmation_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    measure = _measure(data)
    route = str(data.get("inspection_route") or "")
    return {
        "basis_line": legal_basis_line(ctx, IMPORT_BASIS),
        "goods": _goods_rows(data),
        "shipment": _shipment(data),
        "route": INSPECTION_ROUTES.get(route, ""),
        "measure": ""
        if route in INSPECTION_ROUTES or measure is None
        else INSPECTION_MEASURES.get(measure, ""),
        "recorded": route in RECORDED_ROUTES or (not route and measure is not None and measure <= 1),
    }


@document_kind(
    "import_registration_confirmation",
    title_vi="Xác nhận đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
    title_en="Confirmation of the registration for the state quality inspection of imported goods",
    symbol="XN",
)
def import_registration_confirmation(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    values = import_registration_confirmation_values(ctx)
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)
    grid = _goods_grid(data)
    blocks: list[Block] = [
        Para((f"{values['basis_line']};",)),
        Para(
            (
                f"{agency} xác nhận ",
                *applicant_identity(ctx),
                " đã đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu đối với lô hàng sau:"
                if grid
                else " đã đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu.",
            )
        ),
    ]
    if grid:
        blocks.append(grid)
    blocks.extend(_shipment_paras(data))
    blocks.append(Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True), "."), align="left"))
    if values["route"]:
        blocks.append(Para(("Cách kiểm tra áp dụng: ", Span(values["route"], bold=True), ".")))
    elif values["measure"]:
        blocks.append(Para(("Biện pháp kiểm tra áp dụng: ", Span(values["measure"], bold=True), ".")))
    if values["recorded"]:
        blocks.append(
            Para(
                (
                    f"Bản đăng ký được ghi nhận; {applicant} chịu trách nhiệm về chất lượng hàng hóa nhập khẩu.",
                )
            )
        )
    else:
        blocks.append(
            Para(
                (
                    f"Trong thời hạn 15 ngày làm việc kể từ ngày thông quan hàng hóa, {applicant} phải nộp "
                    "bản sao giấy chứng nhận hợp quy hoặc chứng thư giám định cho "
                    f"{agency}; quá thời hạn này mà không nộp là vi phạm và sẽ được thông báo "
                    "cho cơ quan quản lý thị trường.",
                )
            )
        )
    return DocumentBody(
        heading="XÁC NHẬN",
        subject="Đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
        blocks=ended(blocks),
        recipients=(applicant, "Cơ quan hải quan nơi làm thủ tục nhập khẩu", "Lưu: VT, TĐC"),
        # The registration form's confirmation is signed for the inspecting agency (Decree
        # 74/2018/NĐ-CP, Mẫu 01: "Đại diện cơ quan kiểm tra") (check).
        signer_title="ĐẠI DIỆN CƠ QUAN KIỂM TRA",
    )


@template_kind(
    "import_inspection_result",
    _BASIS_LINE,
    _GOODS,
    _SHIPMENT,
    Variable(
        "certificate",
        "Giấy chứng nhận/chứng thư căn cứ: «Giấy chứng nhận/chứng thư số … do … cấp ngày …» (có thể trống)",
        "The certificate the result rests on, as a phrase (may be empty)",
    ),
    Variable(
        "meets",
        "Lô hàng đáp ứng yêu cầu chất lượng (đúng/sai)",
        "Whether the shipment meets the requirements",
    ),
    Variable(
        "handling",
        "Biện pháp xử lý lô hàng không đạt: «tái xuất hàng hóa»… (có thể trống)",
        "What must be done with a failing shipment (may be empty)",
    ),
    Variable("notes", "Nhận xét (có thể trống)", "Remarks (may be empty)"),
    directory=TEMPLATES,
    sample_data={
        **SAMPLE_DATA,
        "inspection_conclusion": "does_not_meet",
        "required_handling": "re_export",
        "certificate_number": "CT-2026-118",
        "issuing_body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 1",
        "issued_on": "2026-11-20",
        "evaluation_notes": "Nhãn hàng hóa thiếu dấu hợp quy",
    },
)
def import_inspection_result_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    conclusion = data.get("inspection_conclusion")
    if conclusion not in ("meets", "does_not_meet"):
        raise ValueError(
            "import_inspection_result needs data['inspection_conclusion'] (meets | does_not_meet)"
        )
    certificate = joined(
        (
            labelled("Giấy chứng nhận/chứng thư số", data.get("certificate_number")),
            labelled("do", data.get("issuing_body")),
            labelled("cấp ngày", date_vn(data.get("issued_on"))),
        ),
        " ",
    )
    return {
        "basis_line": legal_basis_line(ctx, IMPORT_BASIS),
        "goods": _goods_rows(data),
        "shipment": _shipment(data),
        "certificate": certificate,
        "meets": conclusion == "meets",
        "handling": ""
        if conclusion == "meets"
        else REQUIRED_HANDLING.get(str(data.get("required_handling")), ""),
        "notes": as_text(data.get("evaluation_notes")),
    }


@document_kind(
    "import_inspection_result",
    title_vi="Thông báo kết quả kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
    title_en="Notice of the result of the state quality inspection of imported goods",
    symbol="TB",
)
def import_inspection_result(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    values = import_inspection_result_values(ctx)
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)
    grid = _goods_grid(data)
    blocks: list[Block] = [
        Para((f"{values['basis_line']};",)),
        Para(
            (
                f"{agency} thông báo kết quả kiểm tra nhà nước về chất lượng lô hàng nhập khẩu của ",
                *applicant_identity(ctx),
                ":" if grid else ".",
            )
        ),
    ]
    if grid:
        blocks.append(grid)
    blocks.extend(_shipment_paras(data))
    certificate = values["certificate"]
    if certificate:
        blocks.append(Para(("Căn cứ kết quả đánh giá sự phù hợp: ", certificate, ".")))
    blocks.append(Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True), "."), align="left"))
    if values["meets"]:
        blocks.append(
            Para(("Kết quả: ", Span("Lô hàng nhập khẩu đáp ứng yêu cầu chất lượng", bold=True), "."))
        )
    else:
        handling = values["handling"]
        blocks.append(
            Para(("Kết quả: ", Span("Lô hàng nhập khẩu không đáp ứng yêu cầu chất lượng", bold=True), "."))
        )
        if handling:
            blocks.append(
                Para(
                    (
                        f"Đề nghị {applicant} ",
                        Span(handling, bold=True),
                        " và báo cáo kết quả xử lý cho cơ quan hải quan và "
                        f"{agency}. Kết quả này được ghi vào lịch sử kiểm tra của người nhập khẩu.",
                    )
                )
            )
    notes = values["notes"]
    if notes:
        blocks.append(Para(("Nhận xét: ", ending(notes, "."))))
    return DocumentBody(
        heading="THÔNG BÁO",
        subject="Kết quả kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
        blocks=ended(blocks),
        recipients=(applicant, "Cơ quan hải quan nơi làm thủ tục nhập khẩu", "Lưu: VT, TĐC"),
    )
