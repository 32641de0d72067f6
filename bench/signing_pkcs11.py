"""PKCS#11 signing benchmark: one reused session against a new session for every signature.

    .venv/bin/python bench/signing_pkcs11.py [--signatures 300] [--rounds 6] [--warm-up 5]

Makes a private SoftHSM token in a temporary folder (tests/softhsm_support.py: Debian's softhsm2
must be installed, ``make softhsm``), then signs the same one-page PDF (PAdES, SHA-256, RSA-2048)
``--signatures`` times in each mode and prints the median and p99 wall time per signed PDF:

- reused: one signer opened once (what a worker does), only the signature is timed;
- new session: open the signer (load, find the token, log in, find key and certificate), sign,
  close — the whole is timed, as if nothing were kept between documents.

"token only" is the part of the reused time spent in the token (the RSA operation through the
module), the rest being pyHanko's PDF and CMS work; "open + close" is what the new session adds
(module already loaded; log-in, finding the key and certificate, log-out). SoftHSM signs in software: with a USB token
or a network HSM every figure is larger, and opening a session much more so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from tests.softhsm_support import make_token
from tests.test_signing_pkcs11 import small_pdf
from workflows.signing.pkcs11 import Pkcs11TokenSigner, open_pkcs11_signer


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sign(signer: Pkcs11TokenSigner, pdf: bytes) -> bytes:
    metadata = signers.PdfSignatureMetadata(field_name="ChuKySo", subfilter=fields.SigSeedSubFilter.PADES)
    return signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), metadata, signer=signer).getvalue()


def timed(action: Callable[[], object], count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def line(name: str, times: list[float]) -> str:
    return (
        f"{name:<22} median {statistics.median(times) * 1000:7.2f} ms   "
        f"p99 {percentile(times, 0.99) * 1000:7.2f} ms   (n={len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--signatures", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6, help="blocks of each mode, alternating")
    parser.add_argument("--warm-up", type=int, default=5, help="untimed signatures before each block")
    args = parser.parse_args()

    pdf = small_pdf()
    digest = b"\x00" * 32
    block = max(1, args.signatures // args.rounds)
    reused: list[float] = []
    token_only: list[float] = []
    fresh_times: list[float] = []
    open_close: list[float] = []
    with tempfile.TemporaryDirectory(prefix="tdcflow-softhsm-") as folder:
        token = make_token(Path(folder))
        settings = token.settings()

        def fresh() -> None:
            with open_pkcs11_signer(settings) as signer:
                sign(signer, pdf)

        def open_and_close() -> None:
            open_pkcs11_signer(settings).close()

        # The modes alternate in blocks, so that a neighbour's load on a shared machine falls on both.
        # Never two signers at once: a second one would share the first's log-in and skip its own.
        for _ in range(args.rounds):
            with open_pkcs11_signer(settings) as signer:
                timed(lambda: sign(signer, pdf), args.warm_up)
                reused += timed(lambda: sign(signer, pdf), block)
                token_only += timed(lambda: signer.sign_raw_blocking(digest, "sha256"), block)
                assert signer.opened_sessions == 1
            timed(fresh, args.warm_up)
            fresh_times += timed(fresh, block)
            open_close += timed(open_and_close, block)
        os.environ.pop("SOFTHSM2_CONF", None)

    print(f"PKCS#11 signing, SoftHSM {token.module}, RSA-2048, PAdES, one-page PDF ({len(pdf)} bytes)")
    print(line("reused session", reused))
    print(line("  of which token only", token_only))
    print(line("new session each time", fresh_times))
    print(line("  of which open + close", open_close))
    print(f"a new session costs {statistics.median(fresh_times) / statistics.median(reused):.1f}× the median")


if __name__ == "__main__":
    main()
