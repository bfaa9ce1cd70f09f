"""Messages typed to the bot get an answer: a person's message in their DM with the bot gets
the `/mentor` help text in that DM, once per event however often Slack delivers it. Nothing
else in a DM is answered, nothing elsewhere is, and the text is never stored or logged."""

from __future__ import annotations

import logging

import pytest

from bot.commands import PARTICIPANT_COMMANDS
from tests.test_manifest import load_manifest

SECRET = "my manager is impossible, please help"  # what the person typed


def said(channel: str, **fields) -> dict:
    """A message.im event as Slack sends it."""
    event = {
        "type": "message",
        "channel": channel,
        "user": "U1",
        "text": SECRET,
        "ts": "1772442000.000100",
        "event_ts": "1772442000.000100",
        "channel_type": "im",
    }
    event.update(fields)
    return {k: v for k, v in event.items() if v is not None}


def answers(bot, channel: str) -> list:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


async def test_a_message_to_the_bot_is_answered_with_the_help_in_that_dm(bot, caplog):
    dm = bot.slack.open_dm("U1")
    assert await bot.event(said(dm), event_id="EvDM1") == 200
    [answer] = bot.slack.calls_to("chat.postMessage")
    assert answer.params["channel"] == dm and "thread_ts" not in answer.params
    shown = str(answer.params["blocks"])
    # The same command list as /mentor help, every participant command in it.
    assert all(spec.usage in shown for spec in PARTICIPANT_COMMANDS)
    assert "/mentor admin help" in shown
    assert "/mentor" in answer.params["text"]
    # What they wrote is neither repeated nor logged.
    assert SECRET not in str(answer.params)
    assert not [r for r in caplog.records if SECRET in r.getMessage()]


async def test_a_retried_delivery_answers_once(bot):
    dm = bot.slack.open_dm("U1")
    assert await bot.event(said(dm), event_id="EvDM2") == 200
    assert await bot.event(said(dm), event_id="EvDM2", retry_num=1) == 200
    assert await bot.event(said(dm), event_id="EvDM2", retry_num=2) == 200
    assert len(answers(bot, dm)) == 1
    # A second message is a new event and gets its own answer.
    await bot.event(said(dm, ts="1772442060.000100"), event_id="EvDM3")
    assert len(answers(bot, dm)) == 2


async def test_a_reply_in_a_thread_is_answered_in_that_thread(bot):
    dm = bot.slack.open_dm("U1")
    await bot.event(said(dm, thread_ts="1772441000.000100"), event_id="EvDM4")
    [answer] = answers(bot, dm)
    assert answer.params["thread_ts"] == "1772441000.000100"


@pytest.mark.parametrize(
    "fields",
    [
        dict(user="UBOT", bot_id="BBOT"),  # the bot's own post in the DM
        dict(user="UOTHER", bot_id="BOTHER"),  # any other bot's
        dict(subtype="bot_message", user=None, bot_id="BOTHER"),
        dict(subtype="message_changed", user=None, message={"user": "U1", "text": SECRET}),
        dict(subtype="message_deleted", user=None),
        dict(subtype="channel_join"),
        dict(subtype="file_share"),
        dict(subtype="thread_broadcast"),
        dict(user=None),
    ],
)
async def test_edits_joins_bots_and_other_subtypes_get_no_answer(bot, fields):
    dm = bot.slack.open_dm("U1")
    assert await bot.event(said(dm, **fields), event_id="EvDM5") == 200
    assert bot.slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("channel_type", ["channel", "group", "mpim", "app_home", None])
async def test_messages_in_other_kinds_of_conversation_get_no_answer(bot, channel_type):
    bot.slack.add_channel("C0TEAM")
    group = bot.slack.conversation_id("U1", "U2")
    channel = {"channel": "C0TEAM", "group": "C0TEAM", "mpim": group}.get(channel_type, "C0TEAM")
    event = said(channel, channel_type=channel_type)
    assert await bot.event(event, event_id="EvDM6") == 200
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_slack_refusing_the_answer_is_a_warning_without_the_text(bot, caplog):
    dm = bot.slack.open_dm("U1")
    bot.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    assert await bot.event(said(dm), event_id="EvDM7") == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "could not answer a direct message: channel_not_found" in warnings
    assert not [r for r in caplog.records if SECRET in r.getMessage()]


def test_the_manifest_subscribes_to_dms_and_lets_people_write_in_them():
    manifest = load_manifest()
    assert "message.im" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert "im:history" in manifest["oauth_config"]["scopes"]["bot"]
    home = manifest["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is False
