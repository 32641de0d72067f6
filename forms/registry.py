"""Loading form schemas from a folder: :class:`FormRegistry`, :class:`Form` and their errors."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from . import _walk
from ._validator import DAY_NAMES, FORMAT_CHECKER, FormValidator
from .field_errors import FieldError
from .validation import validate, validate_or_errors

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_SUFFIX = ".schema.json"
UI_SUFFIX = ".uischema.json"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.schema\.json")
# Keywords whose values are data, not schemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "x-enum-labels", "x-messages"})


class FormNotFound(LookupError):
    """No schema file of that name in the registry's folder."""

    def __init__(self, name: str, schemas_dir: Path | None = None, available: Sequence[str] = ()):
        self.name = name
        message = f"Form schema {name!r} not found"
        if schemas_dir is not None:
            message += f" in {schemas_dir}"
        if available:
            message += f" (available: {', '.join(available)})"
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


class FormSchemaError(ValueError):
    """A schema or UI-schema file is not valid JSON, not a valid draft 2020-12 schema, or broken."""

    def __init__(self, filename: Path | str, problem: str):
        self.filename = str(filename)
        self.problem = problem
        super().__init__(f"{filename}: {problem}")


@dataclass(frozen=True)
class AttachmentField:
    """One file field of a form.

    ``path`` is dotted, with ``[*]`` for "every item of this array" (``goods[*].photo``);
    ``multiple`` is true when the field is an array of attachment ids.
    """

    path: str
    accept: tuple[str, ...]
    multiple: bool
    title_vi: str
    title_en: str


class Form:
    """One form: its JSON Schema, its UI hints and what other code asks of them."""

    def __init__(
        self,
        name: str,
        schema: Mapping[str, Any],
        ui_schema: Mapping[str, Any],
        *,
        registry: Registry,
        path: Path | None = None,
    ):
        self.name = name
        self.schema = schema
        self.ui_schema = ui_schema
        self.path = path
        self._registry = registry
        #: The jsonschema validator: draft 2020-12, formats checked, ``$ref`` through the folder.
        self.validator = FormValidator(schema, registry=registry, format_checker=FORMAT_CHECKER)
        self._root: list[_walk.Node] = _walk.expand(
            [_walk.Node(schema, registry.resolver_with_root(DRAFT202012.create_resource(schema)))]
        )

    def __repr__(self) -> str:
        return f"<Form {self.name}>"

    def with_schema(self, schema: Mapping[str, Any]) -> Form:
        """The same form with ``schema`` in place of its own (e.g. maxima a procedure's version
        sets); its ``$ref`` resolve as the original's do."""
        return Form(self.name, schema, self.ui_schema, registry=self._registry, path=self.path)

    @property
    def title_vi(self) -> str:
        return self.schema.get("title") or self.name

    @property
    def title_en(self) -> str:
        return self.schema.get("x-title-en") or self.title_vi

    @property
    def description_vi(self) -> str | None:
        return self.schema.get("description")

    @property
    def description_en(self) -> str | None:
        return self.schema.get("x-description-en") or self.description_vi

    # -- fields --------------------------------------------------------------------------------

    def field_schemas(self, path: Sequence[str | int]) -> list[Mapping[str, Any]]:
        """Every subschema that describes the data at ``path`` (``["product", "name"]``), the
        property's own schema first, then what it applies in place (``$ref``, ``allOf``, ``then``...).
        Empty when the schema has no such field."""
        return [node.schema for node in _walk.at(self._root, path)]

    def field_title(self, path: Sequence[str | int], lang: str = "vi") -> str:
        """The field's title in ``"vi"`` or ``"en"``; the form's title for ``[]``; the key itself
        (or the array's title) when the schema gives none."""
        if not path:
            return self.title_en if lang == "en" else self.title_vi
        found = _walk.title(_walk.at(self._root, path), lang)
        if found:
            return found
        last = path[-1]
        if isinstance(last, int):
            return self.field_title(path[:-1], lang)
        return str(last)

    def field_names(self, path: Sequence[str | int] = ()) -> list[str]:
        """The property names of the object at ``path`` (``[]``: the form's top-level fields), in
        schema order, including those it gets through ``$ref``, ``allOf`` or ``then``."""
        return _walk.property_names(_walk.at(self._root, path))

    # -- attachments ---------------------------------------------------------------------------

    @cached_property
    def _attachment_fields(self) -> tuple[AttachmentField, ...]:
        found: dict[str, AttachmentField] = {}

        def visit(nodes: list[_walk.Node], prefix: str, depth: int) -> None:
            if depth > 32:  # a recursive schema: stop somewhere
                return
            for key in _walk.property_names(nodes):
                sub = _walk.child(nodes, key)
                path = f"{prefix}.{key}" if prefix else key
                item_nodes = _walk.items(sub)
                if _walk.is_attachment(sub):
                    found.setdefault(path, _attachment_field(path, sub, sub, multiple=False))
                elif item_nodes and _walk.is_attachment(item_nodes):
                    found.setdefault(path, _attachment_field(path, sub, item_nodes, multiple=True))
                else:
                    visit(sub, path, depth + 1)
                    if item_nodes:
                        visit(item_nodes, f"{path}[*]", depth + 1)

        visit(self._root, "", 0)
        return tuple(found.values())

    def attachment_fields(self) -> list[AttachmentField]:
        """The schema's attachment fields (``format: attachment``, or arrays of them) with their
        accepted media types (``x-accept``), in schema order."""
        return list(self._attachment_fields)

    def attachment_paths(self, data: Any) -> list[tuple[str, str]]:
        """``(field path, attachment id)`` for every attachment id present in ``data``, including
        inside arrays (``attachments.other[1]``), in data order. Values that are not non-empty
        strings are skipped (validation reports them)."""
        out: list[tuple[str, str]] = []

        def visit(nodes: list[_walk.Node], value: Any, path: list[str | int]) -> None:
            if not nodes:
                return
            if isinstance(value, str):
                if value and _walk.is_attachment(nodes):
                    out.append((_walk.format_path(path), value))
            elif isinstance(value, Mapping):
                for key, item in value.items():
                    if isinstance(key, str):
                        visit(_walk.child(nodes, key), item, [*path, key])
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    visit(_walk.child(nodes, index), item, [*path, index])

        visit(self._root, data, [])
        return out

    # -- validation (see forms.validation) ------------------------------------------------------

    def validate(self, data: Any) -> None:
        """Raise :class:`forms.validation.FormValidationError` unless ``data`` fits the form."""
        validate(self, data)

    def errors(self, data: Any) -> list[FieldError]:
        return validate_or_errors(self, data)


def _attachment_field(
    path: str, field_nodes: list[_walk.Node], file_nodes: list[_walk.Node], *, multiple: bool
) -> AttachmentField:
    accept = _walk.first(file_nodes, "x-accept") or []
    return AttachmentField(
        path=path,
        accept=tuple(accept),
        multiple=multiple,
        title_vi=_walk.title(field_nodes, "vi") or path,
        title_en=_walk.title(field_nodes, "en") or path,
    )


class FormRegistry:
    """The forms of one folder: ``<name>.schema.json`` plus an optional ``<name>.uischema.json``.

    Forms load on first use and are cached; ``$ref`` between files of the folder resolve through a
    ``referencing`` registry of that folder only (a bare file name, never the network).
    """

    def __init__(self, schemas_dir: Path | str):
        self.schemas_dir = Path(schemas_dir)
        self._lock = threading.RLock()
        self._documents: dict[str, dict[str, Any]] = {}
        self._forms: dict[str, Form] = {}

    def __repr__(self) -> str:
        return f"<FormRegistry {self.schemas_dir}>"

    def names(self) -> list[str]:
        """The schema file names in the folder, sorted."""
        if not self.schemas_dir.is_dir():
            return []
        return sorted(p.name for p in self.schemas_dir.glob(f"*{SCHEMA_SUFFIX}") if p.is_file())

    def __iter__(self) -> Iterator[Form]:
        return (self.get(name) for name in self.names())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        file_name = _file_name(name)
        return file_name is not None and (self.schemas_dir / file_name).is_file()

    def get(self, name: str) -> Form:
        """The form whose schema file is ``name`` (``"examine.schema.json"``; ``"examine"`` works
        too). Raises :class:`FormNotFound` or :class:`FormSchemaError`."""
        file_name = _file_name(name) if isinstance(name, str) else None
        if file_name is None:
            raise FormNotFound(str(name), self.schemas_dir, self.names())
        with self._lock:
            form = self._forms.get(file_name)
            if form is None:
                form = self._build(file_name)
                self._forms[file_name] = form
            return form

    # -- loading -------------------------------------------------------------------------------

    def _build(self, name: str) -> Form:
        schema = self._document(name)
        closure: dict[str, dict[str, Any]] = {}
        self._collect_references(name, schema, closure)
        registry: Registry = Registry(retrieve=self._retrieve).with_resources(  # type: ignore[call-arg]
            (doc_name, DRAFT202012.create_resource(doc)) for doc_name, doc in closure.items()
        )
        for doc_name, doc in closure.items():
            resolver = registry.resolver(base_uri=doc_name)
            for pointer, ref in _references(doc):
                try:
                    resolver.lookup(ref)
                except Unresolvable as error:
                    raise FormSchemaError(
                        self.schemas_dir / doc_name, f"$ref {ref!r} at {pointer or '/'} cannot be resolved"
                    ) from error
        ui_schema = self._ui_document(name)
        form = Form(name, schema, ui_schema, registry=registry, path=self.schemas_dir / name)
        _check_ui_schema(self.schemas_dir / _ui_name(name), ui_schema, form._root, "")
        return form

    def _collect_references(self, name: str, doc: dict[str, Any], closure: dict[str, dict[str, Any]]) -> None:
        """Load every schema file reachable from ``doc`` by ``$ref`` into ``closure``."""
        closure[name] = doc
        for pointer, ref in _references(doc):
            target = ref.partition("#")[0]
            if not target or target in closure:
                continue
            if not _FILE_NAME.fullmatch(target):
                raise FormSchemaError(
                    self.schemas_dir / name,
                    f"$ref {ref!r} at {pointer or '/'}: only schema files of the same folder "
                    f"(a bare name like 'declaration.schema.json') may be referenced",
                )
            try:
                referenced = self._document(target)
            except FormNotFound as error:
                raise FormSchemaError(
                    self.schemas_dir / name, f"$ref {ref!r} at {pointer or '/'}: no file {target!r}"
                ) from error
            self._collect_references(target, referenced, closure)

    def _retrieve(self, uri: str) -> Resource[Any]:
        # Only reached for a reference that escaped the check in _build; never goes to the network.
        if not _FILE_NAME.fullmatch(uri) or not (self.schemas_dir / uri).is_file():
            raise NoSuchResource(ref=uri)
        return DRAFT202012.create_resource(self._document(uri))

    def _document(self, name: str) -> dict[str, Any]:
        with self._lock:
            doc = self._documents.get(name)
            if doc is None:
                doc = self._load_schema(self.schemas_dir / name)
                self._documents[name] = doc
            return doc

    def _load_schema(self, path: Path) -> dict[str, Any]:
        if not path.is_file():
            raise FormNotFound(path.name, self.schemas_dir, self.names())
        doc = _read_json(path)
        if not isinstance(doc, dict):
            raise FormSchemaError(path, "a form schema must be a JSON object")
        declared = doc.get("$schema", DRAFT_2020_12)
        if not isinstance(declared, str) or declared.rstrip("#") != DRAFT_2020_12:
            raise FormSchemaError(path, f"'$schema' must be {DRAFT_2020_12!r}, not {declared!r}")
        try:
            FormValidator.check_schema(doc)
        except SchemaError as error:
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            raise FormSchemaError(
                path, f"not a valid JSON Schema (draft 2020-12) at {where}: {error.message}"
            ) from error
        if doc.get("type") != "object":
            raise FormSchemaError(path, 'a form schema must have "type": "object" at its root')
        _check_date_rules(path, doc, "")
        return doc

    def _ui_document(self, name: str) -> dict[str, Any]:
        path = self.schemas_dir / _ui_name(name)
        if not path.is_file():
            return {}
        doc = _read_json(path)
        if not isinstance(doc, dict):
            raise FormSchemaError(path, "a UI schema must be a JSON object")
        return doc


def _file_name(name: str) -> str | None:
    file_name = name if name.endswith(SCHEMA_SUFFIX) else name + SCHEMA_SUFFIX
    return file_name if _FILE_NAME.fullmatch(file_name) else None


def _ui_name(name: str) -> str:
    return name[: -len(SCHEMA_SUFFIX)] + UI_SUFFIX


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FormSchemaError(path, f"cannot be read: {error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FormSchemaError(
            path, f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from error


def _check_date_rules(path: Path, value: Any, pointer: str) -> None:
    """Every ``x-date-rules`` names fields of its own object (or a known day, ``@today``): a typo
    fails at load, not silently at validation."""
    if isinstance(value, Mapping):
        rules = value.get("x-date-rules")
        if rules is not None:
            names = set((value.get("properties") or {}).keys())
            relations = ("not_before", "not_after")
            for index, rule in enumerate(rules if isinstance(rules, list) else [None]):
                where = f"{pointer}/x-date-rules/{index}"
                if not isinstance(rule, Mapping) or rule.get("field") not in names:
                    raise FormSchemaError(path, f"{where}: 'field' must name a property of this object")
                others = [rule[r] for r in relations if r in rule]
                if not others or set(rule) - {"field", *relations}:
                    raise FormSchemaError(
                        path, f"{where}: give 'not_before' and/or 'not_after', nothing else"
                    )
                for other in others:
                    known = other[1:] in DAY_NAMES if str(other).startswith("@") else other in names
                    if not known:
                        raise FormSchemaError(path, f"{where}: '{other}' is no property here nor a known day")
        for key, sub in value.items():
            if key not in _DATA_KEYWORDS and key != "x-date-rules":
                _check_date_rules(path, sub, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            _check_date_rules(path, sub, f"{pointer}/{index}")


def _references(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """``(JSON pointer, $ref)`` for every ``$ref`` in a schema document."""
    if isinstance(value, Mapping):
        ref = value.get("$ref")
        if isinstance(ref, str):
            yield pointer, ref
        for key, sub in value.items():
            if key not in _DATA_KEYWORDS:
                yield from _references(sub, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _references(sub, f"{pointer}/{index}")


def _check_ui_schema(path: Path, ui: Mapping[str, Any], nodes: list[_walk.Node], pointer: str) -> None:
    """Every field a UI schema names must exist in the schema (typos fail at load, not in a page)."""
    names = _walk.property_names(nodes)
    for key, value in ui.items():
        where = f"{pointer}/{key}"
        if key == "ui:order":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise FormSchemaError(path, f"{where} must be a list of field names")
            unknown = [v for v in value if v != "*" and v not in names]
            if unknown:
                raise FormSchemaError(path, f"{where} names fields the schema does not have: {unknown}")
            continue
        if key.startswith(("ui:", "x-")):
            continue
        if not isinstance(value, Mapping):
            raise FormSchemaError(path, f"{where} must be an object of UI hints")
        if key == "items" and _walk.items(nodes):
            _check_ui_schema(path, value, _walk.items(nodes), where)
        elif key in names:
            _check_ui_schema(path, value, _walk.child(nodes, key), where)
        else:
            raise FormSchemaError(path, f"{where}: the schema has no field {key!r}")


@cache
def default_registry() -> FormRegistry:
    """The registry of the package's own ``forms/schemas`` folder (one per process)."""
    return FormRegistry(SCHEMAS_DIR)


class FormLibrary:
    """The forms of several folders: the core's, then each a procedure brings with it.

    A name belongs to one folder only: a procedure's folder that repeats a name already known is
    refused when it is added, so no form is ever shadowed.
    """

    def __init__(self, *registries: FormRegistry) -> None:
        self._registries: list[FormRegistry] = list(registries)

    def __repr__(self) -> str:
        return f"<FormLibrary {[str(r.schemas_dir) for r in self._registries]}>"

    def add_folder(self, folder: Path | str) -> None:
        folder = Path(folder)
        if any(r.schemas_dir == folder for r in self._registries):
            return
        added = FormRegistry(folder)
        repeated = sorted(set(added.names()) & set(self.names()))
        if repeated:
            raise FormSchemaError(folder, f"forms already known from another folder: {', '.join(repeated)}")
        self._registries.append(added)

    def with_folder(self, folder: Path | str) -> FormLibrary:
        """A new library: this one's folders and ``folder`` (checked as ``add_folder`` does);
        this one is left unchanged."""
        library = FormLibrary(*self._registries)
        library.add_folder(folder)
        return library

    def names(self) -> list[str]:
        return sorted(name for registry in self._registries for name in registry.names())

    def file_of(self, file_name: str) -> Path | None:
        """The file a schema or UI-schema file name (``examine.uischema.json``) is read from."""
        for registry in self._registries:
            path = registry.schemas_dir / file_name
            if path.is_file():
                return path
        return None

    def __iter__(self) -> Iterator[Form]:
        return (self.get(name) for name in self.names())

    def __contains__(self, name: object) -> bool:
        return any(name in registry for registry in self._registries)

    def get(self, name: str) -> Form:
        for registry in self._registries:
            if name in registry:
                return registry.get(name)
        raise FormNotFound(
            str(name), self._registries[0].schemas_dir if self._registries else None, self.names()
        )
