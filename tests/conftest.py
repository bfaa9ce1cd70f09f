from __future__ import annotations

import logging

import pytest

from handlers.devkit.driver import (
    BOT_TOKEN,
    TEAM_ID,
    Clock,
    FakeTimer,
    make_oauth_settings,
    make_settings,
    start_driver,
    stop_driver,
)
from handlers.devkit.fake_slack import FakeSlack


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


@pytest.fixture
async def slack(clock):
    async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock) as fake:
        fake.add_user("U1", tz="Europe/London", title="Data analyst")
        fake.add_user("U2", tz="America/New_York", title="Chief Operating Officer")
        fake.add_user("UADMIN", tz="Europe/Paris", title="L&D lead")
        fake.add_user("UOWNER", tz="Europe/Paris", is_owner=True)
        yield fake


@pytest.fixture
def database_path(tmp_path):
    return tmp_path / "mentor.db"


@pytest.fixture
async def bot(slack, database_path, clock, timer, caplog):
    caplog.set_level(logging.INFO)
    driver = await start_driver(
        make_settings(slack, database_path), slack, clock=clock, timer=timer
    )
    yield driver
    await stop_driver(driver)
    # A listener that raised is logged by Bolt, not raised: make it fail the test.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
async def oauth_bot(slack, database_path, clock, timer, caplog):
    """The app serving many workspaces by OAuth (no bot token, no MENTOR_ADMINS); nothing is
    installed yet: `await oauth_bot.install(team)`."""
    caplog.set_level(logging.INFO)
    driver = await start_driver(
        make_oauth_settings(slack, database_path), slack, clock=clock, timer=timer
    )
    yield driver
    await stop_driver(driver)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
