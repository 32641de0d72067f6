"""The metrology inspection campaign's JSON routes and the findings it shows on its pages (its
steps are the officers' ordinary tasks, done in the task inbox and through ``/api/tasks``)."""

from api.procedure_web import ProcedureWeb
from api.procedures.metrology_campaign import pages, routes

_FINDINGS = ("_campaign_findings.html",)
WEB = ProcedureWeb(
    routers=(routes.router,),
    fragments={"dossier_top": _FINDINGS, "task_top": _FINDINGS},
    page_values=pages.findings_values,
    form_start=pages.handling_rows,
)
