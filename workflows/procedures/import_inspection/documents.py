"""The import inspection's documents: the confirmation of the registration (what customs needs
to clear the goods) and the notice of the inspection's result."""

from __future__ import annotations

from workflows.documents.model import Block, DocumentBody, DocumentContext, Grid, Para, Span, document_kind
from workflows.documents.text import (
    agency_in_text,
    applicant_identity,
    as_text,
    date_vn,
    ended,
    ending,
    joined,
    labelled,
)

# --------------------------------------------------------------------------- import inspection

IMPORT_BASIS = (
    "Căn cứ Luật Chất lượng sản phẩm, hàng hóa năm 2007; Nghị định số 132/2008/NĐ-CP, được sửa đổi, "
    "bổ sung bởi Nghị định số 74/2018/NĐ-CP và Nghị định số 154/2018/NĐ-CP"
)
INSPECTION_MEASURES = {
    1: "Biện pháp 1: người nhập khẩu tự đánh giá sự phù hợp; hồ sơ được ghi nhận, không kiểm tra nhà nước tại cửa khẩu",
    2: "Biện pháp 2: người nhập khẩu nộp giấy chứng nhận hợp quy hoặc chứng thư giám định của tổ chức được chỉ định",
    3: "Biện pháp 3: hệ thống quản lý được chứng nhận và giấy chứng nhận sản phẩm của tổ chức được chỉ định",
}
REQUIRED_HANDLING = {
    "re_export": "tái xuất hàng hóa",
    "destroy": "tiêu hủy hàng hóa",
    "reprocess": "tái chế hàng hóa dưới sự giám sát của cơ quan có thẩm quyền",
}


def _goods_grid(data: dict) -> Grid | None:
    goods = [g for g in data.get("goods") or () if isinstance(g, dict)]
    rows = []
    for index, line in enumerate(goods, start=1):
        name = joined(
            (
                as_text(line.get("name")),
                labelled("nhãn hiệu", line.get("trademark")),
                labelled("kiểu loại", line.get("model")),
            ),
            "\n",
        )
        origin = joined((as_text(line.get("origin")), as_text(line.get("manufacturer"))), "\n")
        quantity = line.get("quantity")
        amount = f"{quantity:g}" if isinstance(quantity, int | float) else as_text(quantity)
        rows.append(
            (
                str(index),
                name,
                as_text(line.get("hs_code")),
                origin,
                joined((amount, as_text(line.get("unit"))), " "),
                as_text(line.get("qcvn")),
            )
        )
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


def _shipment_paras(data: dict) -> list[Block]:
    blocks: list[Block] = []
    for label, key in (
        ("Số tờ khai hải quan: ", "customs_declaration_number"),
        ("Hợp đồng số: ", "contract_number"),
        ("Hóa đơn số: ", "invoice_number"),
        ("Phiếu đóng gói số: ", "packing_list_number"),
        ("Vận đơn số: ", "bill_of_lading_number"),
        ("Cửa khẩu nhập: ", "port_of_entry"),
    ):
        if as_text(data.get(key)):
            blocks.append(Para((label, as_text(data.get(key))), align="left"))
    if as_text(data.get("expected_arrival")):
        blocks.append(
            Para(("Thời gian nhập khẩu dự kiến: ", date_vn(data.get("expected_arrival"))), align="left")
        )
    return blocks


@document_kind(
    "import_registration_confirmation",
    title_vi="Xác nhận đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
    title_en="Confirmation of the registration for the state quality inspection of imported goods",
    symbol="XN",
)
def import_registration_confirmation(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)
    measure = _measure(data)
    grid = _goods_grid(data)
    blocks: list[Block] = [
        Para((f"{IMPORT_BASIS};",)),
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
    if measure in INSPECTION_MEASURES:
        blocks.append(
            Para(("Biện pháp kiểm tra áp dụng: ", Span(INSPECTION_MEASURES[measure], bold=True), "."))
        )
    if measure == 1:
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
    )


@document_kind(
    "import_inspection_result",
    title_vi="Thông báo kết quả kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
    title_en="Notice of the result of the state quality inspection of imported goods",
    symbol="TB",
)
def import_inspection_result(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)
    conclusion = data.get("inspection_conclusion")
    if conclusion not in ("meets", "does_not_meet"):
        raise ValueError(
            "import_inspection_result needs data['inspection_conclusion'] (meets | does_not_meet)"
        )
    grid = _goods_grid(data)
    blocks: list[Block] = [
        Para((f"{IMPORT_BASIS};",)),
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
    certificate = joined(
        (
            labelled("Giấy chứng nhận/chứng thư số", data.get("certificate_number")),
            labelled("do", data.get("issuing_body")),
            labelled("cấp ngày", date_vn(data.get("issued_on"))),
        ),
        " ",
    )
    if certificate:
        blocks.append(Para(("Căn cứ kết quả đánh giá sự phù hợp: ", certificate, ".")))
    blocks.append(Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True), "."), align="left"))
    if conclusion == "meets":
        blocks.append(
            Para(("Kết quả: ", Span("Lô hàng nhập khẩu đáp ứng yêu cầu chất lượng", bold=True), "."))
        )
    else:
        handling = REQUIRED_HANDLING.get(str(data.get("required_handling")), "")
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
    notes = as_text(data.get("evaluation_notes"))
    if notes:
        blocks.append(Para(("Nhận xét: ", ending(notes, "."))))
    return DocumentBody(
        heading="THÔNG BÁO",
        subject="Kết quả kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
        blocks=ended(blocks),
        recipients=(applicant, "Cơ quan hải quan nơi làm thủ tục nhập khẩu", "Lưu: VT, TĐC"),
    )
