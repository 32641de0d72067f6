"""Putting validation errors where the user will see them: on the field, or on the nearest
rendered object or array above it, or on the form; and the summary at the top, in page order."""

from __future__ import annotations

from collections.abc import Sequence

from .field_errors import FieldError
from .form_view import ErrorLink, FormView

__all__ = ["place_errors"]


def place_errors(view: FormView, errors: Sequence[FieldError], lang: str) -> None:
    """Each error on its field, or on the nearest rendered object or array above it, or on the
    form; the summary lists them in the order of the page."""
    by_path = {f.path: f for f in view.walk()}
    position = {id(f): n for n, f in enumerate(view.walk())}
    placed: list[tuple[int, int, ErrorLink]] = []
    for number, error in enumerate(errors):
        message = error.message_en if lang == "en" else error.message
        path = tuple(error.path)
        target = None
        while path:
            target = by_path.get(path)
            if target is not None:
                break
            path = path[:-1]
        if target is None:
            if message not in view.errors:
                view.errors.append(message)
            placed.append((-1, number, ErrorLink(message, None)))
        elif message not in target.errors:
            target.errors.append(message)
            placed.append((position[id(target)], number, ErrorLink(message, target.focus_id)))
    view.error_summary = [link for _, _, link in sorted(placed, key=lambda p: (p[0], p[1]))]
