"""A slash command whose answer is slow (a busy database) is acknowledged in time with a short
note, and its answer replaces the note once it is ready; a quick one is answered directly."""

from __future__ import annotations

import asyncio

from handlers.core.mentor import STILL_WORKING
from tests.test_guides_flow import junior, sign_up


def held_reads(bot) -> asyncio.Event:
    """The database answers reads only once the returned event is set (as when stuck
    behind a long write elsewhere)."""
    db = bot.runtime.deps.db
    read, release = db.read, asyncio.Event()

    async def held(work):
        await release.wait()
        return await read(work)

    db.read = held
    return release


async def test_a_slow_answer_is_preceded_by_a_note_and_then_replaces_it(bot):
    await sign_up(bot, "UJ1", junior())
    bot.runtime.deps.still_working_after = 0.05
    release = held_reads(bot)
    # Slack gives up after 3 s; without the note the ack would wait for the database.
    status, body = await asyncio.wait_for(bot.command("status", user="UJ1"), timeout=5)
    assert status == 200
    assert body["text"] == STILL_WORKING
    assert not [c for c in bot.slack.calls_to("response_url") if "status" in str(c.params)]
    release.set()
    await bot.settle()
    [late] = bot.slack.calls_to("response_url")[-1:]
    assert late.params["replace_original"] is True
    assert late.params["response_type"] == "ephemeral"
    assert late.params["text"] == "Your Reverse Mentor status"
    assert late.params["blocks"]


async def test_a_quick_answer_is_the_acknowledgement_itself(bot):
    await sign_up(bot, "UJ1", junior())
    bot.runtime.deps.still_working_after = 2.0
    before = len(bot.slack.calls_to("response_url"))
    status, body = await bot.command("status", user="UJ1")
    assert body["text"] == "Your Reverse Mentor status" and body["blocks"]
    await bot.settle()
    assert len(bot.slack.calls_to("response_url")) == before
