"""The metrology inspection campaign's JSON routes (its steps are the officers' ordinary tasks,
done in the task inbox and through ``/api/tasks``)."""

from api.procedure_web import ProcedureWeb
from api.procedures.metrology_campaign import routes

WEB = ProcedureWeb(routers=(routes.router,))
