"""The import inspection on the task pages: what decided the measure (or the route by risk)."""

from api.procedure_web import ProcedureWeb
from workflows.procedures.import_inspection.decision import decision_facts

WEB = ProcedureWeb(
    fragments={"task_top": ("_import_decision.html",)},
    page_values=lambda rt, user, dossier, data: {"import_decision": decision_facts(data)},
)
