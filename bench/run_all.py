"""Every benchmark, one table.

    python bench/run_all.py [--quick]

1. matching 2,000 juniors × 2,000 leaders: optimal vs the greedy baseline (bench_matching);
2. a scheduler tick over 10,000 active pairs (bench_tick);
3. acknowledgement latency of `/mentor status` and `reaction_added` over the real HTTP path,
   50 concurrent signed clients (bench_http);
4. pulse ingestion throughput through the same path, every response checked in the database
   (bench_http);
5. introducing 500 new pairs against the fake Slack enforcing Slack's rate limits, on a
   simulated clock, against the floor those limits allow (bench_intros);
6. the default demo (two cohorts, 12 weeks) played in-process, quietly (bench_demo).

`--quick` runs fewer requests and tick repeats (under a minute); the full run takes a few
minutes. Prints the table with the machine and writes everything to bench/results/all.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    bench_demo,
    bench_http,
    bench_intros,
    bench_matching,
    bench_tick,
)
from bench.results_file import save_results  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "all.json"

FULL = {"tick_repeat": 5, "requests": 500, "events": 2000, "intro_pairs": 500}
QUICK = {"tick_repeat": 2, "requests": 100, "events": 500, "intro_pairs": 500}


def _cpu_from_proc() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> dict:
    found = bench_tick.machine()  # nproc, lscpu's model name, Python, SQLite
    return {**found, "cpu": found["cpu"] or _cpu_from_proc()}


def _step(name: str, work):
    print(f"running {name}…", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = work()
    return result, round(time.perf_counter() - started, 1)


def run(quick: bool) -> dict:
    size = QUICK if quick else FULL
    results, took = {}, {}
    results["matching"], took["matching"] = _step(
        "matching", lambda: bench_matching.run(2000, 2000, 1)
    )
    results["tick"], took["tick"] = _step(
        "tick", lambda: bench_tick.run(pairs=10_000, due=20, repeat=size["tick_repeat"])
    )
    results["http"], took["http"] = _step(
        "http",
        lambda: bench_http.run(requests=size["requests"], events=size["events"], concurrency=50),
    )
    results["intros"], took["intros"] = _step(
        "intros", lambda: bench_intros.run(pairs=size["intro_pairs"])
    )
    results["demo"], took["demo"] = _step("demo", lambda: bench_demo.run())
    for key in ("tick", "http", "intros", "demo"):
        results[key].pop("machine", None)  # one machine, reported once
    return {
        "mode": "quick" if quick else "full",
        "machine": machine(),
        "sizes": size,
        "seconds_per_benchmark": took,
        **results,
    }


def rows(result: dict) -> list[tuple[str, str, str]]:
    m, t, h, i = result["matching"], result["tick"], result["http"], result["intros"]
    d, sending = result["demo"], result["tick"]["sending"]
    opt, greedy = m["optimal"], m["greedy"]
    cases = t["cases"]
    status, reaction, ingest = h["status"], h["reaction"], h["ingest"]
    return [
        (
            f"matching {m['juniors']:,} × {m['leaders']:,}: optimal",
            f"{opt['seconds']:.2f} s",
            f"score {opt['total_score']:,.1f}, {opt['pairs']:,} pairs",
        ),
        (
            "matching: greedy baseline",
            f"{greedy['seconds']:.2f} s",
            f"score {greedy['total_score']:,.1f} (optimal ×{m['score_ratio']:.4f})",
        ),
        (
            f"tick, {t['pairs']:,} pairs, {t['decisions']} messages due",
            f"{cases['tick_due']['median'] * 1000:.0f} ms",
            f"median of {t['repeat']}; max {cases['tick_due']['max'] * 1000:.0f} ms",
        ),
        (
            "tick, nothing due",
            f"{cases['tick_idle']['median'] * 1000:.1f} ms",
            f"target < {bench_tick.TARGET_IDLE_MS:g} ms; "
            f"decide_due alone {cases['decide_due']['median'] * 1000:.0f} ms",
        ),
        (
            f"sending {sending['messages']} messages (fake Slack instant)",
            f"{sending['bot_cpu_ms_per_message']:.2f} ms CPU/msg",
            f"target {bench_tick.TARGET_CPU_MS_PER_MESSAGE:g} ms; "
            f"{sending['wall_ms_per_message']:.2f} ms wall/msg; "
            f"{sending['statements_per_message']:.2f} statements/msg "
            f"(target {bench_tick.TARGET_STATEMENTS_PER_MESSAGE:g})",
        ),
        (
            f"ack /mentor status, {status['requests']} req, {h['concurrency']} clients",
            f"p50 {status['p50_ms']:.0f} ms",
            f"p99 {status['p99_ms']:.0f} ms, max {status['max_ms']:.0f} ms; "
            f"{status['under_3s']}/{status['requests']} under 3 s; {status['per_second']:.0f}/s",
        ),
        (
            f"ack reaction_added, {reaction['requests']} req, {h['concurrency']} clients",
            f"p50 {reaction['p50_ms']:.0f} ms",
            f"p99 {reaction['p99_ms']:.0f} ms, max {reaction['max_ms']:.0f} ms; "
            f"{reaction['under_3s']}/{reaction['requests']} under 3 s; "
            f"{reaction['per_second']:.0f}/s",
        ),
        (
            f"pulse ingestion, {ingest['events']:,} reactions",
            f"{ingest['events_per_second']:.0f} events/s",
            f"{ingest['seconds']:.2f} s to stored; {ingest['responses']:,} responses on "
            f"{ingest['surveys']:,} surveys, 0 lost",
        ),
        (
            f"intros to {i['pairs']} new pairs, Slack limits (simulated)",
            f"{i['simulated_seconds']:.0f} s",
            f"floor {i['floor_seconds']:.0f} s (×{i['ratio_to_floor']}); "
            f"{sum(i['rate_limited'].values())} × 429; real {i['wall_seconds']:.1f} s; "
            f"{i['channels_with_one_intro']}/{i['pairs']} channels got exactly 1",
        ),
        (
            f"demo, {d['weeks']} weeks, seed {d['seed']}",
            f"{d['wall_seconds']:.1f} s",
            f"CPU {d['cpu_seconds']:.1f} s; target < {d['target_wall_seconds']:.0f} s wall: "
            f"{'met' if d['met'] else 'NOT met'}",
        ),
    ]


def report(result: dict) -> None:
    m = result["machine"]
    table = rows(result)
    widths = [max(len(r[k]) for r in table) for k in range(3)]
    headers = ("benchmark", "result", "detail")
    widths = [max(w, len(h)) for w, h in zip(widths, headers, strict=True)]
    line = "  ".join("-" * w for w in widths)
    print(
        f"Reverse Mentor benchmarks ({result['mode']}): {m['nproc']} CPUs, {m['cpu']}, "
        f"Python {m['python']}, SQLite {m['sqlite']}"
    )
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print(line)
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    took = result["seconds_per_benchmark"]
    print("wall time per benchmark: " + ", ".join(f"{k} {v:.0f} s" for k, v in took.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and repeats")
    args = parser.parse_args(argv)
    result = run(args.quick)
    report(result)
    save_results(RESULTS, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
