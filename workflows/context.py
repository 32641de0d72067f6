"""The state one command works on: runtime, open transaction, actor, dossier, the instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from workflows import calendar_entries
from workflows.clock import now
from workflows.models import Dossier, User

if TYPE_CHECKING:
    from workflows.catalogue import Procedure
    from workflows.runtime import Runtime


@dataclass
class CommandContext:
    rt: Runtime
    session: Session
    actor: User | None
    dossier: Dossier
    procedure: Procedure
    at: datetime
    issued_documents: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rt: Runtime, session: Session, actor: User | None, dossier: Dossier) -> CommandContext:
        """The context of a command by ``actor`` on ``dossier``, at this instant (the command holds
        the dossier's lock: the calendar is brought up to the revision committed before it)."""
        calendar_entries.refresh(rt, session)
        return cls(
            rt=rt,
            session=session,
            actor=actor,
            dossier=dossier,
            procedure=rt.procedure_of(dossier),
            at=now(),
        )

    @property
    def stream(self) -> str:
        return f"dossier:{self.dossier.id}"
