"""Pacing: the gateway holds each Web API method to its Slack tier (a token bucket per
workspace and method, per channel for chat.postMessage) and waits for its slot, instead of
calling until Slack answers 429. Instances sharing a database share the pace.

The calls go through the real gateway to the fake Slack, which enforces the same limits
with its own bucket (handlers/devkit/fake_slack/limits.py) and counts the 429s it answers.
The waits are compared with `Buckets` below: a literal token bucket, written here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import OperationalError

import app
from handlers.core.rate_limits import METHOD_PACES
from handlers.core.slack import METHOD_SCOPES, SlackCallError, SlackGateway
from handlers.devkit.driver import BOT_TOKEN, FakeTimer, make_settings
from handlers.devkit.fake_slack import FakeSlack
from storage import rate_limits
from storage.db import Database, make_engine

OPEN = METHOD_PACES["conversations.open"]  # Tier 3: 50 a minute, a minute's burst
POST = METHOD_PACES["chat.postMessage"]  # about one a second per channel, short bursts
MS = 2e-3  # the gateway waits whole milliseconds, rounded up


class Buckets:
    """Token buckets on a clock the test moves: `ask` returns how long a call waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self._tokens: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def idle(self, seconds: float) -> None:
        self.now += seconds

    def ask(self, key: str, burst: int, per_minute: float) -> float:
        per_second = per_minute / 60
        tokens, at = self._tokens.get(key, (float(burst), self.now))
        tokens = min(float(burst), tokens + (self.now - at) * per_second)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / per_second
        self.now += wait
        self._tokens[key] = (tokens + wait * per_second - 1, self.now)
        return wait


@pytest.fixture
async def limited(slack: FakeSlack, timer: FakeTimer) -> FakeSlack:
    slack.enforce_rate_limits(monotonic=timer.monotonic)
    for i in range(10):
        slack.add_user(f"UP{i}")
    return slack


@pytest.fixture
async def instances(
    limited: FakeSlack, database_url: str, timer: FakeTimer, tmp_path
) -> AsyncIterator[Callable[[], SlackGateway]]:
    """Gateways of instances as app.py builds them, on one database (SQLite file, or
    PostgreSQL when TEST_DATABASE_URL is set) and one clock."""
    built: list[app.Runtime] = []

    def instance() -> SlackGateway:
        settings = make_settings(limited, tmp_path / "unused.db", DATABASE_URL=database_url)
        runtime = app.build(settings, sleep=timer.sleep, monotonic=timer.monotonic, wall=timer.wall)
        built.append(runtime)
        return runtime.deps.slack

    yield instance
    for runtime in built:
        runtime.deps.db.close()


@pytest.fixture(params=["in memory", "in the database"])
def gateway(request, limited: FakeSlack, timer: FakeTimer, database_url: str) -> SlackGateway:
    """One gateway: its own pace (no database), or an instance's (the shared pace)."""
    if request.param == "in memory":
        if not database_url.startswith("sqlite"):
            pytest.skip("no database: once is enough")
        client = AsyncWebClient(token=BOT_TOKEN, base_url=limited.api_url, retry_handlers=[])
        return SlackGateway(client, sleep=timer.sleep, monotonic=timer.monotonic)
    return request.getfixturevalue("instances")()


async def _waits(timer: FakeTimer, call) -> float:
    """Seconds the gateway slept while making `call`."""
    before = len(timer.sleeps)
    await call
    return sum(timer.sleeps[before:])


def test_every_method_the_bot_calls_has_a_pace():
    assert set(METHOD_PACES) == set(METHOD_SCOPES)


async def test_calls_past_a_tiers_burst_wait_for_their_slot(gateway, limited, timer):
    oracle = Buckets()
    expected, waited = [], []
    # A minute's burst and more at once, a quiet half minute, then more again.
    for pause, count in [(0, 70), (30, 40), (5, 10)]:
        await timer.sleep(pause)
        oracle.idle(pause)
        for i in range(count):
            expected.append(oracle.ask("open", OPEN.burst, OPEN.per_minute))
            waited.append(
                await _waits(timer, gateway.call("conversations.open", users=f"UP{i % 10}"))
            )

    assert waited == pytest.approx(expected, abs=MS)
    assert sum(1 for wait in expected if wait > 0) == 20 + 15 + 6  # past each burst
    assert limited.rate_limits is not None and limited.rate_limits.hits == {}
    assert len(limited.calls_to("conversations.open")) == 120


async def test_posts_are_paced_per_channel(gateway, limited, timer):
    oracle = Buckets()
    expected, waited = [], []
    channels = ["UP0", "UP0", "UP1", "UP0", "UP0", "UP1", "UP0", "UP1", "UP1", "UP1"]
    for number, channel in enumerate(channels):
        expected.append(oracle.ask(channel, POST.burst, POST.per_minute))
        post = gateway.call("chat.postMessage", channel=channel, text=f"message {number}")
        waited.append(await _waits(timer, post))

    assert waited == pytest.approx(expected, abs=MS)
    assert waited[:4] == [0, 0, 0, 0]  # each channel's short burst goes at once
    assert waited[4] > 0.5  # the fourth in UP0's burst waits for its second
    assert limited.rate_limits is not None and limited.rate_limits.hits == {}


async def test_posts_reserved_together_keep_the_pace(gateway, limited, timer):
    """A batch's slots reserved in one go (one round trip with a shared pace) are the slots
    its calls would have taken one by one; a call after them takes the next one."""
    oracle = Buckets()
    channels = ["UP0", "UP0", "UP1", "UP0", "UP0", "UP1", "UP0", "UP1", "UP1", "UP1", "UP0"]
    expected = [oracle.ask(channel, POST.burst, POST.per_minute) for channel in channels]
    slots = await gateway.reserve("chat.postMessage", [(None, {"channel": c}) for c in channels])
    waited = []
    for number, (channel, slot) in enumerate(zip(channels[:-1], slots, strict=False)):
        post = gateway.call(
            "chat.postMessage", channel=channel, text=f"message {number}", slot=slot
        )
        waited.append(await _waits(timer, post))
    # The last one's slot is left unused: it is lost, never handed to another call.
    waited.append(await _waits(timer, gateway.call("chat.postMessage", channel="UP0", text="x")))
    expected[-1] += oracle.ask("UP0", POST.burst, POST.per_minute)

    assert waited == pytest.approx(expected, abs=MS)
    assert waited[4] > 0.5  # the fourth in UP0's burst waits for its second
    assert limited.rate_limits is not None and limited.rate_limits.hits == {}


async def test_a_slot_past_the_budget_is_not_taken(gateway, limited, timer):
    for _ in range(OPEN.burst):
        await gateway.call("conversations.open", users="UP1")
    with pytest.raises(SlackCallError) as refused:
        await gateway.call("conversations.open", users="UP1", budget=1)
    assert refused.value.error == "ratelimited" and refused.value.transient
    assert timer.sleeps == []

    await gateway.call("conversations.open", users="UP1")

    assert timer.sleeps == pytest.approx([OPEN.interval], abs=MS)  # the first free slot
    assert len(limited.calls_to("conversations.open")) == OPEN.burst + 1


async def test_two_instances_keep_one_pace(instances, limited, timer):
    first, second = instances(), instances()
    oracle = Buckets()
    expected, waited = [], []
    for number in range(3 * OPEN.burst):
        gateway = (first, second)[number % 2]
        expected.append(oracle.ask("open", OPEN.burst, OPEN.per_minute))
        waited.append(
            await _waits(timer, gateway.call("conversations.open", users=f"UP{number % 10}"))
        )

    # Together they made one bucket's calls: two buckets would each have let 50 go at once.
    assert waited == pytest.approx(expected, abs=MS)
    assert limited.rate_limits is not None and limited.rate_limits.hits == {}
    assert timer.elapsed == pytest.approx(2 * OPEN.burst * OPEN.interval, abs=0.5)


async def test_instances_reserving_at_once_get_distinct_slots(database_url):
    """Threads stand in for instances: each reserves from its own connection, at the same
    moment; the atomic upsert hands every one of them its own slot."""
    db = Database(make_engine(database_url))
    db.prepare()
    try:

        def reserve(_: int) -> float | None:
            return db.run_sync(
                lambda session: rate_limits.reserve_slot(
                    session=session, team_id="T1", bucket="b", now=1000.0, interval=1.0, burst=2
                )
            )

        with ThreadPoolExecutor(max_workers=8) as pool:
            waits = list(pool.map(reserve, range(20)))
    finally:
        db.close()
    assert sorted(w or 0.0 for w in waits) == pytest.approx([0.0, 0.0, *range(1, 19)])


async def test_instances_reserving_batches_at_once_get_distinct_slots(database_url):
    """The same with batches: each thread reserves three slots of one bucket and one of its
    own in one statement; no slot is handed out twice."""
    db = Database(make_engine(database_url))
    db.prepare()
    try:

        def reserve(number: int) -> dict[tuple[str, str], list[float]]:
            return db.run_sync(
                lambda session: rate_limits.reserve_slots(
                    session=session,
                    counts={("T1", "b"): 3, ("T1", f"own {number}"): 1},
                    now=1000.0,
                    interval=1.0,
                    burst=2,
                )
            )

        with ThreadPoolExecutor(max_workers=8) as pool:
            taken = list(pool.map(reserve, range(10)))
    finally:
        db.close()
    shared = sorted(wait for waits in taken for wait in waits[("T1", "b")])
    assert shared == pytest.approx([0.0, 0.0, *range(1, 29)])
    assert all(waits[("T1", f"own {n}")] == [0.0] for n, waits in enumerate(taken))


async def test_a_429_still_holds_the_method_for_every_instance(instances, limited, timer):
    first, second = instances(), instances()
    for _ in range(OPEN.burst):
        await first.call("conversations.open", users="UP1")
    limited.fail_next("conversations.open", status=429, retry_after=30)
    with pytest.raises(SlackCallError):  # paced, refused all the same, no time to wait
        await first.call("conversations.open", users="UP1", budget=5)

    await second.call("conversations.open", users="UP2")

    # The slot's wait, then the Retry-After the first instance was told, then no more: the
    # bucket refilled meanwhile.
    assert timer.sleeps == pytest.approx([OPEN.interval, 30], abs=MS)
    assert len(limited.calls_to("conversations.open")) == OPEN.burst + 2


async def test_without_the_database_an_instance_keeps_its_own_pace(
    instances, limited, timer, monkeypatch
):
    gateway = instances()

    async def unreachable(work):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(gateway.rate_limits._db, "run", unreachable)
    oracle = Buckets()
    expected = [oracle.ask("open", OPEN.burst, OPEN.per_minute) for _ in range(OPEN.burst + 10)]
    waited = [
        await _waits(timer, gateway.call("conversations.open", users="UP1"))
        for _ in range(OPEN.burst + 10)
    ]

    assert waited == pytest.approx(expected, abs=MS)
    assert limited.rate_limits is not None and limited.rate_limits.hits == {}


async def test_pacing_off_sends_at_once(limited, timer):
    """SLACK_PACING=off, for a test server with no limits: nothing waits (and the fake,
    which here does enforce Slack's limits, refuses what goes past them)."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=limited.api_url, retry_handlers=[])
    gateway = SlackGateway(client, paced=False, sleep=timer.sleep, monotonic=timer.monotonic)
    for _ in range(OPEN.burst):
        await gateway.call("conversations.open", users="UP1")
    assert timer.sleeps == []
    await gateway.call("conversations.open", users="UP1")
    assert limited.rate_limits is not None and limited.rate_limits.hits["conversations.open"] == 1
