"""Template benchmark: rendering a one-stop slip from its .docx template (docxtpl) against the
hand-written writer (workflows.documents.docx_writer), for the same context.

    .venv/bin/python bench/document_templates.py [--runs 100] [--kind KIND ...]

Each slip is rendered from the check's sample context (workflows.documents.samples), ``--runs``
times after one warm-up, both ways; prints per kind the median and p99 (wall clock, and the
process's CPU time, which a busy machine inflates less) and the ratio of the medians. The
issuing command renders the .docx inside its transaction (the PDF and its signature are made by
a worker afterwards), so this is the time a template adds to the command.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows.documents import render_document
from workflows.documents.samples import sample_context
from workflows.documents.templating import TEMPLATE_KINDS, package_template, render_template


def timed(function, runs: int) -> tuple[list[float], list[float]]:
    function()  # warm-up
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return sorted(times), sorted(cpu)


def p99(times: list[float]) -> float:
    return times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--kind", action="append", default=None, help="only these kinds (repeatable)")
    args = parser.parse_args()
    kinds = args.kind or sorted(k for k in TEMPLATE_KINDS if package_template(k))
    print(
        f"{'kind':<22} {'writer med':>10} {'p99':>7} {'cpu med':>8} │ {'docxtpl med':>11} {'p99':>7} "
        f"{'cpu med':>8} {'cpu p99':>8} │ {'ratio':>5}   (ms)"
    )
    writer_medians, template_medians = [], []
    for kind in kinds:
        ctx, template = sample_context(kind), package_template(kind)
        assert template is not None
        w_times, w_cpu = timed(lambda ctx=ctx: render_document(ctx), args.runs)
        t_times, t_cpu = timed(lambda ctx=ctx, template=template: render_template(template, ctx), args.runs)
        writer_medians.append(statistics.median(w_times))
        template_medians.append(statistics.median(t_times))
        print(
            f"{kind:<22} {statistics.median(w_times):>10.1f} {p99(w_times):>7.1f} {statistics.median(w_cpu):>8.1f} │ "
            f"{statistics.median(t_times):>11.1f} {p99(t_times):>7.1f} {statistics.median(t_cpu):>8.1f} "
            f"{p99(t_cpu):>8.1f} │ {statistics.median(t_times) / statistics.median(w_times):>5.1f}"
        )
    print(
        f"median of the medians: writer {statistics.median(writer_medians):.1f} ms, "
        f"docxtpl {statistics.median(template_medians):.1f} ms"
    )


if __name__ == "__main__":
    main()
