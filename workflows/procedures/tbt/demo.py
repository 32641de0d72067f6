"""Demo data of the TBT inquiry point: inquiries in different states, published answers, WTO
notifications with a subscription and a comment (``make run``, demo mode only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from workflows import commands, submission
from workflows.clock import now, to_local
from workflows.db import transaction
from workflows.demo import BUSINESS, demo_user, open_task
from workflows.models import Dossier, User
from workflows.plugins import DemoAccount
from workflows.procedures.tbt import inquiries, wto
from workflows.procedures.tbt.visitors import visitor_for
from workflows.runtime import Runtime

OFFICER = "tbt@demo.tdcflow.vn"
DEMO_ACCOUNTS = (DemoAccount(OFFICER, "demo-tbt-2026", "Phạm Thu Trang", ("tbt_officer",), "CÁN BỘ TBT"),)

PUBLISHED = [
    (
        "Yêu cầu đối với thép không gỉ xuất khẩu sang EU",
        "Thép không gỉ cán nguội dạng tấm",
        "7219.33",
        "EU",
        "Doanh nghiệp xuất khẩu thép không gỉ cán nguội sang EU cần đáp ứng những tiêu chuẩn và yêu cầu nào?",
        "Thép không gỉ dùng trong xây dựng phải có tuyên bố hiệu năng và dấu CE theo Quy định (EU) 305/2011 "
        "khi thuộc phạm vi tiêu chuẩn hài hòa; thành phần và cơ tính theo EN 10088-2. Vật liệu tiếp xúc "
        "thực phẩm tuân thủ Quy định (EC) 1935/2004.",
        ["EN 10088-2", "Quy định (EU) 305/2011", "Quy định (EC) 1935/2004"],
    ),
    (
        "Ghi nhãn đồ chơi trẻ em xuất khẩu sang Hoa Kỳ",
        "Đồ chơi trẻ em bằng nhựa",
        "9503.00",
        "Hoa Kỳ",
        "Đồ chơi nhựa cho trẻ dưới 3 tuổi xuất sang Hoa Kỳ cần chứng nhận gì và ghi nhãn thế nào?",
        "Đồ chơi phải có Giấy chứng nhận sản phẩm trẻ em (CPC) dựa trên thử nghiệm của phòng thử nghiệm được "
        "CPSC công nhận theo ASTM F963; nhãn truy xuất nguồn gốc và cảnh báo chi tiết nhỏ theo 16 CFR 1500.19.",
        ["ASTM F963", "16 CFR 1500.19"],
    ),
    (
        "Quy chuẩn đối với mũ bảo hiểm nhập khẩu vào Việt Nam",
        "Mũ bảo hiểm cho người đi mô tô, xe máy",
        "6506.10",
        "Việt Nam",
        "Mũ bảo hiểm nhập khẩu phải đáp ứng quy chuẩn nào và kiểm tra chất lượng ra sao?",
        "Mũ bảo hiểm thuộc nhóm 2, phải phù hợp QCVN 2:2021/BKHCN, được chứng nhận hợp quy và kiểm tra nhà "
        "nước về chất lượng khi nhập khẩu; dấu hợp quy CR phải được gắn trước khi lưu thông.",
        ["QCVN 2:2021/BKHCN"],
    ),
]


def _visitor_inquiry(rt: Runtime, name: str, email: str, data: dict[str, Any]) -> Dossier:
    with transaction(rt.engine) as session:
        visitor = visitor_for(session, email, name)
        return submission.start_in_transaction(
            rt,
            session,
            visitor,
            rt.procedure(inquiries.PROCEDURE),
            {**data, "asker": {"name": name, "email": email}},
        )


def make_demo(rt: Runtime) -> list[str]:
    business, officer = demo_user(rt, BUSINESS), demo_user(rt, OFFICER)
    codes = []
    # Published answers (asked by visitors who consented).
    for i, (subject, product, hs, market, question, answer, refs) in enumerate(PUBLISHED, start=1):
        dossier = _visitor_inquiry(
            rt,
            f"Người hỏi {i}",
            f"hoidap{i}@khach.demo.vn",
            {
                "subject": subject,
                "product": product,
                "hs_code": hs,
                "market": market,
                "question": question,
                "consent_publish": True,
            },
        )
        commands.complete_task(
            rt,
            officer,
            open_task(rt, dossier.code, "classify"),
            {"topic": "technical_regulation", "route": "answer"},
        )
        commands.complete_task(
            rt, officer, open_task(rt, dossier.code, "answer"), {"answer": answer, "references": refs}
        )
        commands.complete_task(
            rt, officer, open_task(rt, dossier.code, "publish"), {"publication_decision": "publish"}
        )
        codes.append(dossier.code)
    # A new question from a visitor, waiting to be classified.
    new = _visitor_inquiry(
        rt,
        "Trần Minh Khoa",
        "khoa.tran@khach.demo.vn",
        {
            "subject": "Chứng nhận hữu cơ cho hồ tiêu xuất khẩu sang Nhật Bản",
            "product": "Hồ tiêu đen",
            "hs_code": "0904.11",
            "market": "Nhật Bản",
            "question": "Hồ tiêu đen xuất khẩu sang Nhật Bản có bắt buộc chứng nhận JAS hữu cơ không nếu ghi nhãn hữu cơ?",
            "consent_publish": True,
        },
    )
    codes.append(new.code)
    # The business's question, forwarded to the national TBT office and awaiting its reply.
    asked = inquiries.ask(
        rt,
        business,
        {
            "subject": "Yêu cầu về hàm lượng kim loại nặng trong thép mạ kẽm xuất khẩu sang Hàn Quốc",
            "product": "Thép mạ kẽm",
            "hs_code": "7210.49",
            "market": "Hàn Quốc",
            "question": "Hàn Quốc có quy chuẩn kỹ thuật mới về giới hạn chì, cadimi trong lớp mạ kẽm của thép tấm không?",
            "consent_publish": False,
        },
        client_ip="127.0.0.1",
    ).dossier
    commands.complete_task(
        rt,
        officer,
        open_task(rt, asked.code, "classify"),
        {
            "topic": "technical_regulation",
            "route": "forward",
            "forward_to": "Văn phòng TBT Việt Nam",
            "forward_note": "Đề nghị cung cấp thông tin về thông báo của Hàn Quốc liên quan.",
        },
    )
    codes.append(asked.code)
    _demo_notifications(rt, business, officer)
    return codes


def _demo_notifications(rt: Runtime, business: User, officer: User) -> None:
    today = to_local(now()).date()
    wto.subscribe(rt, business, hs_prefix="7210")
    wto.subscribe(rt, business, keyword="thép không gỉ")
    notifications = [
        {
            "member": "Hàn Quốc",
            "symbol": "G/TBT/N/KOR/1250",
            "title": "Sửa đổi tiêu chuẩn an toàn đối với thép mạ kẽm dùng trong xây dựng",
            "products": "Thép tấm mạ kẽm nhúng nóng",
            "hs_codes": ["7210.49", "7210.41"],
            "description": "Bổ sung giới hạn hàm lượng chì, cadimi trong lớp mạ; yêu cầu chứng nhận KS.",
            "objective": "Bảo vệ sức khỏe con người và môi trường",
            "circulated_on": (today - timedelta(days=10)).isoformat(),
        },
        {
            "member": "Liên minh châu Âu",
            "symbol": "G/TBT/N/EU/1105",
            "title": "Dự thảo quy định về vật liệu thép không gỉ tiếp xúc thực phẩm",
            "products": "Thép không gỉ, dụng cụ nhà bếp",
            "hs_codes": ["7219.33", "7323.93"],
            "description": "Quy định giới hạn thôi nhiễm kim loại của vật liệu tiếp xúc thực phẩm.",
            "objective": "Bảo vệ sức khỏe con người",
            "circulated_on": (today - timedelta(days=3)).isoformat(),
        },
        {
            "member": "Hoa Kỳ",
            "symbol": "G/TBT/N/USA/2001",
            "title": "Yêu cầu hiệu suất năng lượng đối với quạt điện",
            "products": "Quạt điện gia dụng",
            "hs_codes": ["8414.51"],
            "description": "Sửa đổi mức hiệu suất năng lượng tối thiểu của quạt trần và quạt bàn.",
            "objective": "Tiết kiệm năng lượng",
            "circulated_on": (today - timedelta(days=75)).isoformat(),
        },
    ]
    created = [wto.register_notification(rt, officer, n) for n in notifications]
    wto.add_comment(
        rt,
        business,
        created[0].id,
        "Đề nghị Hàn Quốc áp dụng thời gian chuyển tiếp 12 tháng và thừa nhận kết quả thử nghiệm của phòng "
        "thử nghiệm được công nhận ILAC.",
    )
