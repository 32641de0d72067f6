"""The OpenAPI document: what FastAPI derives from the routes, plus the answers that come from below
the routes and that no route can declare for itself.

Every operation that reads a request body can be answered 400 (a body that cannot be read: bytes
that are not UTF-8, a broken multipart frame — FastAPI refuses those before any validation) and 413
(a body larger than the limit, refused by the body-size limit before the route runs). The upload
routes add 415 themselves (``api.errors.UPLOAD_RESPONSES``). A client generated from the document
then knows every status it may meet, in the one error shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import BODY_RESPONSES


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, made once: FastAPI's, with the body errors on every operation
    that takes a body."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in BODY_RESPONSES.items():
                responses.setdefault(str(status), _error_response(description))
    app.openapi_schema = schema
    return schema


def install(app: FastAPI) -> None:
    """Serve :func:`document` at ``/openapi.json``."""
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
