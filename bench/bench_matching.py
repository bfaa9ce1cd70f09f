"""Optimal vs greedy matching on a generated population.

    python bench/bench_matching.py [--juniors 2000] [--leaders 2000] [--seed 1] [--check-dense]

Or from Python: `run(juniors, leaders, seed) -> dict` (bench/run_all.py does).

Prints a table and writes the same numbers to bench/results/matching.json. "peak MiB" is the
process's peak resident set size (getrusage ru_maxrss) once that step is done, so it includes
everything before it. Targets at 10,000 × 10,000: the optimum in under 30 s, and the whole
process under 3 GiB (`/usr/bin/time -v` reports it as "Maximum resident set size").

--check-dense also runs the dense Hungarian solver the sparse one replaced
(tests/dense_matching.py) and compares the totals; only up to 2,000 a side, where it fits.
"""

from __future__ import annotations

import argparse
import platform
import resource
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
DENSE_LIMIT = 2000  # the dense solver holds several juniors × leaders float matrices


def peak_mib() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024


def run(
    juniors: int = 2000, leaders: int = 2000, seed: int = 1, *, check_dense: bool = False
) -> dict:
    """Time the optimal and the greedy matching on one generated population; with
    `check_dense`, also the dense solver, whose total must equal the optimal one."""
    pop = generate(juniors, leaders, seed=seed)
    slots = sum(j.capacity for j in pop.juniors)
    solvers = [("optimal", match), ("greedy", greedy_match)]
    if check_dense and max(juniors, leaders) <= DENSE_LIMIT:
        from tests.dense_matching import dense_match

        solvers.append(("dense", dense_match))
    rows = {}
    totals = {}
    for name, fn in solvers:
        start = time.perf_counter()
        result = fn(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
        seconds = time.perf_counter() - start
        totals[name] = result.total_score
        rows[name] = {
            "seconds": round(seconds, 3),
            "peak_mib": round(peak_mib(), 1),
            "pairs": len(result.pairs),
            "total_score": round(result.total_score, 3),
            "unmatched": len(result.unmatched),
        }
    dense_check: dict[str, object] | None = None
    if check_dense:
        if "dense" in totals:
            difference = abs(totals["optimal"] - totals["dense"])
            dense_check = {"difference": difference, "equal": difference <= 1e-9}
        else:
            dense_check = {"skipped": f"more than {DENSE_LIMIT} a side"}
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
        **({"dense_check": dense_check} if dense_check else {}),
    }


def report(result: dict) -> None:
    print(
        f"{result['juniors']} juniors ({result['junior_slots']} slots) × {result['leaders']} "
        f"leaders, {result['past_pairs']} past pairs, seed {result['seed']}"
    )
    print(
        f"{'':8} {'seconds':>8} {'peak MiB':>9} {'pairs':>6} {'total score':>12} {'unmatched':>9}"
    )
    for name in ("optimal", "greedy", "dense"):
        if name not in result:
            continue
        row = result[name]
        print(
            f"{name:8} {row['seconds']:8.2f} {row['peak_mib']:9.1f} {row['pairs']:6d} "
            f"{row['total_score']:12.1f} {row['unmatched']:9d}"
        )
    print(f"optimal / greedy score ratio: {result['score_ratio']:.4f}")
    check = result.get("dense_check")
    if check and "skipped" in check:
        print(f"dense check skipped: {check['skipped']}")
    elif check:
        verdict = "equal" if check["equal"] else "DIFFERENT"
        difference = check["difference"]
        print(f"dense check: optimal and dense totals {verdict} (|difference| {difference:.3g})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--juniors", type=int, default=2000)
    parser.add_argument("--leaders", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--check-dense",
        action="store_true",
        help=f"compare the total with the dense solver (up to {DENSE_LIMIT} a side)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write JSON")
    args = parser.parse_args(argv)

    result = run(args.juniors, args.leaders, args.seed, check_dense=args.check_dense)
    report(result)
    save_results(args.results, result)
    check = result.get("dense_check") or {}
    return 1 if check.get("equal") is False else 0


if __name__ == "__main__":
    raise SystemExit(main())
