"""Official documents in the layout of Decree 30/2020/NĐ-CP.

``model`` says what a document is (a kind's builder turns a context into a body), ``docx_writer``
(with ``docx_package``) lays a body out as .docx, ``pdf_writer`` (with ``ooxml`` and its
``ooxml_*`` parts, ``pdf_layout``, ``pdf_lines`` and ``fonts``) renders a .docx as its PDF/A copy (imported where it is used: fpdf2 takes 0.3 s to
import), ``codes`` and ``qr`` make what lets anyone verify it, ``text`` helps builders write dates
and phrases, ``slips`` holds the one-stop slips every procedure issues. A procedure's own kinds live in its package (``workflows.procedures.<name>``).

A kind may instead be rendered from a .docx template an administrator edits in Word
(``templating``: docxtpl; the package's in ``templates/``, uploaded versions in
``template_versions``, checked by ``template_check`` with the contexts of ``samples``); issuing
renders each document from the template in force on its day, else with its builder.
"""

from workflows.documents import slips  # noqa: F401  (the one-stop slips are kinds of every procedure)
from workflows.documents.codes import new_verification_code, normalise_verification_code, sha256_hex
from workflows.documents.docx_writer import render_document
from workflows.documents.layout import NATIONAL_MOTTO, NATIONAL_NAME
from workflows.documents.model import (
    DOCUMENT_KINDS,
    Block,
    DocumentBody,
    DocumentContext,
    DocumentKind,
    Grid,
    Para,
    Span,
    document_kind,
    document_title,
)
from workflows.documents.qr import qr_png
from workflows.documents.slips import OUTCOMES_VI, PROCESS_COLUMNS
from workflows.documents.text import agency_in_text, place_and_date

__all__ = [
    "DOCUMENT_KINDS",
    "NATIONAL_MOTTO",
    "NATIONAL_NAME",
    "OUTCOMES_VI",
    "PROCESS_COLUMNS",
    "Block",
    "DocumentBody",
    "DocumentContext",
    "DocumentKind",
    "Grid",
    "Para",
    "Span",
    "agency_in_text",
    "document_kind",
    "document_title",
    "new_verification_code",
    "normalise_verification_code",
    "place_and_date",
    "qr_png",
    "render_document",
    "sha256_hex",
]
