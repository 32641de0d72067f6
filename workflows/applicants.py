"""The applicant's official name: what a dossier (and every document issued for it) calls the
applicant.

A business registers with its tax code and its organisation's name (workflows.registration; the
name is checked with the tax code, workflows.tax_codes): that registered name is the applicant's
official name on every dossier the account files. The name typed into a start form is what the
applicant declared; it stays in the dossier's data (the form as filed) and is shown there, but it
does not name the applicant. An account with no registered organisation (a visitor asking the TBT
inquiry point, a person) is named by its form, else by the account's name.
"""

from __future__ import annotations

from workflows.models import User


def registered_organisation(user: User | None) -> str:
    """The organisation a business account registered, or "" (not a business, or none given)."""
    if user is None or not user.has_role("business"):
        return ""
    return " ".join((user.organisation_name or "").split())


def official_applicant_name(user: User | None, declared: str) -> str:
    """The applicant's name on the dossier and its documents (at most 300 characters, the column's
    size): the registered organisation of a business account, else ``declared`` (the form's),
    else the account's display name."""
    name = registered_organisation(user) or declared.strip() or (user.display_name if user else "")
    return name[:300]
