"""Declaration of conformity (công bố hợp chuẩn, hợp quy): its documents, the warning on an
expiring certificate, and its demo.

Everything else it does (receipt, supplement, deadlines, approval, closing) is the core's."""

from workflows.plugins import ProcedurePlugin
from workflows.procedures.declaration import documents  # noqa: F401  (registers its document kinds)
from workflows.procedures.declaration.certificate import certificate_warnings
from workflows.procedures.declaration.demo import make_demo

PLUGIN = ProcedurePlugin(
    name="declaration",
    document_kinds=("declaration_notice", "declaration_rejection"),
    demo=make_demo,
    dossier_warnings=certificate_warnings,
)
