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


def new_document_number(session: Session, type_symbol: str, agency_symbol: str, issued: datetime) -> str:
    """``<n>/<type>-<agency>``, numbered from 1 each calendar year per document type, e.g. 15/TB-SKHCN."""
    year = to_local(issued).year
    sequence = next_in_sequence(session, f"document:{year}:{type_symbol}-{agency_symbol}")
    return f"{sequence}/{type_symbol}-{agency_symbol}"
