"""SIGKILL in the middle of sending: on restart every message due goes out exactly once.

Real `python app.py` processes (HTTP mode) share one SQLite file and talk to a FakeSlack in
this test's event loop. The fake answers chat.postMessage slowly (after it has stored the
message), so we can kill the bot while a post is in flight: Slack has the message, the bot's
outbox row still says "sending". The next process must find it in the channel's history
rather than post it again, and send the rest.

The real process uses the real clock, and the bot only writes to people 09:00-18:00 on their
weekdays. The participants get a whole-hour zone (Etc/GMT±N) where it is now mid-working-day;
when it is a weekend in every zone, the subprocesses (and the fake's message timestamps) run on
a clock shifted to the next Monday, so these tests run whatever the day.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.cadence import ProgramSettings
from bot.profiles import Profile, Role
from handlers.devkit.driver import BOT_TOKEN, SIGNING_SECRET, TEAM_ID
from handlers.devkit.fake_slack import FakeSlack
from handlers.devkit.signing import command_body, signed_headers
from storage import participants, program
from storage.db import Database, make_engine
from storage.models import Pair
from tests.test_process import ROOT, AppProcess, _free_port

PAIRS = 20
KILL_AFTER = 6  # posts seen before the SIGKILL
POST_DELAY = 0.2  # seconds the fake holds each chat.postMessage answer (after storing it)
DEADLINE = 40.0


class SlowSlack(FakeSlack):
    """Answers chosen methods late: the call is applied first, then the answer waits."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.delays: dict[str, float] = {}

    async def _api(self, request: web.Request) -> web.StreamResponse:
        response = await super()._api(request)
        delay = self.delays.get(request.match_info["method"], 0.0)
        if delay:
            await asyncio.sleep(delay)  # the fake being slow, not the test waiting on time
        return response


# --- time: a zone where it is now inside working hours ----------------------------------------


def _working_zone(now: datetime) -> str | None:
    """An Etc/GMT±N zone where `now` and the next few minutes are 10:00-17:00 on a weekday."""
    for hours in range(-12, 15):
        local = now + timedelta(hours=hours)
        if local.weekday() < 5 and 10 <= local.hour < 17:
            # POSIX signs are inverted: Etc/GMT-3 is UTC+3.
            return "UTC" if hours == 0 else f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"
    return None


# Only the bot's own clock (app.build's default, `datetime.now` in app.py) moves: the whole
# import graph is loaded first with the real class, then app.py (run as __main__) binds the
# shifted one. Libraries, APScheduler and request signing keep the real time.
_SHIM = textwrap.dedent(
    """
    import datetime as _dt
    import os

    import app  # noqa: F401  (every module the bot uses, bound to the real datetime)
    import sqlalchemy.dialects.sqlite  # noqa: F401  (loaded lazily by create_engine)

    # PostgreSQL's driver too (DATABASE_URL=postgresql+psycopg://...): loaded after the swap,
    # its compiled part warns that datetime.datetime changed size.
    import psycopg  # noqa: F401
    import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401

    _offset = _dt.timedelta(seconds=float(os.environ["FAULT_CLOCK_OFFSET"]))
    _Real = _dt.datetime

    class _AnyDatetime(type):
        # A module loaded later still takes real datetimes for datetimes.
        def __instancecheck__(cls, obj):
            return isinstance(obj, _Real)

    class _Shifted(_Real, metaclass=_AnyDatetime):
        @classmethod
        def now(cls, tz=None):
            return _Real.now(tz) + _offset

    _dt.datetime = _Shifted
    """
)


class TimePlan:
    def __init__(self, tmp_path: Path) -> None:
        real = datetime.now(UTC)
        zone = _working_zone(real)
        self.offset = timedelta(0)
        self.env: dict[str, str] = {}
        if zone is None:
            monday = (real + timedelta(days=7 - real.weekday())).date()
            target = datetime(monday.year, monday.month, monday.day, 11, tzinfo=UTC)
            self.offset, zone = target - real, "UTC"
            shim_dir = tmp_path / "shim"
            shim_dir.mkdir()
            (shim_dir / "sitecustomize.py").write_text(_SHIM)
            self.env = {
                "PYTHONPATH": f"{shim_dir}{os.pathsep}{ROOT}",
                "FAULT_CLOCK_OFFSET": str(self.offset.total_seconds()),
            }
        self.tz = zone

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


# --- set-up helpers ---------------------------------------------------------------------------


def _people() -> list[tuple[str, str]]:
    return [(f"UJ{i:02d}", f"UL{i:02d}") for i in range(PAIRS)]


def _seed_participants(
    database_url: str, tz: str, now: datetime, people: list[tuple[str, str]] | None = None
) -> None:
    """Juniors and leaders who can be paired, in a database the app's migrations create."""
    db = Database(make_engine(database_url))
    db.prepare()

    def seed(session) -> None:
        for junior, leader in people or _people():
            for user, role, level, dept in (
                (junior, Role.JUNIOR, 1, "Finance"),
                (leader, Role.LEADER, 6, "Operations"),
            ):
                profile = Profile(
                    role=role,
                    level=level,
                    department=dept,
                    manager_id=None,
                    topics=("ai",),
                    goals="Learn from each other.",
                    capacity=1,
                )
                participants.save_profile(
                    session=session,
                    team_id=TEAM_ID,
                    user_id=user,
                    profile=profile,
                    timezone=tz,
                    title=f"Title of {user}",
                    now=now,
                )
        # The kill is timed by counting posts, all of them introductions: the preparation
        # guides a match also sends are off here (tests/test_crash_recovery.py covers them).
        program.save_program_settings(
            session=session, team_id=TEAM_ID, settings=ProgramSettings(send_guides=False), now=now
        )

    db.run_sync(seed)
    db.close()


def _seed_active_pairs(db_path: Path, slack: FakeSlack, now: datetime) -> None:
    """Introduced pairs whose prompt for tomorrow's session became due an hour ago."""
    db = Database(make_engine(f"sqlite:///{db_path}"))

    def seed(session) -> None:
        for junior, leader in _people():
            channel, _ = slack._open([junior, leader])
            session.add(
                Pair(
                    team_id=TEAM_ID,
                    mentor_id=junior,
                    mentee_id=leader,
                    status="active",
                    score=1.0,
                    explanation="seeded",
                    dm_channel_id=channel,
                    intro_ts="1.000001",
                    next_session_on=(now + timedelta(days=1)).date(),
                    prompt_due_at=now - timedelta(hours=1),
                    last_activity_at=now,
                    created_at=now - timedelta(days=3),
                    updated_at=now,
                )
            )

    db.run_sync(seed)
    db.close()


def _outbox(db_path: Path, kind: str) -> list[str]:
    with sqlite3.connect(db_path, timeout=10) as conn:
        rows = conn.execute("SELECT status FROM outbox WHERE kind = ? ORDER BY id", (kind,))
        return [status for (status,) in rows]


def _outbox_channels(db_path: Path, kind: str) -> list[tuple[str | None, str]]:
    with sqlite3.connect(db_path, timeout=10) as conn:
        rows = conn.execute(
            "SELECT channel_id, status FROM outbox WHERE kind = ? ORDER BY id", (kind,)
        )
        return list(rows)


def _env(slack: FakeSlack, database_url: str, port: int, plan: TimePlan) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "MENTOR_TICK_SECONDS": "1",
        "MENTOR_ADMINS": "UADMIN",
        "PORT": str(port),
    }
    env.update(plan.env)
    return env


async def _until(app: AppProcess, what: str, predicate, seconds: float = DEADLINE) -> None:
    """Poll `predicate` (the fake's calls, the database) until true; fail if the app dies."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if app.process.returncode is not None:
            pytest.fail(f"app exited before {what}:\n{app.output}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {seconds}s:\n{app.output[-4000:]}")
        await asyncio.sleep(0.02)


class ServedApp(AppProcess):
    """The app's process, and the HTTP port it was started on."""

    port: int


async def _start(
    slack, db_path, plan, *, database_url: str | None = None, pacing: bool = True
) -> ServedApp:
    """`app.py` in `db_path`'s folder, on that SQLite file or on `database_url` when given;
    `pacing` off: calls do not keep to Slack's rate limits (SLACK_PACING=off)."""
    port = _free_port()
    url = database_url or f"sqlite:///{db_path}"
    env = _env(slack, url, port, plan)
    if not pacing:
        env["SLACK_PACING"] = "off"
    app = await ServedApp.start(db_path.parent, env)
    await app.wait_for_stderr(f"listening on port {port}")
    app.port = port
    return app


def _posts(slack: FakeSlack, marker: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in slack.calls_to("chat.postMessage"):
        if marker in (call.params.get("text") or ""):
            counts[call.params["channel"]] = counts.get(call.params["channel"], 0) + 1
    return counts


def _assert_clean(app: AppProcess) -> None:
    assert "Traceback" not in app.output, app.output
    assert not [line for line in app.stderr if " ERROR " in line], app.output


@pytest.fixture
async def world(tmp_path):
    plan = TimePlan(tmp_path)
    async with SlowSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=plan.now) as slack:
        slack.add_user("UADMIN", tz="UTC")
        for junior, leader in _people():
            slack.add_user(junior, tz=plan.tz, title="Analyst")
            slack.add_user(leader, tz=plan.tz, title="Director")
        yield plan, slack, tmp_path / "mentor.db"


async def _kill_mid_send(app: AppProcess, slack: SlowSlack, db_path: Path, kind: str):
    slack.delays["chat.postMessage"] = POST_DELAY
    await _until(
        app,
        f"{KILL_AFTER} posts",
        lambda: len(slack.calls_to("chat.postMessage")) >= KILL_AFTER,
    )
    await app.kill()  # SIGKILL: no clean-up of any kind runs
    slack.delays.clear()
    statuses = _outbox(db_path, kind)
    assert len(statuses) == PAIRS
    if kind == "intro":
        # The middle: some sent, one posted in Slack but unrecorded, the rest not yet sent
        # (an intro's post is recorded with its pair's bookkeeping, one at a time).
        assert statuses.count("sent") == KILL_AFTER - 1, statuses
        assert statuses.count("sending") == 1, statuses
    else:
        # Plain posts are recorded a batch at a time, so several posts Slack has may be
        # unrecorded: every such row is still "sending" with its channel (searched for
        # before any resend), and no row is recorded as sent that Slack does not have.
        posted = set(_posts(slack, "").keys())
        channels = _outbox_channels(db_path, kind)
        assert {status for channel, status in channels if channel in posted} <= {
            "sent",
            "sending",
        }, channels
        assert all(channel in posted for channel, status in channels if status == "sent")
    assert len(slack.calls_to("chat.postMessage")) == KILL_AFTER


async def admin_match(slack: FakeSlack, port: int) -> None:
    """`/mentor admin match`, signed, to the app on `port`: everyone waiting is paired."""
    body = command_body(
        text="admin match",
        user_id="UADMIN",
        team_id=TEAM_ID,
        response_url=slack.response_url("match"),
    )
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{port}/slack/events",
            data=body,
            headers=signed_headers(SIGNING_SECRET, body),
        ) as answer:
            assert answer.status == 200


async def test_sigkill_while_introducing_then_restart_introduces_each_pair_once(world):
    plan, slack, db_path = world
    _seed_participants(f"sqlite:///{db_path}", plan.tz, plan.now())
    first = await _start(slack, db_path, plan)
    try:
        await admin_match(slack, first.port)
        await _kill_mid_send(first, slack, db_path, "intro")
    finally:
        await first.kill()

    second = await _start(slack, db_path, plan)
    try:
        await _until(
            second, "every intro sent", lambda: _outbox(db_path, "intro") == ["sent"] * PAIRS
        )
        posted = _posts(slack, "Meet your reverse-mentoring pair")
        expected = {slack.conversation_id(j, leader): 1 for j, leader in _people()}
        assert posted == expected
        # The in-doubt row was settled by looking in the channel, not by posting again.
        assert slack.calls_to("conversations.history")
        assert await second.stop() == 0
        _assert_clean(second)
    finally:
        await second.kill()


async def test_sigkill_in_the_middle_of_a_tick_then_restart_prompts_each_pair_once(world):
    plan, slack, db_path = world
    now = plan.now()
    _seed_participants(f"sqlite:///{db_path}", plan.tz, now)
    _seed_active_pairs(db_path, slack, now)
    first = await _start(slack, db_path, plan)
    try:
        await _kill_mid_send(first, slack, db_path, "prompt")
    finally:
        await first.kill()

    second = await _start(slack, db_path, plan)
    try:
        await _until(
            second, "every prompt sent", lambda: _outbox(db_path, "prompt") == ["sent"] * PAIRS
        )
        posted = _posts(slack, "conversation prompt")
        assert posted == {slack.conversation_id(j, leader): 1 for j, leader in _people()}
        assert len(slack.calls_to("chat.postMessage")) == PAIRS  # nothing else, nothing twice
        assert await second.stop() == 0
        _assert_clean(second)
    finally:
        await second.kill()


def test_the_working_zone_is_inside_working_hours():
    monday_noon = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert _working_zone(monday_noon) is not None
    sunday_1am = datetime(2026, 11, 22, 1, 20, tzinfo=UTC)
    assert _working_zone(sunday_1am) is None
    assert date(2026, 11, 22).weekday() == 6
