"""A slash command whose answer is slow (a busy database) is acknowledged in time with a short
note, and its answer replaces the note once it is ready; a quick one is answered directly."""

from __future__ import annotations

import asyncio

from handlers.core.mentor import STILL_WORKING
from handlers.devkit.driver import SIGNING_SECRET, TEAM_ID
from handlers.devkit.signing import command_body, signed_headers
from handlers.profile import listeners as profile_listeners
from tests.test_guides_flow import junior, sign_up

FORM = "application/x-www-form-urlencoded"


def held_status_read(monkeypatch) -> asyncio.Event:
    """`/mentor status`'s database read answers only once the returned event is set (as
    when the database is stuck behind a long write elsewhere)."""
    release = asyncio.Event()
    view_of = profile_listeners.view_of

    async def held(*args, **kwargs):
        await release.wait()
        return await view_of(*args, **kwargs)

    monkeypatch.setattr(profile_listeners, "view_of", held)
    return release


async def test_a_slow_answer_is_preceded_by_a_note_and_then_replaces_it(bot, monkeypatch):
    await sign_up(bot, "UJ1", junior())
    bot.runtime.deps.still_working_after = 0.05
    release = held_status_read(monkeypatch)
    # The request as Slack sends it, read as soon as it is answered (the driver's command()
    # would also wait for the work it started). Slack gives up after 3 s: without the note
    # the answer would wait for the database.
    body = command_body(
        text="status",
        user_id="UJ1",
        team_id=TEAM_ID,
        trigger_id="trig-slow",
        response_url=bot.slack.response_url("slow"),
    )
    headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
    async with asyncio.timeout(5):
        response = await bot.client.post("/slack/events", data=body, headers=headers)
        answer = await response.json()
    assert response.status == 200
    assert answer["text"] == STILL_WORKING
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
