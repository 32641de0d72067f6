"""A verification body reports its results: one record (JSON) or many (a CSV or .xlsx file).

Each row names the instrument (kind, model, serial number: found, or registered on first report,
its owner and place updated by a newer report) and the verification (certificate, stamp, dates,
result). A certificate number is reported once: the same content again changes nothing and says
so (``unchanged``); another content under the same number is refused with the fields that differ.

Here: what a report is (its columns, :func:`validate`) and how a file is read; applying reports,
one or a file's rows, is :mod:`workflows.metrology.bulk`. A file is one transaction in which the good rows are applied and the bad ones reported (row,
field, message in Vietnamese and English), not all-or-nothing: the rows are independent facts
from a day's work at many sites, a typo in one must not hold back the others' stamps from the
public lookup, and since every row is idempotent, sending the corrected file again applies the
corrected rows and reports the others ``unchanged``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from forms.text import normalise, text_problem
from workflows.errors import FieldProblem, InvalidInput
from workflows.metrology.kinds import BY_CODE
from workflows.tax_codes import tax_code_problem

# The columns of a report (a JSON object's keys; a file's header row), in the template's order.
COLUMNS = (
    "kind",
    "model",
    "approval_mark",
    "serial_number",
    "measuring_range",
    "accuracy_class",
    "owner_type",
    "owner_tax_code",
    "owner_name",
    "commune",
    "address",
    "purpose",
    "certificate_number",
    "stamp_number",
    "verified_on",
    "result",
    "valid_until",
)
REQUIRED_COLUMNS = frozenset(
    {"kind", "model", "serial_number", "owner_type", "owner_name", "commune", "certificate_number"}
    | {"verified_on", "result"}
)
LIMITS = {
    "kind": 40,
    "model": 100,
    "approval_mark": 60,
    "serial_number": 60,
    "measuring_range": 100,
    "accuracy_class": 30,
    "owner_type": 12,
    "owner_tax_code": 14,
    "owner_name": 300,
    "commune": 120,
    "address": 300,
    "purpose": 300,
    "certificate_number": 60,
    "stamp_number": 60,
    "verified_on": 10,
    "result": 12,
    "valid_until": 10,
}
MAX_ROWS = 10_000
# A sheet's columns read at most (a file's header names the columns, the rest is not read).
MAX_COLUMNS = 40
OWNER_TYPES = {
    "business": "business",
    "doanh nghiệp": "business",
    "household": "household",
    "hộ": "household",
}
RESULTS = {"pass": "pass", "đạt": "pass", "fail": "fail", "không đạt": "fail"}
# Instrument columns a newer report updates (the owner may change, the instrument may move).
MUTABLE = ("approval_mark", "measuring_range", "accuracy_class", "owner_type", "owner_tax_code")
MUTABLE += ("owner_name", "commune", "address", "purpose")
CREATED, UNCHANGED, REJECTED = "created", "unchanged", "rejected"


@dataclass(frozen=True)
class Report:
    """One validated row: every value normalised (``content``: as stored and compared)."""

    content: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.content[key]

    @property
    def verified_on(self) -> date:
        return date.fromisoformat(self.content["verified_on"])

    @property
    def valid_until(self) -> date | None:
        value = self.content["valid_until"]
        return date.fromisoformat(value) if value else None


@dataclass
class RowOutcome:
    row: int
    certificate_number: str
    outcome: str
    record_id: int | None = None
    stamp_token: str | None = None
    problems: list[FieldProblem] = field(default_factory=list)


def problem(name: str, vi: str, en: str, code: str = "invalid") -> FieldProblem:
    return FieldProblem(name, vi, en, code)


def _date(value: Any, name: str, problems: list[FieldProblem]) -> str:
    """A date as ISO text, from dd/mm/yyyy, yyyy-mm-dd or a spreadsheet's date cell."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text_value = str(value).strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text_value, pattern).date().isoformat()
        except ValueError:
            continue
    problems.append(
        problem(
            name,
            "Ngày không hợp lệ: viết dd/mm/yyyy (hoặc yyyy-mm-dd).",
            "Not a valid date: write dd/mm/yyyy (or yyyy-mm-dd).",
            "format",
        )
    )
    return ""


def validate(raw: dict[str, Any], today: date) -> Report | list[FieldProblem]:
    """The report of a row, or what is wrong with it (every field at fault, not only the first)."""
    problems: list[FieldProblem] = []
    values: dict[str, str] = {}
    for name in COLUMNS:
        value = raw.get(name)
        if isinstance(value, date | datetime) and name in ("verified_on", "valid_until"):
            values[name] = _date(value, name, problems)
            continue
        if value is not None and not isinstance(value, str | int | float):
            problems.append(problem(name, "Giá trị phải là chữ.", "The value must be text.", "type"))
            values[name] = ""
            continue
        text_value = "" if value is None else " ".join(str(value).split())
        # A file's cells reach here unchecked (the request's text guard reads JSON, not uploads).
        if refused := text_problem(text_value, multiline=False):
            problems.append(problem(name, refused.message, refused.message_en, refused.code))
            values[name] = ""
            continue
        text_value = normalise(text_value)
        if len(text_value) > LIMITS[name]:
            problems.append(
                problem(
                    name,
                    f"Tối đa {LIMITS[name]} ký tự.",
                    f"At most {LIMITS[name]} characters.",
                    "maxLength",
                )
            )
            text_value = ""
        elif not text_value and name in REQUIRED_COLUMNS:
            problems.append(problem(name, "Trường này là bắt buộc.", "This field is required.", "required"))
        values[name] = text_value
    if values["kind"] and values["kind"] not in BY_CODE:
        problems.append(
            problem(
                "kind",
                "Loại phương tiện đo không có trong danh mục (xem /api/metrology/kinds).",
                "Not a kind of the list (see /api/metrology/kinds).",
                "enum",
            )
        )
    for name in ("model", "serial_number", "certificate_number", "stamp_number", "approval_mark"):
        values[name] = values[name].upper()
    owner_type = OWNER_TYPES.get(values["owner_type"].lower()) if values["owner_type"] else None
    if values["owner_type"] and owner_type is None:
        problems.append(
            problem(
                "owner_type",
                "Chủ sở hữu là 'business' (doanh nghiệp) hoặc 'household' (hộ kinh doanh, cá nhân).",
                "The owner is 'business' or 'household'.",
                "enum",
            )
        )
    values["owner_type"] = owner_type or values["owner_type"]
    if owner_type == "business":
        if not values["owner_tax_code"]:
            problems.append(
                problem(
                    "owner_tax_code",
                    "Doanh nghiệp cần có mã số thuế.",
                    "A business owner needs its tax code.",
                    "required",
                )
            )
        elif found := tax_code_problem(values["owner_tax_code"], "owner_tax_code"):
            problems.append(found)
    elif owner_type == "household" and values["owner_tax_code"]:
        problems.append(
            problem(
                "owner_tax_code",
                "Hộ, cá nhân không ghi mã số thuế ở đây (tên không được công khai).",
                "A household gives no tax code here (its name is never published).",
                "not_allowed",
            )
        )
    result = RESULTS.get(values["result"].lower()) if values["result"] else None
    if values["result"] and result is None:
        problems.append(
            problem(
                "result",
                "Kết quả là 'pass' (đạt) hoặc 'fail' (không đạt).",
                "The result is 'pass' or 'fail'.",
                "enum",
            )
        )
    values["result"] = result or values["result"]
    for name in ("verified_on", "valid_until"):
        if values[name]:
            values[name] = _date(values[name], name, problems)
    if values["verified_on"] and date.fromisoformat(values["verified_on"]) > today:
        problems.append(
            problem(
                "verified_on",
                "Ngày kiểm định không thể ở tương lai.",
                "The verification date cannot be in the future.",
                "future",
            )
        )
    if result == "pass":
        if not values["stamp_number"]:
            problems.append(
                problem(
                    "stamp_number",
                    "Phương tiện đo đạt yêu cầu phải có số tem kiểm định.",
                    "A passed verification needs its stamp number.",
                    "required",
                )
            )
        if not values["valid_until"]:
            if not any(p.field == "valid_until" for p in problems):
                problems.append(
                    problem(
                        "valid_until",
                        "Phương tiện đo đạt yêu cầu phải có ngày hết hiệu lực.",
                        "A passed verification needs its validity end date.",
                        "required",
                    )
                )
        elif values["verified_on"] and values["valid_until"] <= values["verified_on"]:
            problems.append(
                problem(
                    "valid_until",
                    "Ngày hết hiệu lực phải sau ngày kiểm định.",
                    "The validity must end after the verification date.",
                    "order",
                )
            )
    elif result == "fail" and values["valid_until"]:
        problems.append(
            problem(
                "valid_until",
                "Phương tiện đo không đạt thì không có ngày hết hiệu lực.",
                "A failed verification has no validity end date.",
                "not_allowed",
            )
        )
    return problems or Report(values)


# --- reading a file -------------------------------------------------------------------------------


def _bad_file(vi: str, en: str, code: str = "bad_file") -> InvalidInput:
    return InvalidInput(vi, en, code, [FieldProblem("file", vi, en, code)])


def _rows_of(header: list[Any], body_rows: list[list[Any]]) -> list[tuple[int, dict[str, Any]]]:
    names = [str(h or "").strip().lower() for h in header]
    unknown = [n for n in names if n and n not in COLUMNS]
    missing = sorted(REQUIRED_COLUMNS - set(names))
    if missing or unknown:
        vi = "Dòng tiêu đề của tệp phải có các cột: " + ", ".join(COLUMNS) + "."
        en = "The file's header row must name the columns: " + ", ".join(COLUMNS) + "."
        problems = [
            FieldProblem(n, "Thiếu cột này.", "This column is missing.", "missing_column") for n in missing
        ]
        problems += [
            FieldProblem(n, "Cột không được biết.", "Unknown column.", "unknown_column") for n in unknown
        ]
        raise InvalidInput(vi, en, "bad_header", problems)
    # Each row keeps its number in the file (the header is row 1), blank rows skipped.
    rows = [
        (number, {name: row[i] if i < len(row) else None for i, name in enumerate(names) if name})
        for number, row in enumerate(body_rows, start=2)
        if any(cell not in (None, "") for cell in row)
    ]
    if not rows:
        raise _bad_file("Tệp không có dòng dữ liệu nào.", "The file holds no data rows.", "empty_file")
    if len(rows) > MAX_ROWS:
        raise _bad_file(
            f"Mỗi tệp tối đa {MAX_ROWS} dòng; hãy chia tệp.",
            f"At most {MAX_ROWS} rows per file: split it.",
            "too_many_rows",
        )
    return rows


def read_csv(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """A CSV file's rows (UTF-8, with or without its BOM; comma or semicolon separated)."""
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad_file(
            "Tệp CSV phải mã hóa UTF-8.", "The CSV file must be encoded in UTF-8.", "encoding"
        ) from None
    first = decoded.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        lines = list(csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter))
    except csv.Error:
        raise _bad_file("Tệp CSV không đọc được.", "The CSV file cannot be read.") from None
    if not lines:
        raise _bad_file("Tệp trống.", "The file is empty.", "empty_file")
    return _rows_of(lines[0], lines[1 : MAX_ROWS + 2])


def read_xlsx(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The first sheet's rows of an .xlsx file (header in row 1)."""
    from openpyxl import load_workbook  # only when a workbook comes

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        lines = [
            list(row) for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS)
        ]
        book.close()
    except Exception:  # a damaged or foreign file is the sender's to fix, never a 500
        raise _bad_file("Tệp .xlsx không đọc được.", "The .xlsx file cannot be read.", "bad_file") from None
    if not lines:
        raise _bad_file("Tệp trống.", "The file is empty.", "empty_file")
    return _rows_of(lines[0], lines[1:])


def read_file(filename: str, content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The rows of an uploaded report, by its kind: .csv or .xlsx."""
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        return read_xlsx(content)
    if filename.lower().endswith((".csv", ".txt")) or not filename:
        return read_csv(content)
    raise _bad_file("Chỉ nhận tệp .csv hoặc .xlsx.", "Only .csv and .xlsx files are accepted.", "file_type")
