"""Long instances: what a step costs in a 300-step instance against a 5-step one.

    .venv/bin/python bench/long_instance.py [--steps 5 300] [--rounds 3]

A test model (``tests/fixtures/models/long_loop.bpmn``: one user task in a loop) is run through the
product's engine adapter (``workflows.engine``) as a command runs it: each step restores the
instance from its stored state (packed as the database packs it), completes the ready task, runs
the engine and serializes. Prints, as medians over rounds (with the range): time per step over the
last 5 steps of an instance of N steps, and the stored state (JSON and packed) at its end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows.engine import RunningProcess, parse_model
from workflows.packed import PLAIN, pack, unpack

MODEL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "models" / "long_loop.bpmn"
TAIL = 5  # the steps timed at the end of each instance


def run_instance(steps: int) -> dict[str, float]:
    model = parse_model("long_loop", {MODEL.name: MODEL.read_text(encoding="utf-8")})
    process = RunningProcess.start(model, {"steps": 0, "total": steps})
    stored = pack(process.serialize(), {}, PLAIN)
    timed: list[float] = []
    for n in range(steps):
        started = time.perf_counter()
        process = RunningProcess.restore(model, unpack(stored, {}))
        [task] = process.ready_user_tasks()
        process.complete(task.id, {"note": f"bước {n + 1}"})
        state = process.serialize()
        stored = pack(state, {}, PLAIN)
        if n >= steps - TAIL:
            timed.append(time.perf_counter() - started)
    assert process.completed and process.data["steps"] == steps
    return {"ms_per_step": statistics.median(timed) * 1000, "json": len(state), "packed": len(stored)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 300])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"long_loop model through workflows.engine; {args.rounds} rounds (medians [min–max])")
    results = {}
    for steps in args.steps:
        rounds = [run_instance(steps) for _ in range(args.rounds)]
        results[steps] = statistics.median(r["ms_per_step"] for r in rounds)
        for key, unit in (
            ("ms_per_step", "ms per step (last 5)"),
            ("json", "state JSON bytes"),
            ("packed", "state packed bytes"),
        ):
            values = [r[key] for r in rounds]
            print(
                f"  {steps:4} steps  {unit:22} {statistics.median(values):10.2f}   [{min(values):.2f}–{max(values):.2f}]"
            )
    if len(args.steps) >= 2:
        first, last = args.steps[0], args.steps[-1]
        print(f"  per-step cost at {last} steps / at {first} steps: {results[last] / results[first]:.2f}x")


if __name__ == "__main__":
    main()
