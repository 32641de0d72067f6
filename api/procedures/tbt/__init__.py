"""The TBT inquiry point's pages and routes: asking (visitors too), following a question by its
secret link, the knowledge base, WTO notifications, subscriptions and comments."""

from api.procedure_web import ProcedureWeb
from api.procedures.tbt import pages, routes

WEB = ProcedureWeb(routers=(routes.router, pages.router), fragments={"dossier_top": ("_tbt_dossier.html",)})
