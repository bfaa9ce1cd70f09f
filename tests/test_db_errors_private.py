"""A database error never puts what people wrote into the logs, and the person is told, in the
form, that nothing was saved. Its own driver: the `bot` fixture fails a test on any ERROR log,
and this test makes one on purpose."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing

from sqlmodel import select

from handlers.devkit.driver import make_settings, start_driver, stop_driver
from handlers.devkit.forms import filled, signup_state
from storage.models import Participant

GOALS = "Private goal: get Ottilie Quarrington's team ready for the merger"
DEPARTMENT = "Zanzibar Mergers Unit"


def _participants(driver) -> list[Participant]:
    return driver.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Participant)).all()))


async def _submit_signup(driver) -> dict:
    await driver.command("signup", user="U1")
    view = driver.slack.calls_to("views.open")[-1].params["view"]
    state = signup_state(goals=GOALS, department=DEPARTMENT)
    status, body = await driver.submit_view(filled(view, state), user="U1")
    assert status == 200
    return body


async def test_a_failed_signup_logs_no_personal_data_and_saves_nothing(
    slack, sqlite_path, clock, timer, caplog
):
    caplog.set_level(logging.DEBUG)  # as much as LOG_LEVEL can ask for
    driver = await start_driver(make_settings(slack, sqlite_path), slack, clock=clock, timer=timer)
    try:
        with closing(sqlite3.connect(sqlite_path)) as raw:  # refuse every new participant
            raw.execute(
                "CREATE TRIGGER refuse_signups BEFORE INSERT ON participant "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        body = await _submit_signup(driver)
        assert body["response_action"] == "errors"
        [message] = body["errors"].values()
        assert "nothing was saved" in message and "press the button again" in message
        assert _participants(driver) == []
        # It failed loudly (an operator sees it), and without the person's words.
        assert any(r.levelno >= logging.ERROR for r in caplog.records)
        assert "refused by the test" in caplog.text
        for record in caplog.records:
            logged = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
            assert GOALS not in logged and DEPARTMENT not in logged, record.name
        assert GOALS not in caplog.text and DEPARTMENT not in caplog.text

        # Pressing again once the database is back saves it.
        with closing(sqlite3.connect(sqlite_path)) as raw:
            raw.execute("DROP TRIGGER refuse_signups")
        body = await _submit_signup(driver)
        assert body["response_action"] == "update"
        [stored] = _participants(driver)
        assert stored.goals == GOALS
        assert GOALS not in caplog.text
    finally:
        await stop_driver(driver)
