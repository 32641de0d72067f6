"""Running pyHanko's blocking wrappers from any thread.

pyHanko's synchronous API (``PdfSigner.sign_pdf``, ``validate_pdf_signature``) calls
``asyncio.run``, which refuses to run in a thread whose event loop is running (an ``async def``
FastAPI handler, say). There the call moves to a short-lived thread of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(fn: Callable[[], T]) -> T:
    """``fn()`` here, or in a fresh thread when this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tdcflow-signing") as pool:
        return pool.submit(fn).result()


def warm_certificate(signer: Any) -> None:
    """Parse the signing certificate's names now, once. asn1crypto parses a value lazily on first
    use and not thread-safely: threads signing at once with a fresh signer could each see the
    subject half-parsed (``KeyError: 'organization_name'`` from pyHanko's ``subject_name``)."""
    cert = signer.signing_cert
    _ = (cert.subject.native, cert.issuer.native, signer.subject_name)
