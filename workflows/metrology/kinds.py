"""The kinds of measuring instrument that must be verified (group 2, Luật Đo lường 04/2011/QH13,
Điều 16–17 and Nghị định 86/2012/NĐ-CP), with their verification intervals, as data.

The list is the ministry's (Thông tư 23/2013/TT-BKHCN, Phụ lục; replaced by Thông tư
07/2019/TT-BKHCN from 01/01/2020, then by Thông tư 03/2024/TT-BKHCN from 15/10/2024, consolidated
in 02/VBHN-BKHCN of 03/07/2024). Every interval below was read in secondary summaries of Thông tư
03/2024 (law portals and a provincial TĐC notice), not in the gazette's text: each is marked
``confirmed=False`` and shown with "(check)" until someone reads it in the legal text. Where no
summary gave a figure, the interval is ``None``: a figure is left out rather than guessed. The
interval is information for officers and owners; the validity of a verification is what its
certificate says (``valid_until``, reported by the verification body), never computed from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The text in force for the list (its effective date), and the summaries the figures came from.
TT_03_2024 = "Thông tư 03/2024/TT-BKHCN, Điều 1 (sửa đổi khoản 1 Điều 4 và Phụ lục Thông tư 23/2013/TT-BKHCN)"
TT_03_2024_FROM = date(2024, 10, 15)
CHECK_VI = "(cần kiểm tra)"
CHECK_EN = "(check)"


@dataclass(frozen=True)
class InstrumentKind:
    """A kind of group 2 instrument. ``interval_months``: the periodic verification interval
    (None: not known here); ``confirmed``: read in the legal text itself, not only in a summary."""

    code: str
    name_vi: str
    name_en: str
    interval_months: int | None
    source: str
    effective_from: date
    effective_to: date | None = None
    confirmed: bool = False

    def interval_label(self) -> tuple[str, str]:
        """The interval as shown: "18 tháng (cần kiểm tra)" / "18 months (check)"."""
        if self.interval_months is None:
            return ("chưa có số liệu", "no figure recorded")
        vi = f"{self.interval_months} tháng"
        en = f"{self.interval_months} months"
        if not self.confirmed:
            vi, en = f"{vi} {CHECK_VI}", f"{en} {CHECK_EN}"
        return (vi, en)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


def _kind(code: str, vi: str, en: str, months: int | None) -> InstrumentKind:
    return InstrumentKind(code, vi, en, months, TT_03_2024, TT_03_2024_FROM)


KINDS: tuple[InstrumentKind, ...] = (
    _kind("taximeter", "Taximet", "Taxi meter", 18),
    _kind(
        "speed_meter",
        "Phương tiện đo kiểm tra tốc độ phương tiện giao thông",
        "Traffic speed meter",
        24,
    ),
    _kind("distance_optical", "Phương tiện đo khoảng cách quang điện", "Electro-optical distance meter", 12),
    _kind("water_depth", "Phương tiện đo độ sâu đáy nước", "Water depth meter", 12),
    _kind("underground_depth", "Phương tiện đo độ sâu công trình ngầm", "Underground works depth meter", 24),
    _kind("levelling", "Phương tiện đo thủy chuẩn", "Levelling instrument", 12),
    _kind("total_station", "Toàn đạc điện tử", "Electronic total station", 12),
    _kind("analytical_balance", "Cân phân tích", "Analytical balance", 12),
    _kind("technical_balance", "Cân kỹ thuật", "Technical balance", 12),
    # Scales in common use: listed in the same annex (item 8, "Cân thông dụng"); the summaries read
    # here were cut before their intervals.
    _kind("spring_scale", "Cân đồng hồ lò xo", "Spring dial scale", None),
    _kind("platform_scale", "Cân bàn", "Platform scale", None),
    # The issue's own example (a petrol pump); its line of the annex was not seen here: name and
    # interval are to be checked against the text.
    _kind("fuel_dispenser", "Cột đo xăng dầu", "Fuel dispenser", None),
    _kind(
        "ev_charger_ac_bike",
        "Thiết bị đo điện năng xoay chiều sạc pin xe đạp điện, xe máy điện",
        "AC energy meter of an e-bike or e-motorbike charger",
        60,
    ),
    _kind(
        "ev_charger_ac_car",
        "Thiết bị đo điện năng xoay chiều sạc pin xe ô tô điện",
        "AC energy meter of an electric car charger",
        36,
    ),
    _kind(
        "ev_charger_dc_car",
        "Thiết bị đo điện năng một chiều sạc pin xe ô tô điện",
        "DC energy meter of an electric car charger",
        36,
    ),
)
BY_CODE: dict[str, InstrumentKind] = {k.code: k for k in KINDS}


def kind(code: str) -> InstrumentKind | None:
    return BY_CODE.get(code)
