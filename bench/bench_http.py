"""Acknowledgement latency and pulse ingestion over the real HTTP path.

    python bench/bench_http.py [--requests 500] [--events 2000] [--concurrency 50]

Serves the real app's aiohttp web app (app.build(...).web_app(), as `app.py` does in HTTP
mode) on 127.0.0.1 against the fake Slack Web API, with a population of signed-up people in
pairs, each pair with an open pulse survey. Clients in their own thread and event loop send
requests signed as Slack signs them, `--concurrency` at a time:

1. `/mentor status` from `--requests` people: p50/p99 time to the HTTP response;
2. `--requests` `reaction_added` events, each with its own event_id, from the two members of
   `--requests`/2 surveys: p50/p99 time to the HTTP response;
3. `--events` more reactions on other surveys, for throughput: events per second from the
   first request sent until the last listener has written its rating.

After 2 and 3 the stored pulse responses must be exactly what the events imply (every survey
answered by both members with the rating sent), or the run fails.

Then the same clients send the same kinds of request to the floor (bench/floor_app.py: a bare
Bolt app that acks `/mentor` with one line and records each reaction's event id in SQLite),
and every figure is printed beside the floor's, with their ratio. Writes
bench/results/http.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import func, insert  # noqa: E402
from sqlmodel import col, select  # noqa: E402

import app  # noqa: E402
from bench.bench_tick import _leader, _mentor, machine, populate, table_of  # noqa: E402
from bench.floor_app import Floor  # noqa: E402
from bench.results_file import save_results  # noqa: E402
from bot import pulse  # noqa: E402
from handlers.devkit.driver import (  # noqa: E402
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    Clock,
    make_settings,
)
from handlers.devkit.fake_slack import FakeSlack  # noqa: E402
from handlers.devkit.signing import command_body, event_body, signed_headers  # noqa: E402
from storage.db import Database, make_engine  # noqa: E402
from storage.models import ProcessedEvent, PulseResponse, PulseSurvey  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "http.json"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday in working hours
SLACK_LIMIT_SECONDS = 3.0
REQUEST_TIMEOUT = 10.0  # per request: far past Slack's 3 s, so a slow ack is measured, not lost
PHASE_TIMEOUT = 240.0  # a whole phase, so a stuck server cannot hang the run
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _survey_ts(i: int) -> str:
    return f"{int((NOW - timedelta(days=1)).timestamp())}.{i:06d}"


def _add_surveys(db_path: Path, fake: FakeSlack, pairs: int) -> None:
    """One open pulse survey per pair (posted yesterday, open six more days)."""
    rows = [
        {
            "team_id": TEAM_ID,
            "pair_id": i + 1,  # pairs were inserted in order: pair i has rowid i + 1
            "period": "cadence:2026-03-02",
            "channel_id": fake.conversation_id(_mentor(i), _leader(i)),
            "ts": _survey_ts(i),
            "opened_at": NOW - timedelta(days=1),
            "closes_at": NOW + timedelta(days=6),
        }
        for i in range(pairs)
    ]
    db = Database(make_engine(f"sqlite:///{db_path}"))
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table_of(PulseSurvey)), rows)
    finally:
        db.close()


def _rating(i: int, member: int) -> int:
    return 1 + (i * 2 + member * 3) % 5


def _reaction_requests(fake: FakeSlack, first_pair: int, count: int, ids) -> tuple[list, dict]:
    """`count` reaction events on surveys from `first_pair` on (both members of each), and
    the responses they must leave: {(pair index, user): rating}."""
    requests, expected = [], {}
    for n in range(count):
        i = first_pair + n // 2
        member = n % 2
        user = (_mentor(i), _leader(i))[member]
        rating = _rating(i, member)
        expected[(i, user)] = rating
        event = {
            "type": "reaction_added",
            "user": user,
            "reaction": pulse.SCALE[rating - 1].emoji,
            "item_user": "UBOT",
            "item": {
                "type": "message",
                "channel": fake.conversation_id(_mentor(i), _leader(i)),
                "ts": _survey_ts(i),
            },
            "event_ts": f"{int(NOW.timestamp())}.{n:06d}",
        }
        body = event_body(
            event, team_id=TEAM_ID, event_id=f"EvBench{next(ids):08d}", event_time=int(time.time())
        )
        requests.append((body, JSON))
    return requests, expected


def _status_requests(count: int, response_url: str) -> list:
    return [
        (
            command_body(
                text="status",
                user_id=_mentor(i) if i % 2 == 0 else _leader(i),
                team_id=TEAM_ID,
                trigger_id=f"trig-{i}",
                response_url=response_url,
            ),
            FORM,
        )
        for i in range(count)
    ]


# --- the load generator (its own thread and event loop) ----------------------------------------


async def _fire(url: str, requests: list, concurrency: int) -> dict:
    """Send every request, `concurrency` at a time; the seconds each took to its response."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)

    async def worker(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                body, content_type = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
            start = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    latencies.append(time.perf_counter() - start)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(type(exc).__name__)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        async with asyncio.timeout(PHASE_TIMEOUT):
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {"latencies": latencies, "statuses": statuses, "errors": errors, "seconds": seconds}


async def _load(url: str, requests: list, concurrency: int) -> dict:
    """Run the clients in another thread, so the server's event loop serves only requests."""
    # A thread of its own, not the default executor: the app's database work runs there.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-clients") as pool:
        return await asyncio.get_running_loop().run_in_executor(
            pool, asyncio.run, _fire(url, requests, concurrency)
        )


def _percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(pick(0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "under_3s": sum(1 for s in ordered if s < SLACK_LIMIT_SECONDS),
    }


async def _settle(runtime: app.Runtime) -> None:
    """Wait (bounded) for the work the app started: the listeners Bolt runs after an ack and
    what they spawned, all tracked on Deps.background (handlers/core/bolt.py), as the test
    driver's settle() does."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    while time.monotonic() < deadline:
        await asyncio.sleep(0)  # a listener Bolt has just scheduled gets to start
        pending = [t for t in runtime.deps.background if not t.done()]
        if not pending:
            return
        await asyncio.wait(pending, timeout=1)
    raise RuntimeError("listener work did not finish in time")


def _check_responses(runtime: app.Runtime, expected: dict) -> dict:
    """The stored responses of these surveys are exactly the ratings the events carried."""
    pair_ids = sorted({i + 1 for i, _ in expected})

    def load(session):
        rows = session.exec(
            select(PulseSurvey.pair_id, PulseResponse.user_id, PulseResponse.rating)
            .join(PulseSurvey, col(PulseSurvey.id) == col(PulseResponse.survey_id))
            .where(col(PulseSurvey.pair_id).in_(pair_ids))
        ).all()
        return {(pair_id - 1, user): rating for pair_id, user, rating in rows}

    stored = runtime.deps.db.run_sync(load)
    missing = [k for k in expected if k not in stored]
    wrong = [k for k in expected if k in stored and stored[k] != expected[k]]
    extra = [k for k in stored if k not in expected]
    if missing or wrong or extra:
        raise RuntimeError(
            f"pulse responses differ from the events: {len(missing)} missing, "
            f"{len(wrong)} wrong, {len(extra)} unexpected"
        )
    return {"surveys": len(pair_ids), "responses": len(stored)}


def _processed_events(runtime: app.Runtime) -> int:
    return runtime.deps.db.run_sync(
        lambda s: s.exec(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(col(ProcessedEvent.event_id).like("EvBench%"))
        ).one()
    )


async def _serve(web_app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve a web app on a free loopback port; its runner and Slack events URL."""
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/slack/events"


async def measure(*, requests: int, events: int, concurrency: int, workdir: Path) -> dict:
    if requests < 2 or events < 2:
        raise ValueError("need at least 2 requests and 2 events")
    requests -= requests % 2  # reactions come in pairs: both members of a survey
    events -= events % 2
    latency_pairs, throughput_pairs = requests // 2, events // 2
    pairs = max(requests, latency_pairs + throughput_pairs)
    db_path = workdir / "mentor.db"
    clock = Clock(NOW)
    ids = itertools.count(1)

    async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock) as fake:
        started = time.perf_counter()
        populate(db_path, fake, pairs=pairs, due=1, now=NOW)
        _add_surveys(db_path, fake, pairs)
        setup_seconds = time.perf_counter() - started

        runtime = app.build(make_settings(fake, db_path), clock=clock)
        # As app.py serves it in HTTP mode (the scheduler stays off: nothing else runs).
        runner, url = await _serve(runtime.web_app())
        http = aiohttp.ClientSession()  # one pool for the app's Slack calls, as in serve()
        runtime.deps.slack.client.session = http
        gc.freeze()  # what was built before serving, as serve() does
        try:
            status = await _load(
                url, _status_requests(requests, fake.response_url("status")), concurrency
            )
            if status["errors"] or set(status["statuses"]) != {200}:
                raise RuntimeError(f"/mentor status: {status['statuses']} {status['errors'][:3]}")
            await _settle(runtime)

            reaction_reqs, expected = _reaction_requests(fake, 0, requests, ids)
            reactions = await _load(url, reaction_reqs, concurrency)
            await _settle(runtime)
            if reactions["errors"] or set(reactions["statuses"]) != {200}:
                raise RuntimeError(f"reactions: {reactions['statuses']} {reactions['errors'][:3]}")
            latency_check = _check_responses(runtime, expected)

            burst_reqs, burst_expected = _reaction_requests(fake, latency_pairs, events, ids)
            begun = time.perf_counter()
            burst = await _load(url, burst_reqs, concurrency)
            await _settle(runtime)
            ingest_seconds = time.perf_counter() - begun
            if burst["errors"] or set(burst["statuses"]) != {200}:
                raise RuntimeError(f"throughput: {burst['statuses']} {burst['errors'][:3]}")
            burst_check = _check_responses(runtime, burst_expected)
            processed = _processed_events(runtime)
            if processed != requests + events:
                raise RuntimeError(f"{processed} event ids recorded, sent {requests + events}")
        finally:
            await runner.cleanup()
            await http.close()
            runtime.deps.db.close()

    return {
        "pairs": pairs,
        "participants": pairs * 2,
        "concurrency": concurrency,
        "setup_seconds": round(setup_seconds, 2),
        "status": {
            "requests": requests,
            "per_second": round(requests / status["seconds"], 1),
            **_percentiles(status["latencies"]),
        },
        "reaction": {
            "requests": requests,
            "per_second": round(requests / reactions["seconds"], 1),
            **_percentiles(reactions["latencies"]),
            **latency_check,
        },
        "ingest": {
            "events": events,
            "seconds": round(ingest_seconds, 3),
            "acked_seconds": round(burst["seconds"], 3),
            "events_per_second": round(events / ingest_seconds, 1),
            **_percentiles(burst["latencies"]),
            **burst_check,
            "lost": 0,
        },
    }


async def measure_floor(*, requests: int, events: int, concurrency: int, workdir: Path) -> dict:
    """The same clients and requests against the bare Bolt app (bench/floor_app.py)."""
    requests -= requests % 2
    events -= events % 2
    floor = Floor(workdir / "floor.db")
    ids = itertools.count(10_000_000)  # event ids of their own
    async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=Clock(NOW)) as fake:
        runner, url = await _serve(floor.web_app())
        try:
            status = await _load(
                url, _status_requests(requests, fake.response_url("status")), concurrency
            )
            reaction_reqs, _ = _reaction_requests(fake, 0, requests, ids)
            reactions = await _load(url, reaction_reqs, concurrency)
            await _floor_done(floor, requests)
            burst_reqs, _ = _reaction_requests(fake, requests, events, ids)
            begun = time.perf_counter()
            burst = await _load(url, burst_reqs, concurrency)
            await _floor_done(floor, requests + events)
            ingest_seconds = time.perf_counter() - begun
        finally:
            await runner.cleanup()
    for name, phase in (("status", status), ("reactions", reactions), ("ingest", burst)):
        if phase["errors"] or set(phase["statuses"]) != {200}:
            raise RuntimeError(f"floor {name}: {phase['statuses']} {phase['errors'][:3]}")
    return {
        "status": {"requests": requests, **_percentiles(status["latencies"])},
        "reaction": {"requests": requests, **_percentiles(reactions["latencies"])},
        "ingest": {
            "events": events,
            "seconds": round(ingest_seconds, 3),
            "events_per_second": round(events / ingest_seconds, 1),
            **_percentiles(burst["latencies"]),
        },
    }


async def _floor_done(floor: Floor, count: int) -> None:
    """Until the floor has recorded `count` events (bounded)."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    while floor.recorded() < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the floor recorded {floor.recorded()} of {count} events")
        await asyncio.sleep(0.005)


def run(*, requests: int = 500, events: int = 2000, concurrency: int = 50) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-http-") as workdir:
        result = asyncio.run(
            measure(
                requests=requests, events=events, concurrency=concurrency, workdir=Path(workdir)
            )
        )
        floor = asyncio.run(
            measure_floor(
                requests=requests, events=events, concurrency=concurrency, workdir=Path(workdir)
            )
        )
    return {"machine": machine(), **result, "floor": floor, "ratios": _ratios(result, floor)}


def _ratios(bot: dict, floor: dict) -> dict:
    """The bot's figure over the floor's (a rate: the floor's over the bot's), side by side."""

    def over(a: float, b: float) -> float:
        return round(a / b, 2) if b else float("nan")

    return {
        "status_p50": over(bot["status"]["p50_ms"], floor["status"]["p50_ms"]),
        "status_p99": over(bot["status"]["p99_ms"], floor["status"]["p99_ms"]),
        "reaction_p50": over(bot["reaction"]["p50_ms"], floor["reaction"]["p50_ms"]),
        "reaction_p99": over(bot["reaction"]["p99_ms"], floor["reaction"]["p99_ms"]),
        "ingest_rate": over(
            floor["ingest"]["events_per_second"], bot["ingest"]["events_per_second"]
        ),
    }


def report(result: dict) -> None:
    m = result["machine"]
    print(
        f"{result['participants']} participants in {result['pairs']} pairs, each with an open "
        f"pulse survey; {result['concurrency']} concurrent clients"
    )
    print(f"{m['nproc']} CPUs ({m['cpu']}), Python {m['python']}")
    floor, ratios = result["floor"], result["ratios"]
    print(
        f"{'':22} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'< 3 s':>6}"
        f"   {'floor p50':>9} {'floor p99':>9} {'p99 ×':>6}"
    )
    for key, label in (("status", "/mentor status"), ("reaction", "reaction_added")):
        row, bare = result[key], floor[key]
        print(
            f"{label:22} {row['requests']:8d} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
            f"{row['max_ms']:8.1f} {row['under_3s']:6d}   {bare['p50_ms']:9.1f} "
            f"{bare['p99_ms']:9.1f} {ratios[key + '_p99']:6.2f}"
        )
    ingest = result["ingest"]
    print(
        f"pulse ingestion: {ingest['events']} reactions in {ingest['seconds']:.2f} s = "
        f"{ingest['events_per_second']:.0f}/s (p99 ack {ingest['p99_ms']:.0f} ms); "
        f"{ingest['responses']} responses stored on {ingest['surveys']} surveys, none lost; "
        f"floor {floor['ingest']['events_per_second']:.0f}/s, "
        f"{ratios['ingest_rate']:.2f}× the bot's rate"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args(argv)
    result = run(requests=args.requests, events=args.events, concurrency=args.concurrency)
    report(result)
    save_results(RESULTS, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
