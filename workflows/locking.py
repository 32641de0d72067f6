"""A dossier's write lock: its process-instance row, taken with ``SELECT … FOR UPDATE``.

Every command that writes a dossier (its process, tasks, fields, attachments or audit stream) takes
this lock before it reads anything it decides on. Hence:

* two commands on one dossier run one after the other, and the second decides on what the first
  committed: a claim and a completion of one task cannot both win, an upload waits for the
  clerk's completion instead of colliding with it on the audit chain;
* one lock order everywhere: the instance row first, then whatever else the command writes. The
  scheduler's timer and alarm claims lock the same row (``FOR UPDATE SKIP LOCKED``), so a tick
  skips a dossier a command holds and the command waits for a tick that holds it; no deadlock.

Call these at the start of the transaction, before loading the rows the command looks at: an
object already in the session keeps what was read before the lock was granted.

On SQLite ``FOR UPDATE`` is not rendered; a writing transaction there holds the database's single
write lock from ``BEGIN IMMEDIATE`` (``workflows.db``), which is stronger.
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, select

from workflows.command_log import note_dossier
from workflows.errors import not_found
from workflows.models import Dossier, ProcessInstance, WorkTask

# Built once (every command runs them; building a statement costs more than running it here).
_LOCK = (
    select(ProcessInstance)
    .where(ProcessInstance.dossier_id == bindparam("dossier_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_DOSSIER_OF_TASK = select(WorkTask.dossier_id).where(WorkTask.id == bindparam("task_id"))


def lock_dossier(session: Session, dossier_id: int) -> ProcessInstance:
    """Lock the dossier; returns its process instance as the previous lock holder committed it."""
    return session.exec(_LOCK, params={"dossier_id": dossier_id}).one()


def lock_dossier_by_code(session: Session, code: str) -> tuple[Dossier, ProcessInstance] | None:
    """The dossier with this code and its instance, locked; None when there is no such dossier."""
    dossier_id = session.exec(select(Dossier.id).where(Dossier.code == code)).first()
    if dossier_id is None:
        return None
    instance = lock_dossier(session, dossier_id)
    note_dossier(code)
    return session.get(Dossier, dossier_id, populate_existing=True), instance


def lock_task(session: Session, task_id: str) -> tuple[WorkTask, Dossier, ProcessInstance]:
    """A task, its dossier and the dossier's instance, read after locking the dossier."""
    dossier_id = session.exec(_DOSSIER_OF_TASK, params={"task_id": task_id}).first()
    if dossier_id is None:
        raise not_found("công việc", "Task")
    instance = lock_dossier(session, dossier_id)
    task = session.get(WorkTask, task_id, populate_existing=True)
    dossier = session.get(Dossier, dossier_id, populate_existing=True)
    note_dossier(dossier.code)
    return task, dossier, instance
