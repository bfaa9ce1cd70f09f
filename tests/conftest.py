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
from tests.kit.databases import (
    DIALECTS,
    fresh_postgresql_database,
    migrated_postgresql_template,  # noqa: F401  (fixture)
    postgresql_summary,
    unreachable_server,
)


def pytest_sessionstart(session: pytest.Session) -> None:
    if problem := unreachable_server():
        pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.write_line(postgresql_summary(terminalreporter.stats))


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


@pytest.fixture(params=DIALECTS)
def database_url(request, tmp_path):
    """The database the `bot` serves, migrated: every end-to-end test runs on a new SQLite
    file, then on a fresh PostgreSQL database when TEST_DATABASE_URL names a server.
    (tests.kit.databases.database_url_fixture, imported into a module, gives empty ones.)"""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mentor.db'}"
        return
    template = request.getfixturevalue("migrated_postgresql_template")
    with fresh_postgresql_database(template=template) as url:
        yield url


@pytest.fixture
def sqlite_path(tmp_path):
    """For the tests that reach into the SQLite file itself (its locks, its bytes)."""
    return tmp_path / "mentor.db"


@pytest.fixture
async def bot(slack, database_url, clock, timer, caplog):
    caplog.set_level(logging.INFO)
    driver = await start_driver(make_settings(slack, database_url), slack, clock=clock, timer=timer)
    yield driver
    await stop_driver(driver)
    # A listener that raised is logged by Bolt, not raised: make it fail the test.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
async def oauth_bot(slack, database_url, clock, timer, caplog):
    """The app serving many workspaces by OAuth (no bot token, no MENTOR_ADMINS); nothing is
    installed yet: `await oauth_bot.install(team)`."""
    caplog.set_level(logging.INFO)
    driver = await start_driver(
        make_oauth_settings(slack, database_url), slack, clock=clock, timer=timer
    )
    yield driver
    await stop_driver(driver)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
