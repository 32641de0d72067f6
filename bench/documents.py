"""PDF copy benchmark: rendering time of every document kind, .docx → PDF (workflows.documents.pdf_writer).

    .venv/bin/python bench/documents.py [--runs 30] [--kind KIND ...]

Each kind's .docx is rendered once from the test suite's context for it (tests/test_pdf_rendering.py),
then turned into its PDF ``--runs`` times after one warm-up. Prints per kind: pages, PDF size,
median and p99 of the PDF rendering (wall clock, and the process's CPU time, which a busy machine
inflates less), and the median of the .docx rendering beside it; then the same for a long process
control slip (60 steps, several pages). Timing is kept out of the tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_pdf_rendering import KINDS, context_of, long_slip
from workflows.documents import render_document
from workflows.documents.pdf_writer import render_pdf


def timed(function, runs: int) -> tuple[list[float], list[float], object]:
    """Wall-clock and CPU milliseconds of each run (CPU time shows the cost on a busy machine)."""
    result = function()  # warm-up
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return sorted(times), sorted(cpu), result


def p99(times: list[float]) -> float:
    return times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--kind", action="append", default=None, help="only these kinds (repeatable)")
    args = parser.parse_args()
    cases = {kind: (lambda kind=kind: render_document(context_of(kind))) for kind in args.kind or KINDS}
    cases["process_control_slip (60 steps)"] = long_slip
    print(
        f"{'kind':<34} {'pages':>5} {'KiB':>6} {'pdf median ms':>13} {'pdf p99 ms':>10} {'cpu median':>10} "
        f"{'cpu p99':>8} {'docx median ms':>14}"
    )
    medians = []
    for name, make_docx in cases.items():
        docx_times, _, content = timed(make_docx, max(args.runs // 3, 3))
        pdf_times, pdf_cpu, pdf = timed(lambda content=content: render_pdf(content), args.runs)
        pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        medians.append(statistics.median(pdf_times))
        print(
            f"{name:<34} {pages:>5} {len(pdf) / 1024:>6.1f} {statistics.median(pdf_times):>13.1f} "
            f"{p99(pdf_times):>10.1f} {statistics.median(pdf_cpu):>10.1f} {p99(pdf_cpu):>8.1f} "
            f"{statistics.median(docx_times):>14.1f}"
        )
    print(f"median of the kinds' medians: {statistics.median(medians):.1f} ms")


if __name__ == "__main__":
    main()
