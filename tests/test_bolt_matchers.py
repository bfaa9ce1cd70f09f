"""Every built-in listener matcher of the app app.py builds is called with the body alone
(handlers/core/bolt.py), and requests still reach the listener they are for."""

from __future__ import annotations

from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher

from tests.test_guides_flow import junior, sign_up


async def test_no_listener_builds_every_argument_to_match_a_request(bot):
    listeners = bot.runtime.bolt._async_listeners
    generic = [
        m
        for listener in listeners
        for m in listener.matchers
        if type(m) is AsyncBuiltinListenerMatcher and m.arg_names == ["body"]
    ]
    assert listeners and generic == []
    # Routing is unchanged: a command, an action and an event each reach their listener.
    await sign_up(bot, "UJ1", junior())
    status, body = await bot.command("status", user="UJ1")
    assert body["text"] == "Your Reverse Mentor status"
    status, body = await bot.command("nonsense", user="UJ1")
    assert body["text"] == "Reverse Mentor commands"
