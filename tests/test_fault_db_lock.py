"""Another writer holds the database (BEGIN IMMEDIATE) for a second: handlers wait for the
lock (busy_timeout) and then succeed, nothing is lost, and the event loop keeps answering."""

from __future__ import annotations

import asyncio
import sqlite3

from sqlmodel import select

from handlers.devkit.driver import SIGNING_SECRET, TEAM_ID
from handlers.devkit.forms import filled, signup_state
from handlers.devkit.signing import command_body, signed_headers
from storage.models import Participant
from tests.kit.databases import sqlite_only

LOCK_SECONDS = 1.0  # well below the 10 s busy_timeout and Slack's 3 s for an answer


def _participants(bot) -> dict[str, str]:
    return bot.runtime.deps.db.run_sync(
        lambda s: {p.user_id: p.status for p in s.exec(select(Participant)).all()}
    )


async def _signup_view(bot, user: str) -> dict:
    await bot.command("signup", user=user)
    return bot.slack.calls_to("views.open")[-1].params["view"]


@sqlite_only
async def test_writes_wait_for_a_locked_database_and_the_loop_stays_free(bot, sqlite_path):
    view = await _signup_view(bot, "U2")
    await bot.submit_view(filled(view, signup_state(role="leader", level="5")), user="U2")
    view = await _signup_view(bot, "U1")
    assert _participants(bot) == {"U2": "active"}

    other = sqlite3.connect(sqlite_path, timeout=5, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, held by someone else
    try:
        submit = asyncio.ensure_future(bot.submit_view(filled(view, signup_state()), user="U1"))
        pause = asyncio.ensure_future(bot.command("pause", user="U2"))
        # /mentor help needs no database: it is answered while the writes wait.
        body = command_body(text="help", user_id="U1", team_id=TEAM_ID, response_url="")
        answer = await bot.client.post(
            "/slack/events", data=body, headers=signed_headers(SIGNING_SECRET, body)
        )
        assert answer.status == 200 and "/mentor signup" in await answer.text()
        # Answered while both writes still wait for the lock: the loop was never blocked.
        assert not submit.done() and not pause.done()
        # A health probe reads without queueing for the write lock either.
        assert await asyncio.to_thread(bot.runtime.deps.db.ping)
        # The writes are still waiting while the lock is held.
        done, _ = await asyncio.wait({submit, pause}, timeout=LOCK_SECONDS)
        assert not done, "a write went through while another connection held the lock"
    finally:
        other.execute("ROLLBACK")
        other.close()
    submit_status, submitted = await submit
    pause_status, paused = await pause
    assert submit_status == 200 and submitted["response_action"] == "update", submitted
    assert pause_status == 200 and paused["text"].startswith("Paused"), paused
    assert _participants(bot) == {"U2": "paused", "U1": "active"}
