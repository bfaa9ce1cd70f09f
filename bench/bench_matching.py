"""Optimal vs greedy matching on a generated population.

    python bench/bench_matching.py [--juniors 2000] [--leaders 2000] [--seed 1]

Or from Python: `run(juniors, leaders, seed) -> dict` (bench/run_all.py does).

Prints a table and writes the same numbers to bench/results/matching.json.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.population import generate  # noqa: E402
from bench.results_file import save_results  # noqa: E402
from bot.matching import greedy_match, match  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "matching.json"


def run(juniors: int = 2000, leaders: int = 2000, seed: int = 1) -> dict:
    """Time the optimal and the greedy matching on one generated population."""
    pop = generate(juniors, leaders, seed=seed)
    slots = sum(j.capacity for j in pop.juniors)
    rows = {}
    for name, fn in (("optimal", match), ("greedy", greedy_match)):
        start = time.perf_counter()
        result = fn(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
        seconds = time.perf_counter() - start
        rows[name] = {
            "seconds": round(seconds, 3),
            "pairs": len(result.pairs),
            "total_score": round(result.total_score, 3),
            "unmatched": len(result.unmatched),
        }
    greedy_total = rows["greedy"]["total_score"]
    ratio = rows["optimal"]["total_score"] / greedy_total if greedy_total else float("nan")
    return {
        "juniors": juniors,
        "leaders": leaders,
        "junior_slots": slots,
        "past_pairs": len(pop.past_pairs),
        "seed": seed,
        "python": platform.python_version(),
        **rows,
        "score_ratio": round(ratio, 6),
    }


def report(result: dict) -> None:
    print(
        f"{result['juniors']} juniors ({result['junior_slots']} slots) × {result['leaders']} "
        f"leaders, {result['past_pairs']} past pairs, seed {result['seed']}"
    )
    print(f"{'':8} {'seconds':>8} {'pairs':>6} {'total score':>12} {'unmatched':>9}")
    for name in ("optimal", "greedy"):
        row = result[name]
        print(
            f"{name:8} {row['seconds']:8.2f} {row['pairs']:6d} {row['total_score']:12.1f} "
            f"{row['unmatched']:9d}"
        )
    print(f"optimal / greedy score ratio: {result['score_ratio']:.4f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--juniors", type=int, default=2000)
    parser.add_argument("--leaders", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    result = run(args.juniors, args.leaders, args.seed)
    report(result)
    save_results(RESULTS, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
