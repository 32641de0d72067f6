"""A fifth procedure, defined here in the test folder: a request a clerk grants (a certificate is
issued), refuses, or — a fault in the model — cannot decide. It proves the plug-in interface is
enough: the core is not edited for it, only the catalogue names it."""

from pathlib import Path

from tests.procedures.tiny import documents  # noqa: F401  (registers the certificate)
from workflows import audit
from workflows.context import CommandContext
from workflows.plugins import EventType, ProcedurePlugin


def stamp(ctx: CommandContext, params: dict) -> None:
    """The tiny procedure's own operator: stamps the request (in its history) with a serial of the
    model's choosing."""
    audit.record(
        ctx.session, ctx.stream, "tiny_stamped", ctx.actor, {"serial": params.get("serial")}, ctx.dossier.id
    )


PLUGIN = ProcedurePlugin(
    name="tiny",
    document_kinds=("tiny_certificate",),
    statuses={
        "tiny_deciding": ("Chờ quyết định (thử)", "Awaiting the decision (tiny)"),
        "tiny_granted": ("Đã cấp giấy (thử)", "Certificate granted (tiny)"),
    },
    event_types=(EventType("tiny_granted", applicant_hears=True, model_may_emit=True),),
    history_labels={"tiny_stamped": ("Đóng dấu yêu cầu (thử)", "Request stamped (tiny)")},
    operators={"tiny_stamp": stamp},
    forms=Path(__file__).resolve().parent / "forms",
    templates=Path(__file__).resolve().parent / "templates",
)
