"""Introducing many new pairs against Slack's rate limits, on a simulated clock.

    python bench/bench_intros.py [--pairs 500]

Each introduction is a `conversations.open` (the pair's group DM, Tier 3: 50+ per minute)
and a `chat.postMessage` in it (about one per second per channel). The fake Slack enforces
Slack's limits (FakeSlack.enforce_rate_limits, the tiers of
handlers/core/rate_limits.METHOD_PACES) and answers 429 with Retry-After past them; the real
app (app.build) delivers its outbox through its own gateway, which paces each method to its
tier (a token bucket shared through the database) and waits out any 429 all the same. The
fake's limiter, the gateway's sleep and monotonic time and the app's wall clock all read one
simulated time source (handlers/devkit/driver.FakeTimer), so waiting costs no real time.

Reports the simulated seconds until every introduction was delivered against the floor the
limits allow (the first `burst` opens at once, then one per 60/50 s), the 429s per method
and their share of all calls against the target (at most 5%: the bot paces itself rather
than waiting to be refused), the database round trips the shared pacing took, and the real
wall time; fails unless every pair got exactly one introduction. Writes
bench/results/intros.json.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlmodel import func, select  # noqa: E402

import app  # noqa: E402
from bench.bench_tick import (  # noqa: E402
    ZONES,
    _leader,
    _mentor,
    _participant_row,
    machine,
    table_of,
)
from bench.results_file import save_results  # noqa: E402
from bot.cadence import ProgramSettings  # noqa: E402
from bot.matching import ProposedPair  # noqa: E402
from handlers.core import outbox  # noqa: E402
from handlers.core.rate_limits import METHOD_PACES, POSTING, SharedRateLimits  # noqa: E402
from handlers.devkit.driver import BOT_TOKEN, TEAM_ID, FakeTimer, make_settings  # noqa: E402
from handlers.devkit.fake_slack import FakeSlack  # noqa: E402
from handlers.pairing.use_cases import new_pair  # noqa: E402
from storage import program  # noqa: E402
from storage.db import Database, make_engine  # noqa: E402
from storage.models import OutboxMessage, Pair, Participant  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "intros.json"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday, in everyone's working hours
OPEN_PER_MINUTE = METHOD_PACES["conversations.open"].per_minute  # Slack's Tier 3
OPEN_BURST = METHOD_PACES["conversations.open"].burst
TARGET_429_SHARE = 0.05  # at most this share of the calls answered 429
INTRO_TEXT = "Meet your reverse-mentoring pair"
MAX_DRAINS = 100  # outbox drains; a retried row waits minutes, so this bounds the run
REAL_SECONDS = 240.0


class SimClock:
    """The app's wall clock, moving with the simulated seconds the timer has slept."""

    def __init__(self, timer: FakeTimer, start: datetime) -> None:
        self.timer, self.start = timer, start

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.timer.elapsed)


def floor_seconds(pairs: int) -> float:
    """The least time the limits allow: `OPEN_BURST` opens at once, then one per 60/50 s.
    (One post per channel never meets the per-channel post limit.)"""
    return max(0, pairs - OPEN_BURST) * 60 / OPEN_PER_MINUTE


def _people(db_path: Path, fake: FakeSlack, pairs: int) -> None:
    rows = []
    for i in range(pairs):
        mentor_tz, leader_tz = ZONES[i % len(ZONES)], ZONES[(i + 1) % len(ZONES)]
        rows.append(_participant_row(_mentor(i), role="junior", level=1 + i % 2, tz=mentor_tz, i=i))
        rows.append(_participant_row(_leader(i), role="leader", level=5 + i % 2, tz=leader_tz, i=i))
        fake.add_user(_mentor(i), tz=mentor_tz, title="Analyst")
        fake.add_user(_leader(i), tz=leader_tz, title="Director")
    db = Database(make_engine(f"sqlite:///{db_path}"))
    db.prepare()
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table_of(Participant)), rows)
    finally:
        db.close()


def _new_pairs(session, pairs: int, now: datetime) -> None:
    """As `/mentor admin match` commits them: each pair and its intro decided together.
    The preparation guides a match also sends (one DM each) are off: this measures the
    introductions alone, against their floor."""
    program.save_program_settings(
        session=session, team_id=TEAM_ID, settings=ProgramSettings(send_guides=False), now=now
    )
    for i in range(pairs):
        proposal = ProposedPair(
            mentor_id=_mentor(i),
            mentee_id=_leader(i),
            score=12.0,
            reasons=(),
            explanation="You both care about Digital trends & AI; different departments.",
        )
        new_pair(session, team_id=TEAM_ID, proposal=proposal, now=now)


def _intro_rows(session) -> dict[str, int]:
    rows = session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.kind == "intro")
        .group_by(OutboxMessage.status)
    ).all()
    return dict(rows)


def _next_not_before(session) -> datetime | None:
    return session.exec(
        select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == "pending")
    ).one()


async def measure(*, pairs: int, workdir: Path) -> dict:
    db_path = workdir / "mentor.db"
    timer = FakeTimer()
    clock = SimClock(timer, NOW)
    async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock) as fake:
        _people(db_path, fake, pairs)
        limits = fake.enforce_rate_limits(monotonic=timer.monotonic)
        runtime = app.build(
            make_settings(fake, db_path),
            clock=clock,
            sleep=timer.sleep,
            monotonic=timer.monotonic,
            wall=timer.wall,
        )
        deps = runtime.deps
        http = aiohttp.ClientSession()
        deps.slack.client.session = http
        drains = 0
        try:
            deps.db.run_sync(lambda s: _new_pairs(s, pairs, clock()))
            started = time.perf_counter()
            while drains < MAX_DRAINS and time.perf_counter() - started < REAL_SECONDS:
                drains += 1
                await outbox.deliver_due(deps)
                status = deps.db.run_sync(_intro_rows)
                if status.get("pending", 0) == 0:
                    break
                # Some intro went back to wait (a call past its budget): jump to its time.
                due = deps.db.run_sync(_next_not_before)
                if due is not None and due > clock():
                    await timer.sleep((due - clock()).total_seconds())
            wall = time.perf_counter() - started
            simulated = timer.elapsed
            status = deps.db.run_sync(_intro_rows)
            live = deps.db.run_sync(
                lambda s: s.exec(
                    select(func.count()).select_from(Pair).where(Pair.status == "active")
                ).one()
            )
        finally:
            await http.close()
            deps.db.close()

    intros = Counter(c for (c, _), m in fake.messages.items() if m["text"].startswith(INTRO_TEXT))
    expected = {fake.conversation_id(_mentor(i), _leader(i)) for i in range(pairs)}
    if set(intros) != expected or set(intros.values()) != {1}:
        twice = sum(1 for n in intros.values() if n > 1)
        raise RuntimeError(
            f"intros: {len(expected - set(intros))} pairs missed, {twice} introduced twice"
        )
    if status != {"sent": pairs} or live != pairs:
        raise RuntimeError(f"outbox intros {status}, {live} active pairs (expected {pairs})")
    attempts = Counter(c.method for c in fake.calls)
    floor = floor_seconds(pairs)
    refused = sum(limits.hits.values())
    board = deps.slack.rate_limits
    round_trips = board.round_trips if isinstance(board, SharedRateLimits) else 0
    return {
        "pairs": pairs,
        "limits": {
            "conversations.open": f"{OPEN_PER_MINUTE}/min, burst {OPEN_BURST}",
            "chat.postMessage": f"{POSTING.per_minute / 60:g}/s per channel, burst {POSTING.burst}",
        },
        "simulated_seconds": round(simulated, 1),
        "floor_seconds": round(floor, 1),
        "ratio_to_floor": round(simulated / floor, 3) if floor else None,
        "wall_seconds": round(wall, 2),
        "drains": drains,
        "rate_limited": dict(limits.hits),
        "calls": dict(attempts),
        "rate_limited_share": round(refused / max(1, sum(attempts.values())), 4),
        "rate_limited_share_target": TARGET_429_SHARE,
        "pace_db_round_trips": round_trips,
        "pace_db_seconds": round(board.round_trip_seconds, 3)
        if isinstance(board, SharedRateLimits)
        else 0.0,
        "gateway_sleeps": len(timer.sleeps),
        "gateway_sleep_seconds": round(sum(timer.sleeps), 1),
        "intros_delivered": sum(intros.values()),
        "channels_with_one_intro": sum(1 for n in intros.values() if n == 1),
    }


def run(*, pairs: int = 500) -> dict:
    # Every 429 would log a retry warning: hundreds of expected lines. Errors still show.
    gateway = logging.getLogger("handlers.core.slack")
    level = gateway.level
    gateway.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-intros-") as workdir:
            result = asyncio.run(measure(pairs=pairs, workdir=Path(workdir)))
    finally:
        gateway.setLevel(level)
    return {"machine": machine(), **result}


def report(result: dict) -> None:
    print(
        f"{result['pairs']} new pairs introduced against the fake Slack's limits "
        f"(conversations.open {result['limits']['conversations.open']}, "
        f"chat.postMessage {result['limits']['chat.postMessage']})"
    )
    print(
        f"simulated {result['simulated_seconds']:.0f} s vs floor {result['floor_seconds']:.0f} s "
        f"(x{result['ratio_to_floor']}); real {result['wall_seconds']:.1f} s"
    )
    share, target = result["rate_limited_share"], result["rate_limited_share_target"]
    print(
        f"429s: {result['rate_limited'] or 'none'}: {share:.1%} of all calls "
        f"(target at most {target:.0%}: {'met' if share <= target else 'MISSED'}); "
        f"calls: {result['calls']}"
    )
    print(
        f"gateway waits: {result['gateway_sleeps']} ({result['gateway_sleep_seconds']:.0f} s); "
        f"shared pacing: {result['pace_db_round_trips']} database round trips "
        f"({result['pace_db_seconds']:.2f} s real)"
    )
    print(
        f"intros delivered: {result['intros_delivered']}, one per channel in "
        f"{result['channels_with_one_intro']} of {result['pairs']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=500)
    args = parser.parse_args(argv)
    result = run(pairs=args.pairs)
    report(result)
    save_results(RESULTS, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
