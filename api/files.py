"""Files sent to the browser: stored documents and uploads, as downloads or shown inline."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def file_response(
    content: bytes, media_type: str, filename: str, inline: bool = False, embeddable: bool = False
) -> Response:
    """A file download; ``inline`` shows it in the browser, ``embeddable`` lets the site's own
    pages show it in a frame (anything else is never framed: api.main.SecurityHeaders)."""
    disposition = "inline" if inline else "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    headers = {
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if embeddable:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return Response(content, media_type=media_type, headers=headers)
