"""Which dossiers a person sees: the permissions policy's scope (``permissions.dossier_scope``)
as database conditions. The department's staff see every dossier; a business its own; a role a
procedure adds sees the dossiers its model gave that role work, open or done (a TBT officer the
inquiries; a council member the applications assigned to them to score).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from workflows import permissions
from workflows.models import Dossier, User, WorkTask


def _work_condition(actor: User, scope: permissions.DossierScope) -> Any:
    """The tasks through which ``scope`` shows a dossier to ``actor`` (None: no such task)."""
    conditions = []
    if scope.task_roles:
        conditions.append(WorkTask.candidate_role.in_(scope.task_roles))
    if scope.assigned_roles:
        conditions.append(
            WorkTask.candidate_role.in_(scope.assigned_roles) & (WorkTask.assignee_id == actor.id)
        )
    return or_(*conditions) if conditions else None


def visible_condition(actor: User) -> Any:
    """The dossiers ``actor`` sees, as a condition on ``Dossier`` (None: every dossier)."""
    scope = permissions.dossier_scope(actor)
    if scope.every:
        return None
    work = _work_condition(actor, scope)
    if work is None:
        return Dossier.applicant_id == actor.id
    worked_on = select(WorkTask.id).where(WorkTask.dossier_id == Dossier.id, work).exists()
    return or_(Dossier.applicant_id == actor.id, worked_on)


def can_see(session: Session, actor: User, dossier: Dossier) -> bool:
    """Whether ``actor`` sees ``dossier`` (the policy's rule, the tasks looked up when it asks)."""
    if permissions.may_see_dossier(actor, dossier):
        return True
    return _worked_on(session, actor, dossier)


def _worked_on(session: Session, actor: User, dossier: Dossier) -> bool:
    work = _work_condition(actor, permissions.dossier_scope(actor))
    if work is None:
        return False
    found = session.exec(select(WorkTask.id).where(WorkTask.dossier_id == dossier.id, work).limit(1))
    return found.first() is not None


def may_attach(session: Session, actor: User, dossier: Dossier) -> bool:
    """Whether ``actor`` may attach files to ``dossier`` (the policy's rule, tasks looked up)."""
    if permissions.may_attach_to_dossier(actor, dossier):
        return True
    return permissions.may_attach_to_dossier(actor, dossier, _worked_on(session, actor, dossier))
