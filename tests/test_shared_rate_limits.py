"""Slack's rate limits across instances: a 429 told to one instance holds up the others, for
that method and that workspace only, because the hold is kept in the database they share.

Two "instances" here are two app objects built by app.build (as app.py builds one) on one
database: each has its own engine and gateway, and one timer stands in for the clock they
share (its waits move wall-clock time for both).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

import app
from handlers.core.rate_limits import LocalRateLimits, SharedRateLimits
from handlers.core.slack import SlackCallError
from handlers.devkit.driver import FakeTimer, make_settings
from handlers.devkit.fake_slack import FakeSlack
from storage.db import Database, make_engine
from tests.kit.databases import database_url_fixture  # noqa: F401  (database_url)

RETRY_AFTER = 30  # seconds; what Slack says in the test's 429


@pytest.fixture
async def instances(
    slack: FakeSlack, database_url: str, timer: FakeTimer, tmp_path
) -> AsyncIterator[Callable[[], app.Runtime]]:
    built: list[app.Runtime] = []

    def instance() -> app.Runtime:
        settings = make_settings(slack, tmp_path / "unused.db", DATABASE_URL=database_url)
        runtime = app.build(settings, sleep=timer.sleep, monotonic=timer.monotonic, wall=timer.wall)
        built.append(runtime)
        return runtime

    yield instance
    for runtime in built:
        runtime.deps.db.close()


async def _refused_once(runtime: app.Runtime, slack: FakeSlack, method: str, **params: Any):
    """The first instance is told 429 and, with no time to spare (budget), gives up."""
    slack.fail_next(method, status=429, retry_after=RETRY_AFTER, times=1)
    with pytest.raises(SlackCallError) as refused:
        await runtime.deps.slack.call(method, budget=1, **params)
    assert refused.value.error == "ratelimited"


async def test_a_429_told_to_one_instance_holds_up_the_other(instances, slack, timer):
    first, second = instances(), instances()
    await _refused_once(first, slack, "users.info", user="U1")
    assert timer.sleeps == []

    answer = await second.deps.slack.call("users.info", user="U2")

    assert answer["user"]["id"] == "U2"
    assert timer.sleeps == [RETRY_AFTER]  # waited out the first one's Retry-After, then called
    assert len(slack.calls_to("users.info")) == 2


async def test_the_hold_is_for_that_method_only(instances, slack, timer):
    first, second = instances(), instances()
    await _refused_once(first, slack, "users.info", user="U1")

    await second.deps.slack.call("chat.postMessage", channel="U2", text="Hello")

    assert timer.sleeps == []


async def test_an_instance_started_later_waits_too(instances, slack, timer):
    first = instances()
    await _refused_once(first, slack, "users.info", user="U1")
    await timer.sleep(10)
    later = instances()  # a rolling restart: a new process, nothing in its memory

    await later.deps.slack.call("users.info", user="U1")

    assert timer.sleeps == [10, RETRY_AFTER - 10]


async def test_a_shorter_retry_after_does_not_shorten_a_longer_hold(database_url, timer):
    boards = []
    for _ in range(2):
        db = Database(make_engine(database_url))
        db.prepare()
        boards.append((db, SharedRateLimits(db, wall=timer.wall, monotonic=timer.monotonic)))
    try:
        (_, first), (_, second) = boards
        await first.hold("T0001", "chat.postMessage", 60)
        await second.hold("T0001", "chat.postMessage", 5)
        third = SharedRateLimits(boards[0][0], wall=timer.wall, monotonic=timer.monotonic)
        assert await third.wait_for("T0001", "chat.postMessage") == 60
        assert await third.wait_for("T0002", "chat.postMessage") == 0  # another workspace
    finally:
        for db, _ in boards:
            db.close()


async def test_holds_are_read_again_after_a_second(database_url, timer):
    """An instance reads the holds at most once a second: within that second it may not know
    of another's 429 (Slack then tells it too); after it, it does."""
    db = Database(make_engine(database_url))
    db.prepare()
    try:
        teller = SharedRateLimits(db, wall=timer.wall, monotonic=timer.monotonic)
        other = SharedRateLimits(db, wall=timer.wall, monotonic=timer.monotonic)
        assert await other.wait_for("", "users.info") == 0  # read now: nothing held
        await teller.hold("", "users.info", RETRY_AFTER)
        assert await other.wait_for("", "users.info") == 0  # within the second
        await timer.sleep(1)
        assert await other.wait_for("", "users.info") == RETRY_AFTER - 1
    finally:
        db.close()


async def test_without_the_database_the_instance_still_honours_its_own_429(
    instances, slack, timer, monkeypatch
):
    first = instances()

    async def unreachable(work):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(first.deps.db, "run", unreachable)
    slack.fail_next("users.info", status=429, retry_after=RETRY_AFTER, times=1)

    answer = await first.deps.slack.call("users.info", user="U1")

    assert answer["user"]["id"] == "U1"
    assert timer.sleeps == [RETRY_AFTER]
    assert len(slack.calls_to("users.info")) == 2


async def test_a_shorter_retry_after_does_not_shorten_a_longer_hold_within_an_instance(timer):
    board = LocalRateLimits(timer.monotonic)
    await board.hold("T1", "chat.postMessage", 30)
    await board.hold("T1", "chat.postMessage", 5)  # a later, shorter answer
    assert await board.wait_for("T1", "chat.postMessage") == 30
