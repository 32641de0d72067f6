"""The page of an official document (Decree 30/2020/NĐ-CP): national name and motto, A4 with its
margins, Times New Roman and the type sizes of each part, the draft notices."""

from __future__ import annotations

from docx.shared import Mm

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"

FONT = "Times New Roman"
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH_MM = 210 - 30 - 15

BODY_PT = 14  # body, title, motto, place and date, signer
HEADER_PT = 13  # national name, agency names, number
RECIPIENTS_HEAD_PT = 12  # "Nơi nhận:"
RECIPIENTS_PT = 11
SMALL_PT = 10  # verification block
TINY_PT = 9  # English line, page footer
DRAFT_NOTICE_VI = "Bản dự thảo, chưa ban hành: không có số, không có giá trị xác thực."
DRAFT_NOTICE_EN = "Draft, not issued: no number, not verifiable."
DRAFT_FOOTER = "Bản dự thảo, không có giá trị xác thực / Draft, not verifiable"
QR_WIDTH = Mm(24)
