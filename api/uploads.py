"""Reading an uploaded file with the size limit enforced while reading, not after."""

from __future__ import annotations

from fastapi import UploadFile

from workflows.attachments import too_large

CHUNK = 1024 * 1024


async def read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
