"""Signing benchmark: time to sign one issued document (a 2-page PDF), with and without a timestamp.

    .venv/bin/python bench/signing.py [--documents 50] [--pages 2]

Uses the tests' PKI (RSA 2048, fresh keys) and its RFC 3161 server on 127.0.0.1, so the timestamp
figures include one HTTP round trip on loopback per signature (a timestamper's first signature
asks once more, to size the signature; the warm-up takes that) and the test TSA's own signing,
but not a real TSA's network latency. Prints median, p99 and max per signature, and the time to
validate one signed document. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.signing_support import TimestampServer, build_pki
from tests.test_signing import receipt_pdf
from workflows.signing import load_signer, load_timestamper, sign_pdf, validate_pdf


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--pages", type=int, default=2)
    args = parser.parse_args()

    pdf = receipt_pdf(args.pages)
    with tempfile.TemporaryDirectory() as tmp, TimestampServer() as server:
        pki, stamper = build_pki(Path(tmp), server.url)
        server.stamper = stamper
        t0 = time.perf_counter()
        signer = load_signer(pki.settings())
        print(f"load_signer (PKCS#12): {1000 * (time.perf_counter() - t0):.1f} ms")
        print(f"document: {args.pages} page(s), {len(pdf)} bytes; {args.documents} signatures each")
        signed = b""
        for label, tsa in (("PAdES B-B (no TSA)", False), ("PAdES B-T (TSA on 127.0.0.1)", True)):
            timestamper = load_timestamper(pki.settings(tsa=tsa))
            sign_pdf(pdf, signer, reason="warm-up", location="Quảng Trị", timestamper=timestamper)
            times = []
            for n in range(args.documents):
                t0 = time.perf_counter()
                signed = sign_pdf(
                    pdf, signer, reason=f"bench {n}", location="Quảng Trị", timestamper=timestamper
                )
                times.append(1000 * (time.perf_counter() - t0))
            print(
                f"{label:30} median {statistics.median(times):7.1f} ms  p99 {percentile(times, 0.99):7.1f} ms"
                f"  max {max(times):7.1f} ms  ({len(signed)} bytes signed)"
            )
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            report = validate_pdf(signed, pki.trust_roots)
            times.append(1000 * (time.perf_counter() - t0))
        assert report.ok, report
        print(f"{'validate_pdf (B-T)':30} median {statistics.median(times):7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
