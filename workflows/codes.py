"""Dossier codes and document numbers, race-free. The dossier code keeps the format of Circular
01/2018/TT-VPCP art. 19 (agency code, receipt date, 4-digit daily sequence): Circular 03/2025/TT-VPCP
now governs the code (its art. 1) and no change of format was found (check).

Each number is taken from a counter row with an atomic upsert, never by counting rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from workflows.clock import to_local
from workflows.db import next_in_sequence


def new_dossier_code(session: Session, agency_code: str, received: datetime) -> str:
    """``<agency code>-<YYMMDD>-<4-digit sequence per agency per day>``, e.g. 000.00.15.H50-261126-0001."""
    day = to_local(received).strftime("%y%m%d")
    sequence = next_in_sequence(session, f"dossier:{agency_code}:{day}")
    return f"{agency_code}-{day}-{sequence:04d}"


def new_document_number(session: Session, symbol: str, issued: datetime) -> str:
    """``<n>/<symbol>``, numbered from 1 each calendar year per symbol: a typed document's symbol is
    ``<type>-<agency>`` (15/TB-SKHCN), a letter's ``<agency>-<unit>`` (15/SKHCN-TĐC, Decree
    30/2020/NĐ-CP Phụ lục I: a letter's symbol is the agency's and the drafting unit's
    abbreviations). See :func:`document_symbol`. A number below 10 has a leading zero ("05/TB-SKHCN":
    Decree 30/2020/NĐ-CP Phụ lục I, Phần I, mục II, khoản 3, điểm c)."""
    year = to_local(issued).year
    sequence = next_in_sequence(session, f"document:{year}:{symbol}")
    return f"{sequence:02d}/{symbol}"


def document_symbol(type_symbol: str, agency_symbol: str, unit: str, *, letter: bool) -> str:
    """The part of a number after "/": "TB-SKHCN" for a notice, "SKHCN-TĐC" for a letter."""
    return f"{agency_symbol}-{unit}" if letter else f"{type_symbol}-{agency_symbol}"
