"""The National Quality Award's pages and routes: rounds (admin), a round's applications and its
recommendation list, the council's scores on the dossier and task pages of an officer."""

from api.procedure_web import ProcedureWeb
from api.procedures.award import pages, routes

WEB = ProcedureWeb(
    routers=(routes.router, pages.router),
    fragments={"dossier_after_documents": ("_award_scores.html",), "task_top": ("_award_scores.html",)},
    page_values=lambda rt, user, dossier, data: {"award": pages.award_summary(rt, user, dossier, data)},
)
