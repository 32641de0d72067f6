"""Official copy benchmark: what the worker spends per issued document (workflows.official_copy).

    .venv/bin/python bench/official_copy.py [--runs 30] [--kind KIND ...]

For every document kind, its .docx (the test suite's context for it, tests/test_pdf_rendering.py)
goes the worker's whole way ``--runs`` times after one warm-up: render the PDF, sign it (PAdES B-B
with a demo PKI made in a temporary folder, the key kept loaded as in a worker), validate the
signed copy (the self-check before it is published). Prints per kind the median and p99 of each
part and of the whole; the command that issues a document pays none of it (it only queues it).
Timing is kept out of the tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_pdf_rendering import KINDS, context_of
from workflows.config import Settings
from workflows.documents import render_document
from workflows.documents.pdf_writer import render_pdf
from workflows.signing import create_demo_pki, load_signer, load_trust_roots, sign_pdf, validate_pdf


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--kind", action="append", default=None, help="only these kinds (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pki = create_demo_pki(Path(folder), "SỞ KHOA HỌC VÀ CÔNG NGHỆ")
        settings = Settings(
            signing_p12=pki / "agency.p12",
            signing_p12_password=(pki / "agency.p12.password").read_text().strip(),
            signing_trust_roots=str(pki / "ca.pem"),
        )
        signer = load_signer(settings)
        roots = load_trust_roots(settings)
        print(f"{'kind':<34} {'render ms':>15} {'sign ms':>15} {'check ms':>15} {'total ms':>15}")
        print(f"{'':<34} {'median / p99':>15} {'median / p99':>15} {'median / p99':>15} {'median / p99':>15}")
        totals = []
        for kind in args.kind or KINDS:
            docx = render_document(context_of(kind))
            parts: dict[str, list[float]] = {"render": [], "sign": [], "check": [], "total": []}
            for run in range(args.runs + 1):
                start = time.perf_counter()
                pdf = render_pdf(docx)
                rendered = time.perf_counter()
                signed = sign_pdf(pdf, signer, reason="bench", location="Quảng Trị")
                signed_at = time.perf_counter()
                report = validate_pdf(signed, roots)
                checked = time.perf_counter()
                assert report.signatures and report.signatures[0].ok, report
                if run == 0:
                    continue  # warm-up
                parts["render"].append((rendered - start) * 1000)
                parts["sign"].append((signed_at - rendered) * 1000)
                parts["check"].append((checked - signed_at) * 1000)
                parts["total"].append((checked - start) * 1000)
            totals.append(statistics.median(parts["total"]))
            cells = " ".join(
                f"{statistics.median(values):>7.1f} /{p99(values):>6.1f}" for values in parts.values()
            )
            print(f"{kind:<34} {cells}")
        print(f"median of the kinds' total medians: {statistics.median(totals):.1f} ms per document")


if __name__ == "__main__":
    main()
