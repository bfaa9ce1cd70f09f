"""The demo's wall time: `reverse-mentor demo` (two cohorts, 12 weeks, hour-by-hour ticks
against the fake Slack) played in-process, quietly, for the default seed.

    python bench/bench_demo.py [--weeks 12] [--seed 1] [--repeat 1]

Prints wall and CPU seconds against the target (TARGET_SECONDS of wall time), and writes
bench/results/demo.json. From Python: `run(weeks=..., seed=..., repeat=...) -> dict`
(bench/run_all.py does).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.bench_tick import machine  # noqa: E402
from bench.results_file import save_results  # noqa: E402
from handlers.devkit.demo import run_demo  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "demo.json"
TARGET_SECONDS = 20.0  # issue 13, item 7: the default demo plays in under 20 s of wall time


def _play(weeks: int, seed: int) -> tuple[float, float]:
    out = io.StringIO()
    wall, cpu = time.perf_counter(), time.process_time()
    code = asyncio.run(run_demo(weeks=weeks, seed=seed, quiet=True, out=out))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if code != 0:
        raise RuntimeError(f"the demo failed ({code}): {out.getvalue()[-500:]}")
    return wall, cpu


def run(*, weeks: int = 12, seed: int = 1, repeat: int = 1) -> dict:
    runs = [_play(weeks, seed) for _ in range(repeat)]
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    return {
        "machine": machine(),
        "weeks": weeks,
        "seed": seed,
        "repeat": repeat,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "target_wall_seconds": TARGET_SECONDS,
        "met": wall < TARGET_SECONDS,
        "runs": [{"wall": round(w, 2), "cpu": round(c, 2)} for w, c in runs],
    }


def report(result: dict) -> None:
    m = result["machine"]
    print(
        f"demo, {result['weeks']} weeks, seed {result['seed']}, median of {result['repeat']}: "
        f"{m['nproc']} CPUs ({m['cpu']}), Python {m['python']}"
    )
    verdict = "yes" if result["met"] else "NO"
    print(
        f"wall {result['wall_seconds']:.1f} s (target < {result['target_wall_seconds']:.0f} s: "
        f"{verdict}), CPU {result['cpu_seconds']:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    result = run(weeks=args.weeks, seed=args.seed, repeat=args.repeat)
    report(result)
    save_results(RESULTS, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
