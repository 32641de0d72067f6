"""The people of the department and a driver that acts on one dossier through the commands,
for the restart tests (see ``test_procedures.py``)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import select

from tests.restarts.explorer import TIMER, Choice, Option
from tests.restarts.samples import SampleContext, count, payload
from tests.support import local, valid_tax_code
from workflows import accounts, commands, scheduler, submission
from workflows.clock import now, to_local
from workflows.db import reading, transaction
from workflows.engine import RunningProcess
from workflows.errors import Conflict
from workflows.models import Document, Dossier, OutcomeRecord, ProcessInstance, User, WorkTask
from workflows.procedures.award import rounds as award_rounds
from workflows.procedures.award.rounds import RoundInput
from workflows.procedures.metrology_campaign.models import COMPLIANT, REQUEST_VERIFICATION, CampaignFinding
from workflows.runtime import ModelCache, Runtime

START = local(2026, 3, 2, 9, 0)  # a Monday
START_CHOICE = "<submit>"
# The applicant's earlier outcomes on record, where a procedure decides by them (the import
# inspection measure reads the importer's history): each walk starts with one of these.
HISTORIES: dict[str, list[list[str]]] = {
    "kiem-tra-chat-luong-hang-nhap-khau": [[], ["passed", "passed", "passed"], ["failed"]],
}
ROLES = ("clerk", "specialist", "leader", "tbt_officer", "admin")
JOB_TITLES = {"clerk": "CÁN BỘ TIẾP NHẬN", "leader": "PHÓ GIÁM ĐỐC", "tbt_officer": "CÁN BỘ TBT"}
_numbers = itertools.count(1)
_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclasses.dataclass
class World:
    """The people of the department, and the clock every walk starts from."""

    rt: Runtime
    traveller: Any
    officers: dict[str, User]
    council: list[User]

    def new_business(self) -> User:
        number = next(_numbers)
        return accounts.register_business(
            self.rt,
            None,
            email=f"dn{number}@khoi-dong-lai.vn",
            password="mat-khau-an-toan-2026",
            full_name="Nguyễn Văn An",
            tax_code=valid_tax_code(50_000 + number),
            organisation_name=f"Công ty TNHH Khởi Động Lại {number}",
            address="12 Lê Duẩn, Đông Hà",
            phone="0233 3852 123",
        )


def make_world(rt: Runtime, traveller: Any) -> World:
    officers: dict[str, User] = {}
    council: list[User] = []
    for role in (*ROLES, "council", "council", "council"):
        user = accounts.create_officer(
            rt,
            None,
            email=f"{role}{next(_numbers)}@so-khcn.gov.vn",
            password="mat-khau-an-toan-2026",
            full_name=f"Cán bộ {role}",
            roles=[role],
            # The leader signs the results: with a title that is an authority (KT. GIÁM ĐỐC).
            job_title=JOB_TITLES.get(role, ""),
        )
        if role == "council":
            council.append(user)
        else:
            officers[role] = user
    # The award takes applications only within a round's registration window.
    award_rounds.create_round(
        rt,
        officers["admin"],
        RoundInput(
            year=2026,
            registration_opens=date(2026, 3, 2),
            registration_closes=date(2026, 3, 13),
            scoring_deadline=date(2026, 3, 27),
            council_member_ids=[member.id for member in council],
        ),
    )
    return World(rt, traveller, officers, council)


class CommandDriver:
    """One dossier of one procedure, acted on through the commands as its people would."""

    def __init__(self, world: World, procedure_code: str, start: datetime = START) -> None:
        self.world = world
        self.rt = world.rt
        self.start = start
        # The version of the rules a dossier submitted at ``start`` follows.
        procedure = world.rt.procedure_for_new_dossier(procedure_code, start)
        assert procedure is not None, f"no version of {procedure_code} is in force on {start:%d/%m/%Y}"
        self.procedure = procedure
        world.traveller.move_to(start)
        # An internal procedure (the inspection campaign) is started by a specialist.
        self.applicant = world.officers["specialist"] if procedure.internal else world.new_business()
        self.dossier_id: int | None = None

    @classmethod
    def resume(cls, world: World, dossier_id: int) -> CommandDriver:
        """A driver for a dossier already in the database, e.g. one an older release left running
        (``tests/test_upgrade_from_release.py``): its applicant acts for the business."""
        driver = cls.__new__(cls)
        driver.world, driver.rt = world, world.rt
        with reading(world.rt.engine) as session:
            dossier = session.get(Dossier, dossier_id)
            assert dossier is not None, f"no dossier {dossier_id}"
            driver.applicant = session.get(User, dossier.applicant_id)
        driver.start = dossier.submitted_at
        driver.procedure = world.rt.catalogue.procedures[dossier.procedure_code]
        driver.dossier_id = dossier_id
        return driver

    # --- what can happen -----------------------------------------------------------------
    def options(self) -> list[Option]:
        if self.dossier_id is None:
            forms = count(self.rt.forms.get(self.procedure.start_form))
            return [Option(START_CHOICE, 0, forms * len(self._histories()))]
        by_spec: dict[str, list[WorkTask]] = {}
        for task in self._open_tasks():
            by_spec.setdefault(task.spec_name, []).append(task)
        options: list[Option] = []
        for spec_name, waiting in by_spec.items():
            variants = count(self.rt.forms.get(waiting[0].form)) if waiting[0].form else 1
            options += [Option(spec_name, ordinal, variants) for ordinal in range(len(waiting))]
        timers = self._process().waiting_timers()
        if timers:
            options.append(Option(f"{TIMER}{timers[0][0]}"))
        return options

    def take(self, choice: Choice) -> bool:
        if choice.spec_name == START_CHOICE:
            history, variant = divmod(choice.variant, count(self.rt.forms.get(self.procedure.start_form)))
            self._record_history(self._histories()[history])
            data = self._payload(self.procedure.start_form, self.applicant, variant)
            dossier, _ = submission.submit_dossier(self.rt, self.applicant, self.procedure.code, data)
            self.dossier_id = dossier.id
            return True
        if choice.spec_name.startswith(TIMER):
            with reading(self.rt.engine) as session:
                instance = self._instance(session)
            self.world.traveller.move_to(instance.next_timer_at)
            scheduler.tick(self.rt)
            return True
        task = [t for t in self._open_tasks() if t.spec_name == choice.spec_name][choice.ordinal]
        actor = self._actor(task)
        data = self._payload(task.form, actor, choice.variant) if task.form else {}
        try:
            commands.complete_task(self.rt, actor, task.id, data)
        except Conflict:
            return False  # e.g. a result past its appointment needs the apology slip first
        return True

    def restart(self) -> None:
        self.rt = dataclasses.replace(self.rt, models=ModelCache(self.rt.engine))

    # --- what a person sees --------------------------------------------------------------
    def finished(self) -> bool:
        if self.dossier_id is None:
            return False
        with reading(self.rt.engine) as session:
            return session.get(Dossier, self.dossier_id).completed_at is not None

    def observe(self) -> Any:
        if self.dossier_id is None:
            return None
        with reading(self.rt.engine) as session:
            dossier = session.get(Dossier, self.dossier_id)
            documents = session.exec(
                select(Document.kind).where(Document.dossier_id == dossier.id).order_by(Document.kind)
            ).all()
            tasks = [
                (t.spec_name, t.candidate_role, self._who(t.assignee_id), _when(t.due_at))
                for t in self._open_tasks(session)
            ]
            instance = self._instance(session)
            return {
                "status": dossier.status,
                "step": dossier.current_step,
                "outcome": dossier.outcome,
                "appointment": _when(dossier.appointment_at),
                "closed": _when(dossier.completed_at),
                "tasks": tasks,
                "documents": list(documents),
                "next_timer": _when(instance.next_timer_at),
                "finished": instance.completed,
            }

    def reached(self) -> frozenset[str]:
        return self._process().reached_elements() if self.dossier_id is not None else frozenset()

    # --- helpers -------------------------------------------------------------------------
    def _open_tasks(self, session: Any = None) -> list[WorkTask]:
        def query(s: Any) -> list[WorkTask]:
            return list(
                s.exec(
                    select(WorkTask)
                    .where(WorkTask.dossier_id == self.dossier_id, WorkTask.status == "open")
                    .order_by(WorkTask.spec_name, WorkTask.assignee_id, WorkTask.created_at, WorkTask.id)
                ).all()
            )

        if session is not None:
            return query(session)
        with reading(self.rt.engine) as s:
            return query(s)

    def _instance(self, session: Any) -> ProcessInstance:
        return session.exec(
            select(ProcessInstance).where(ProcessInstance.dossier_id == self.dossier_id)
        ).one()

    def _process(self) -> RunningProcess:
        with reading(self.rt.engine) as session:
            instance = self._instance(session)
        return RunningProcess.restore(self.rt.models.get(instance.model_version_id), instance.state)

    def _histories(self) -> list[list[str]]:
        return HISTORIES.get(self.procedure.code, [[]])

    def _record_history(self, outcomes: list[str]) -> None:
        """Earlier closed dossiers of the applicant with these outcomes, oldest first."""
        with transaction(self.rt.engine) as session:
            for index, outcome in enumerate(outcomes):
                earlier = Dossier(
                    code=f"LICH-SU-{self.applicant.id}-{index}",
                    procedure_code=self.procedure.code,
                    applicant_id=self.applicant.id,
                    applicant_name=self.applicant.organisation_name,
                    applicant_tax_code=self.applicant.tax_code,
                    status=outcome,
                    outcome=outcome,
                    data={},
                    submitted_at=self.start - timedelta(days=90 - index),
                    completed_at=self.start - timedelta(days=60 - index),
                )
                session.add(earlier)
                session.flush()
                session.add(
                    OutcomeRecord(
                        procedure_code=self.procedure.code,
                        subject_key=self.applicant.tax_code,
                        dossier_id=earlier.id,
                        outcome=outcome,
                        recorded_at=earlier.completed_at,
                    )
                )

    def _who(self, user_id: int | None) -> str | int | None:
        """The applicant differs from walk to walk; the officers are the same people."""
        return "applicant" if user_id == self.applicant.id else user_id

    def _actor(self, task: WorkTask) -> User:
        with reading(self.rt.engine) as session:
            if task.assignee_id is not None:
                return session.get(User, task.assignee_id)
        if task.candidate_role == "business":
            return self.applicant
        return self.world.officers[task.candidate_role]

    def _payload(self, form_name: str, actor: User, variant: int) -> dict[str, Any]:
        context = SampleContext(
            tax_code=actor.tax_code or self.applicant.tax_code,
            email=actor.email,
            today=to_local(now()).date(),
            attachment=lambda: self._upload(actor),
        )
        made = payload(self.rt.forms.get(form_name), context, variant)
        fit = _FITTED.get(form_name)
        return fit(self, made) if fit is not None else made

    # The inspection campaign's forms name rows of the database: the walks' world has no registry
    # instruments (a site's findings are instruments not in it), and a handling names each of the
    # campaign's violations once (with the action of the payload's variant).
    def _unregistered_only(self, made: dict[str, Any]) -> dict[str, Any]:
        for finding in made["site"]["findings"]:
            finding.pop("instrument_id", None)
            finding.pop("stamp_number", None)
            finding.setdefault("unregistered", {"kind": "taximeter", "serial_number": "SN-1"})
        return made

    def _every_violation(self, made: dict[str, Any]) -> dict[str, Any]:
        chosen = made["handlings"][0]
        with reading(self.rt.engine) as session:
            violations = session.exec(
                select(CampaignFinding.id).where(
                    CampaignFinding.dossier_id == self.dossier_id, CampaignFinding.result != COMPLIANT
                )
            ).all()
        made["handlings"] = [
            {
                **chosen,
                "finding_id": finding_id,
                "note": chosen.get("note") or "Đã khắc phục",
                **(
                    {"within_days": chosen.get("within_days") or 5}
                    if chosen["action"] == REQUEST_VERIFICATION
                    else {}
                ),
            }
            for finding_id in violations
        ]
        return made

    def _upload(self, actor: User) -> str:
        # Each upload is an attachment of its own (its own id and owner); the bytes are the same
        # every time, so the content-addressed store writes (and syncs to disk) them once, not
        # once for each of the thousands of uploads the walks make.
        attachment = commands.upload_attachment(self.rt, actor, "tai-lieu.pdf", _PDF)
        return attachment.id


_FITTED = {
    "metrology_campaign_site.schema.json": CommandDriver._unregistered_only,
    "metrology_campaign_handling.schema.json": CommandDriver._every_violation,
}


def _when(instant: datetime | None) -> str | None:
    return to_local(instant).isoformat() if instant else None
