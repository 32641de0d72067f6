"""Building the field views of a form from its schema nodes: :class:`ViewBuilder`.

One :meth:`ViewBuilder.field` per data location, from the nodes the walker (:mod:`forms._walk`)
gives for it, what always applies first. What the schema says, the view follows (the rules are
listed in :mod:`forms.rendering`). Besides ``properties``, an object shows the keys it requires
that only ``patternProperties`` (or an ``additionalProperties`` schema) describes; an array with
``prefixItems`` (a tuple) shows a row for each of its positions, each with its own schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import _walk
from .conditions import Alternatives, condition_text, conditions_here
from .form_view import AttachmentInfo, Choice, CurrentFile, FieldView, RowView, html_name, safe_id
from .input_attrs import number_attrs, string_attrs
from .ui_text import UI_TEXT, enum_label, enum_text, localised, number_text, size_text

__all__ = ["MAX_ROWS", "ViewBuilder", "ordered"]

# A safety net for ``extra_rows`` that came from a post: never render more than this many rows.
MAX_ROWS = 200


class ViewBuilder:
    """The fields of one form view in one language; keeps its ids unique and notes file fields.

    ``extra_rows`` and ``attachments`` are those of :func:`forms.rendering.build_view`.
    """

    def __init__(
        self,
        lang: str,
        extra_rows: Mapping[str, int],
        attachments: Mapping[str, AttachmentInfo],
    ):
        self.lang = lang
        self.ui = UI_TEXT[lang]
        self.extra_rows = extra_rows
        self.attachments = attachments
        self.ids: set[str] = set()
        self.has_files = False

    def unique_id(self, wanted: str) -> str:
        candidate = wanted
        n = 2
        while candidate in self.ids:
            candidate = f"{wanted}_{n}"
            n += 1
        self.ids.add(candidate)
        return candidate

    def object_fields(
        self,
        nodes: list[_walk.Node],
        ui: Mapping[str, Any],
        path: tuple[str | int, ...],
        id_base: str,
        values: Any,
        inherited: Mapping[tuple[str, ...], Alternatives],
        chain_required: bool,
    ) -> list[FieldView]:
        """The fields of the object at ``path``. ``inherited`` holds what the ``then`` of an
        enclosing object requires inside this one (by path relative to it); ``chain_required`` says
        whether this object is itself required whatever the data (only then do its always-required
        leaves get the HTML ``required``)."""
        values = values if isinstance(values, Mapping) else {}
        conditions: dict[tuple[str, ...], Alternatives] = {k: list(v) for k, v in inherited.items()}
        for rel, alternatives in conditions_here(nodes, path, self.lang).items():
            conditions.setdefault(rel, []).extend(alternatives)
        always = _walk.required_names(nodes)
        sometimes = _walk.required_names(nodes, sometimes=True)
        out = []
        names = [*_walk.property_names(nodes), *_walk.undeclared_required(nodes)]
        for key in ordered(names, ui.get("ui:order")):
            sub_ui = ui.get(key) if isinstance(ui.get(key), Mapping) else {}
            own = conditions.get((key,), [])
            deeper = {rel[1:]: alts for rel, alts in conditions.items() if len(rel) > 1 and rel[0] == key}
            condition = None
            if key not in always:
                if own:
                    condition = condition_text(own, self.lang)
                elif key in sometimes:
                    condition = self.ui["required_sometimes"]
            out.append(
                self.field(
                    _walk.child_always_first(nodes, key),
                    sub_ui,
                    (*path, key),
                    f"{id_base}-{safe_id(key)}",
                    values.get(key),
                    marked=key in always,
                    chain_required=chain_required and key in always,
                    condition=condition,
                    conditions=[[{"name": t["name"], "values": t["values"]} for t in alt] for alt in own]
                    if condition and own
                    else [],
                    inherited=deeper,
                )
            )
        return out

    def field(
        self,
        nodes: list[_walk.Node],
        ui: Mapping[str, Any],
        path: tuple[str | int, ...],
        wanted_id: str,
        value: Any,
        *,
        marked: bool,
        chain_required: bool,
        condition: str | None = None,
        conditions: list[list[dict[str, Any]]] | None = None,
        inherited: Mapping[tuple[str, ...], Alternatives] | None = None,
        label: str | None = None,
        row_number: int | None = None,
    ) -> FieldView:
        """The view of one field: a file input, a group, an array or a leaf input."""
        base = _walk.always_applying(nodes)
        kind_type = _walk.schema_type(nodes)
        view = FieldView(
            kind="text",
            name=html_name(path),
            id=self.unique_id(wanted_id),
            path=path,
            label=label or _walk.title(nodes, self.lang) or str(path[-1]),
            ui=self.ui,
            help=self.help(nodes, ui, condition),
            condition=condition,
            conditions=conditions or [],
            marked=marked,
            row_number=row_number,
        )
        widget = ui.get("ui:widget")
        if _walk.is_attachment(nodes) or _walk.is_file_array(nodes):
            self.file(view, nodes, value, chain_required)
        elif kind_type == "object":
            view.kind = "group"
            view.children = self.object_fields(
                nodes, ui, path, view.id, value, inherited or {}, chain_required
            )
        elif kind_type == "array":
            self.array(view, nodes, ui, value)
        else:
            self.leaf(view, nodes, base, ui, widget, kind_type, value, chain_required)
        return view

    def help(self, nodes: Sequence[_walk.Node], ui: Mapping[str, Any], condition: str | None) -> str | None:
        text = self._help(nodes, ui)
        if text and condition and text.casefold().startswith(self.ui["required_when"].casefold()):
            return None  # "Bắt buộc khi ..." written by hand: the condition hint says it already
        return text

    def _help(self, nodes: Sequence[_walk.Node], ui: Mapping[str, Any]) -> str | None:
        if self.lang == "en":
            own = ui.get("ui:help-en") or (
                ui.get("ui:help") if isinstance(ui.get("ui:help"), Mapping) else None
            )
            return localised(own, "en") or _walk.first(nodes, "x-description-en")
        return localised(ui.get("ui:help"), "vi") or _walk.first(nodes, "description")

    def leaf(
        self,
        view: FieldView,
        nodes: list[_walk.Node],
        base: list[_walk.Node],
        ui: Mapping[str, Any],
        widget: Any,
        kind_type: str | None,
        value: Any,
        chain_required: bool,
    ) -> None:
        enum = _walk.first(base, "enum") or _walk.first(nodes, "enum")
        fmt = _walk.first(base, "format") or _walk.first(nodes, "format")
        placeholder = ui.get("ui:placeholder")
        if self.lang == "en" and isinstance(placeholder, str) and not placeholder.isascii():
            placeholder = None  # Vietnamese prose; a sample value (digits, e-mail, code) stays
        view.placeholder = localised(placeholder, self.lang)
        view.required = chain_required
        if widget == "hidden":
            view.kind = "hidden"
            view.required = False
        elif isinstance(enum, list) and enum:
            count = len(enum) + (0 if chain_required else 1)
            view.kind = "radio" if widget == "radio" or (widget != "select" and count <= 4) else "select"
            current = None if value is None else enum_text(value)
            view.value = current or ""
            view.choices = [
                Choice(
                    value=enum_text(option),
                    label=enum_label(nodes, option, self.lang),
                    id=f"{view.id}-{n}",
                    selected=current == enum_text(option),
                )
                for n, option in enumerate(enum)
            ]
            if view.kind == "radio" and not chain_required:
                view.choices.append(
                    Choice(
                        value="",
                        label=self.ui["no_choice"],
                        id=f"{view.id}-{len(enum)}",
                        selected=current is None,
                    )
                )
            for choice in view.choices:
                self.ids.add(choice.id)
            return
        elif kind_type == "boolean":
            view.kind = "checkbox"
            view.required = False
            # A required boolean is satisfied unticked (it posts false): the asterisk, which tells
            # the user to tick it, is for a box that must be ticked (const/enum true) only.
            must_tick = _walk.first(nodes, "const") is True or _walk.first(nodes, "enum") == [True]
            view.marked = view.marked and must_tick
            view.checked = value is True
            view.value = "true"
            return
        elif kind_type in ("integer", "number"):
            view.kind = kind_type
            number_attrs(view, base, kind_type)
        elif widget == "textarea":
            view.kind = "textarea"
            view.attrs["rows"] = "4"
        elif fmt == "date":
            view.kind = "date"
        elif fmt == "email":
            view.kind = "email"
        else:
            view.kind = "text"
        if value is not None:
            view.value = value if isinstance(value, str) else number_text(value)
        if view.kind in ("text", "textarea", "email"):
            string_attrs(view, base, self.lang)

    def file(self, view: FieldView, nodes: list[_walk.Node], value: Any, chain_required: bool) -> None:
        self.has_files = True
        view.kind = "file"
        multiple = not _walk.is_attachment(nodes)
        file_nodes = _walk.always_first(_walk.items(nodes)) if multiple else nodes
        view.multiple = multiple
        accept = _walk.first(file_nodes, "x-accept") or []
        view.accept = ",".join(str(a) for a in accept) or None
        ids = value if isinstance(value, list) else [value] if value is not None else []
        for n, attachment_id in enumerate(i for i in ids if isinstance(i, str) and i):
            info = self.attachments.get(attachment_id)
            view.files.append(
                CurrentFile(
                    id=attachment_id,
                    filename=info.filename if info else attachment_id,
                    size_text=size_text(info.size, self.lang) if info else "",
                    download_url=_safe_url(info.download_url) if info else None,
                    html_id=self.unique_id(f"{view.id}--file{n}"),
                )
            )
        view.required = chain_required and not view.files

    def array(self, view: FieldView, nodes: list[_walk.Node], ui: Mapping[str, Any], value: Any) -> None:
        """Rows for the values, the empty rows asked for, at least one, and one per position of a
        tuple (``prefixItems``); each row from the nodes of its own index."""
        view.kind = "array"
        item_ui = ui.get("items") if isinstance(ui.get("items"), Mapping) else {}
        values = list(value) if isinstance(value, list) else []
        base = _walk.always_applying(nodes)
        max_items = _walk.first(base, "maxItems")
        view.max_items = max_items if isinstance(max_items, int) else None
        positions = max((len(node.schema.get("prefixItems") or ()) for node in base), default=0)
        if positions and any(node.schema.get("items") is False for node in base):
            view.max_items = positions if view.max_items is None else min(view.max_items, positions)
        extra = self.extra_rows.get(view.name, 0)
        extra = max(0, min(int(extra), MAX_ROWS)) if isinstance(extra, int) else 0
        count = max(len(values) + extra, 1, positions)
        if view.max_items is not None:
            count = max(min(count, view.max_items), len(values))
        count = min(count, max(MAX_ROWS, len(values)))
        for index in range(count):
            item_nodes = _walk.child_always_first(nodes, index)
            item_title = _walk.title(item_nodes, self.lang) or view.label
            is_object = _walk.schema_type(item_nodes) == "object"
            item = values[index] if index < len(values) else None
            row_id = self.unique_id(f"{view.id}-{index}")
            row_path = (*view.path, index)
            if is_object:
                children = self.object_fields(item_nodes, item_ui, row_path, row_id, item, {}, False)
            else:
                self.ids.discard(row_id)  # the row's single input takes the row's id
                children = [
                    self.field(
                        item_nodes,
                        item_ui,
                        row_path,
                        row_id,
                        item,
                        marked=False,
                        chain_required=False,
                        label=item_title,
                        row_number=index + 1,
                    )
                ]
            view.rows.append(
                RowView(
                    index=index,
                    name=html_name(row_path),
                    id=row_id,
                    label=item_title,
                    number=index + 1,
                    group=is_object,
                    fields=children,
                    filled=index < len(values),
                )
            )
        view.next_index = count
        view.can_add = view.max_items is None or count < view.max_items


def ordered(names: list[str], order: Any) -> list[str]:
    """Field names by ``ui:order`` (``"*"`` stands for the rest in schema order; names the order
    leaves out without a ``"*"`` come last)."""
    if not isinstance(order, list):
        return names
    listed = [n for n in order if n != "*" and n in names]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest
    out: list[str] = []
    for entry in order:
        if entry == "*":
            out.extend(rest)
        elif entry in names:
            out.append(entry)
    return out


def _safe_url(url: str | None) -> str | None:
    if not url:
        return None
    lowered = url.strip().lower()
    if lowered.startswith(("/", "https://", "http://")) and not lowered.startswith("//"):
        return url
    return None
