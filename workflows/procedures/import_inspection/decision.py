"""What decided a registration's inspection: the measure (rules until 30/06/2026) or the route by
risk (from 01/07/2026), the goods' regulations and the importer's history, as facts an officer
reads on the task pages before confirming (the same the confirmation document prints)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows.documents.text import date_vn
from workflows.procedures.import_inspection.documents import INSPECTION_MEASURES, INSPECTION_ROUTES

MEASURES_EN = {
    0: "Exempt: a written exemption in force (Decree 154/2018, Art. 4(3)); the registration is recorded",
    1: "Measure a: on the importer's own conformity assessment; the registration is recorded",
    2: "Measure b: on the certificate of a registered or recognised certification body",
    3: "Measure c: on the certificate or inspection of a designated body",
}
ROUTES_EN = {
    "none": "Low-risk goods: no state inspection; the registration is recorded",
    "declaration": "Medium-risk goods: the importer's declaration of conformity; the registration is recorded",
    "certificate": "High-risk goods: inspected on the certificate of conformity already held",
    "designated_body": "High-risk goods without a certificate: kept in storage and assessed by a designated body",
}
RISK_LEVELS = {"low": ("Thấp", "Low"), "medium": ("Trung bình", "Medium"), "high": ("Cao", "High")}
REGULATION_MEASURES = {"a": "a", "b": "b", "c": "c"}
# An importer whose last three lots passed, none failing in twelve months, may ask to be exempted
# (Decree 154/2018, Art. 4(3)); the model's script decides it the same way.
PASSES_FOR_EXEMPTION = 3


@dataclass(frozen=True)
class Fact:
    label_vi: str
    label_en: str
    value_vi: str
    value_en: str


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _regulations(data: Mapping[str, Any]) -> list[str]:
    lines = [g for g in data.get("goods") or () if isinstance(g, dict)]
    return list(dict.fromkeys(str(g["qcvn"]).strip() for g in lines if str(g.get("qcvn") or "").strip()))


def decision_facts(data: Mapping[str, Any]) -> list[Fact]:
    """The facts, in the order they decided; empty before the decision table ran."""
    route = str(data.get("inspection_route") or "")
    measure = _int(data.get("inspection_measure"))
    if route not in INSPECTION_ROUTES and measure not in INSPECTION_MEASURES:
        return []
    facts: list[Fact] = []
    if route in INSPECTION_ROUTES:
        facts.append(Fact("Cách kiểm tra", "Inspection route", INSPECTION_ROUTES[route], ROUTES_EN[route]))
        level_vi, level_en = RISK_LEVELS.get(str(data.get("risk_level") or ""), ("—", "—"))
        facts.append(Fact("Mức độ rủi ro của lô hàng", "Risk level of the lot", level_vi, level_en))
        held = bool(data.get("has_conformity_certificate"))
        facts.append(
            Fact(
                "Giấy chứng nhận hợp quy",
                "Certificate of conformity",
                "Đã có" if held else "Chưa có",
                "Held" if held else "Not held",
            )
        )
    else:
        assert measure is not None
        facts.append(
            Fact(
                "Biện pháp kiểm tra", "Inspection measure", INSPECTION_MEASURES[measure], MEASURES_EN[measure]
            )
        )
        by_regulation = str(data.get("regulation_measure") or "")
        facts.append(
            Fact(
                "Biện pháp theo QCVN",
                "Measure set by the regulation",
                f"Biện pháp {by_regulation}" if by_regulation else "—",
                f"Measure {by_regulation}" if by_regulation else "—",
            )
        )
        if data.get("exemption_notice_number"):
            number = str(data["exemption_notice_number"])
            until = date_vn(data.get("exemption_valid_until")) or "—"
            valid = bool(data.get("exemption_valid"))
            facts.append(
                Fact(
                    "Văn bản miễn kiểm tra",
                    "Written exemption",
                    f"Số {number}, hiệu lực đến {until} ({'còn hiệu lực' if valid else 'hết hiệu lực'})",
                    f"No. {number}, valid until {until} ({'in force' if valid else 'expired'})",
                )
            )
    regulations = "; ".join(_regulations(data)) or "—"
    facts.append(Fact("Quy chuẩn kỹ thuật áp dụng", "Technical regulations", regulations, regulations))
    passes = _int(data.get("consecutive_passes")) or 0
    failures = _int(data.get("recent_failures")) or 0
    history_vi = (
        f"{passes} lô liên tiếp đạt kể từ lần không đạt gần nhất; {failures} lô không đạt trong 12 tháng qua"
    )
    history_en = (
        f"{passes} lots passed in a row since the last failure; {failures} failed in the last 12 months"
    )
    if route not in INSPECTION_ROUTES and passes >= PASSES_FOR_EXEMPTION and failures == 0:
        history_vi += " — đủ điều kiện đề nghị miễn kiểm tra"
        history_en += " — may ask to be exempted"
    facts.append(
        Fact(
            "Lịch sử kiểm tra của người nhập khẩu",
            "The importer's inspection history",
            history_vi,
            history_en,
        )
    )
    return facts
