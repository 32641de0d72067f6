"""The page of an official document (Decree 30/2020/NĐ-CP, Phụ lục I): national name and motto, A4
with its margins, Times New Roman and the type sizes of each part, the header's columns, the draft
notices.

The header's sizes and column widths are chosen so that every header line fits on one line in
Times New Roman (Phụ lục I: national name uppercase bold 12–13 pt, motto bold 13–14 pt, agency
names uppercase 12–13 pt). The widths below are those of Liberation Serif 2 (metric-compatible
with Times New Roman), measured by ``tests/test_documents.py``:

* "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold: 88.3 mm at 12 pt (95.7 mm at 13 pt);
* "Độc lập - Tự do - Hạnh phúc", bold: 56.1 mm at 13 pt;
* "SỞ KHOA HỌC VÀ CÔNG NGHỆ", bold: 64.8 mm at 12 pt (70.2 mm at 13 pt);
* the place and date, italic 14 pt: about 79 mm.

So the national name is 12 pt and the motto 13 pt (the pairing of the decree's samples: 12 with
13, 13 with 14), and the agency names 12 pt like the national name; the left column is 70 mm and
the right one 95 mm of the 165 mm between the margins. A longer agency name wraps, which the
decree allows ("trường hợp tên cơ quan dài có thể trình bày thành nhiều dòng").
"""

from __future__ import annotations

from docx.shared import Mm

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"

FONT = "Times New Roman"
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH_MM = 210 - 30 - 15

BODY_PT = 14  # body, title, place and date, signer
HEADER_PT = 13  # number and symbol ("Số: …")
NATIONAL_PT = 12  # "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold
MOTTO_PT = 13  # "Độc lập - Tự do - Hạnh phúc", bold
AGENCY_PT = 12  # the parent agency and (bold) the issuing agency
EXCERPT_PT = 12  # a letter's "V/v …" under its number (Phụ lục I: 12–13 pt, upright)
PAGE_NUMBER_PT = 13  # Phụ lục I: 13–14 pt, upright, centred in the top margin, not on page 1
HEADER_LEFT_MM, HEADER_RIGHT_MM = 70.0, 95.0  # the header's columns (sum: TEXT_WIDTH_MM)
HEADER_CELL_MARGIN_MM = 1.5  # left and right inside each header cell
MOTTO_RULE_MM = 56.0  # the rule under the motto: as long as the motto line (56.1 mm at 13 pt)
AGENCY_RULE_MM = 26.0  # under the agency name: 1/3 to 1/2 of its line (21.6 to 32.4 mm)
RECIPIENTS_HEAD_PT = 12  # "Nơi nhận:"
RECIPIENTS_PT = 11
SMALL_PT = 10  # verification block
TINY_PT = 9  # English line, page footer
DRAFT_NOTICE_VI = "Bản dự thảo, chưa ban hành: không có số, không có giá trị xác thực."
DRAFT_NOTICE_EN = "Draft, not issued: no number, not verifiable."
DRAFT_FOOTER = "Bản dự thảo, không có giá trị xác thực / Draft, not verifiable"
QR_WIDTH = Mm(24)
