"""The API's documentation page (Swagger UI), served from this app alone.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an inline script, so it needs
a Content-Security-Policy that trusts a third party and inline code. Here the page loads
``swagger-ui-dist`` (npm, pinned by package-lock.json, served under ``/vendor``) and starts it from
``/static/js/api-docs.js``: the app's one strict policy (``script-src 'self'``) covers it too.
The page is the same for everyone and shows no data of its own; the document it reads is
``/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER_UI = "/vendor/swagger-ui-dist"

PAGE = f"""<!doctype html>
<html lang="vi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tài liệu API / API documentation — tdcflow</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/openapi.json">
    <noscript>Trang tài liệu cần JavaScript; tài liệu OpenAPI ở <a href="/openapi.json">/openapi.json</a>.
    This page needs JavaScript; the OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
  </div>
  <script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
  <script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
