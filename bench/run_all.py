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
import json
import subprocess
import sys
import tempfile
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


def _matching_at_scale(juniors: int, leaders: int) -> dict:
    """bench_matching in a process of its own, so its peak memory is that process's whole
    peak (not this one's, which has run the other benchmarks)."""
    with tempfile.TemporaryDirectory(prefix="bench-matching-") as workdir:
        out = Path(workdir) / "matching.json"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "bench_matching.py"),
                "--juniors",
                str(juniors),
                "--leaders",
                str(leaders),
                "--results",
                str(out),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(out.read_text())


def run(quick: bool) -> dict:
    size = QUICK if quick else FULL
    results, took = {}, {}
    results["matching"], took["matching"] = _step(
        "matching 2,000 × 2,000 (and the dense solver)",
        lambda: bench_matching.run(2000, 2000, 1, check_dense=True),
    )
    if not quick:
        results["matching_10k"], took["matching_10k"] = _step(
            "matching 10,000 × 10,000", lambda: _matching_at_scale(10_000, 10_000)
        )
    results["tick"], took["tick"] = _step(
        "tick", lambda: bench_tick.run(pairs=10_000, due=20, repeat=size["tick_repeat"])
    )
    results["http"], took["http"] = _step(
        "http (the bot, then the bare Bolt floor)",
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


Row = tuple[str, str, str, str, str]


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def rows(result: dict) -> list[Row]:
    """(benchmark, result, floor or target, met?, detail) per figure."""
    m, t, h, i = result["matching"], result["tick"], result["http"], result["intros"]
    d, sending = result["demo"], result["tick"]["sending"]
    opt, greedy = m["optimal"], m["greedy"]
    cases = t["cases"]
    status, reaction, ingest = h["status"], h["reaction"], h["ingest"]
    floor, ratio = h["floor"], h["ratios"]
    found: list[Row] = []
    dense = m.get("dense_check") or {}
    found.append(
        (
            f"matching {m['juniors']:,} × {m['leaders']:,}, optimal",
            f"{opt['seconds']:.2f} s",
            f"dense solver: {m['dense']['seconds']:.2f} s" if "dense" in m else "",
            _verdict(bool(dense.get("equal"))) + " (equal score)",
            f"score {opt['total_score']:,.1f} = dense {m['dense']['total_score']:,.1f}; "
            f"greedy {greedy['total_score']:,.1f} in {greedy['seconds']:.2f} s"
            if "dense" in m
            else f"score {opt['total_score']:,.1f}",
        )
    )
    if "matching_10k" in result:
        big = result["matching_10k"]
        big_opt = big["optimal"]
        peak_gib = max(big[k]["peak_mib"] for k in ("optimal", "greedy")) / 1024
        found.append(
            (
                f"matching {big['juniors']:,} × {big['leaders']:,} ({big['junior_slots']:,} "
                "slots), optimal",
                f"{big_opt['seconds']:.1f} s, peak {peak_gib:.2f} GiB",
                "< 30 s, < 3 GiB (whole process)",
                _verdict(big_opt["seconds"] < 30 and peak_gib < 3),
                f"score {big_opt['total_score']:,.1f}; greedy {big['greedy']['seconds']:.1f} s",
            )
        )
    found += [
        (
            "tick, 10,000 pairs, nothing due",
            f"{cases['tick_idle']['median'] * 1000:.1f} ms",
            f"< {bench_tick.TARGET_IDLE_MS:g} ms",
            _verdict(cases["tick_idle"]["median"] * 1000 < bench_tick.TARGET_IDLE_MS),
            f"median of {t['repeat']}",
        ),
        (
            f"tick, {t['pairs']:,} pairs, {t['decisions']} due: sending",
            f"{sending['bot_cpu_ms_per_message']:.2f} ms CPU/msg",
            f"≤ {bench_tick.TARGET_CPU_MS_PER_MESSAGE:g} ms",
            _verdict(sending["bot_cpu_ms_per_message"] <= bench_tick.TARGET_CPU_MS_PER_MESSAGE),
            f"{sending['wall_ms_per_message']:.2f} ms wall/msg; whole tick "
            f"{cases['tick_due']['median'] * 1000:.0f} ms",
        ),
        (
            "sending: database statements per message",
            f"{sending['statements_per_message']:.2f}",
            f"≤ {bench_tick.TARGET_STATEMENTS_PER_MESSAGE:g}",
            _verdict(sending["statements_per_message"] <= bench_tick.TARGET_STATEMENTS_PER_MESSAGE),
            "SQLite's BEGIN IMMEDIATE included",
        ),
        (
            f"ack /mentor status, {status['requests']} req, {h['concurrency']} clients",
            f"p99 {status['p99_ms']:.0f} ms",
            f"floor p99 {floor['status']['p99_ms']:.0f} ms; ≤ 3×, none > 1 s",
            _verdict(ratio["status_p99"] <= 3 and status["max_ms"] < 1000),
            f"×{ratio['status_p99']:.2f} the floor; p50 {status['p50_ms']:.0f} ms "
            f"(floor {floor['status']['p50_ms']:.0f}); max {status['max_ms']:.0f} ms",
        ),
        (
            f"ack reaction_added, {reaction['requests']} req, {h['concurrency']} clients",
            f"p99 {reaction['p99_ms']:.0f} ms",
            f"floor p99 {floor['reaction']['p99_ms']:.0f} ms; ≤ 3×, none > 1 s",
            _verdict(ratio["reaction_p99"] <= 3 and reaction["max_ms"] < 1000),
            f"×{ratio['reaction_p99']:.2f} the floor; p50 {reaction['p50_ms']:.0f} ms "
            f"(floor {floor['reaction']['p50_ms']:.0f}); max {reaction['max_ms']:.0f} ms",
        ),
        (
            f"pulse ingestion, {ingest['events']:,} reactions",
            f"{ingest['events_per_second']:.0f} events/s",
            f"floor {floor['ingest']['events_per_second']:.0f}/s; ≥ 1,000/s and ≥ ½ floor",
            _verdict(ingest["events_per_second"] >= 1000 and ratio["ingest_rate"] <= 2),
            f"floor ×{ratio['ingest_rate']:.2f} the bot's rate; {ingest['responses']:,} "
            "responses stored, 0 lost",
        ),
        (
            f"intros to {i['pairs']} new pairs, Slack limits (simulated)",
            f"{i['simulated_seconds']:.0f} s, {i['rate_limited_share']:.1%} × 429",
            f"floor {i['floor_seconds']:.0f} s; ≤ {i['rate_limited_share_target']:.0%} × 429",
            _verdict(i["rate_limited_share"] <= i["rate_limited_share_target"]),
            f"{i['pace_db_round_trips']} pacing round trips; "
            f"{i['channels_with_one_intro']}/{i['pairs']} channels got exactly 1",
        ),
        (
            f"demo, {d['weeks']} weeks, seed {d['seed']}",
            f"{d['wall_seconds']:.1f} s wall",
            f"< {d['target_wall_seconds']:.0f} s",
            _verdict(d["met"]),
            f"CPU {d['cpu_seconds']:.1f} s",
        ),
    ]
    return found


def report(result: dict) -> None:
    m = result["machine"]
    table = rows(result)
    headers = ("benchmark", "result", "floor / target", "target", "detail")
    widths = [max(len(r[k]) for r in [*table, headers]) for k in range(len(headers))]
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
