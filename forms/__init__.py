"""Forms of tdcflow: one JSON Schema per start form and user task, the UI hints beside it, and the
code that loads and validates them. The same schema validates the API payload and renders the HTML
form (DESIGN rule 7). This package imports no other tdcflow package.

Files
    ``forms/schemas/<name>.schema.json`` — JSON Schema draft 2020-12 (``$schema`` may be left out
    or must be the 2020-12 URI; the root is ``"type": "object"``; no ``$id``: a schema is known by
    its file name). ``forms/schemas/<name>.uischema.json`` — optional UI hints in the style of
    SpiffArena / react-jsonschema-form: ``ui:order`` (at each object level, may hold ``"*"``),
    ``ui:widget`` (``"textarea"``, ``"radio"``...), ``ui:help``, ``ui:placeholder``; nested
    objects nest, array items go under ``items``. UI text is Vietnamese (the officers' language);
    every field the UI schema names must exist in the schema (checked when the form loads).
    BPMN user tasks name them with ``formJsonSchemaFilename="examine.schema.json"`` and
    ``formUiSchemaFilename="examine.uischema.json"``; :meth:`FormRegistry.get` takes that name.

Labels
    ``title`` is Vietnamese, ``x-title-en`` English; likewise ``description`` /
    ``x-description-en``. Enumerations are a plain ``enum`` of stable codes with labels in
    ``x-enum-labels: {"<code>": {"vi": "...", "en": "..."}}`` (chosen over ``oneOf`` + ``const`` +
    ``title``: gateways read the code, an ``enum`` failure gives one clear error, not one per
    branch). A field may override the message of a keyword with
    ``x-messages: {"pattern": {"vi": "...", "en": "..."}}``, where ``{title}`` stands for the
    field's title.

Values
    * Attachment: ``{"type": "string", "format": "attachment", "x-accept": ["application/pdf",
      "image/*"]}`` holds the id of an uploaded file (letters, digits, ``._:-``, ≤ 128 chars); a
      field of several files is an array of those. Find them with :meth:`Form.attachment_fields`
      (the schema's file fields) and :meth:`Form.attachment_paths` (the ids present in data).
      Renderers recognise file fields by the format; the UI schema need not mark them.
    * Date: ``{"type": "string", "format": "date"}`` (``YYYY-MM-DD``, a real day: ``2026-02-30``
      fails). Formats are always checked; ``email`` needs ``local@domain.tld``.
    * Text a person must fill in: ``minLength: 1`` plus ``pattern: "\\\\S"`` (not blank), with a
      ``maxLength``. Patterns follow ECMA-262 (``$`` is the very end); write ``[0-9]``, not ``\\\\d``.
    * Every object has ``additionalProperties: false`` so a mistyped key is an error. A form whose
      fields come through ``$ref`` closes its root with ``unevaluatedProperties: false`` instead
      (draft 2020-12: keys described through ``$ref``/``allOf``/``then`` count as evaluated).
    * Conditional requirements use ``if``/``then`` inside ``allOf``; errors come from the inner
      keyword, so they point at the field.
    * A blank optional input is left out of the data, not sent as ``""`` (``""`` would fail
      ``minLength``).
    * ``$ref`` may name another schema file of the folder by its bare name
      (``"$ref": "declaration.schema.json"``), or a part of it
      (``"declaration.schema.json#/$defs/declaration_fields"``); it resolves through a
      ``referencing`` registry of the folder, never the network. The declaration's fields and
      rules live open in ``declaration.schema.json#/$defs/declaration_fields``: the declaration
      form and the flat supplement form (the same top-level keys plus ``supplement_note``, as the
      engine merges task data into process data by top-level key) both ``$ref`` them.

Errors
    :func:`validate` raises :class:`FormValidationError` whose ``errors`` are :class:`FieldError`
    (``field`` dotted path such as ``product.name`` or ``goods[0].hs_code``, ``path`` list,
    ``message`` Vietnamese, ``message_en`` English, ``code`` the failing keyword), all of them,
    sorted by path. A missing field is reported at the field itself; an unexpected key at the key.

Public API: :class:`FormRegistry`, :func:`default_registry`, :class:`Form`,
:class:`AttachmentField`, :class:`FormNotFound`, :class:`FormSchemaError`, :func:`validate`,
:func:`validate_or_errors`, :class:`FieldError`, :class:`FormValidationError`.
"""

from .registry import (
    SCHEMAS_DIR,
    AttachmentField,
    Form,
    FormNotFound,
    FormRegistry,
    FormSchemaError,
    default_registry,
)
from .validation import FieldError, FormValidationError, validate, validate_or_errors, validation_days

__all__ = [
    "SCHEMAS_DIR",
    "AttachmentField",
    "FieldError",
    "Form",
    "FormNotFound",
    "FormRegistry",
    "FormSchemaError",
    "FormValidationError",
    "default_registry",
    "validate",
    "validate_or_errors",
    "validation_days",
]
