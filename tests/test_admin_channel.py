"""The admin channel must be private: summaries and alerts name stalled pairs.

The pure rule (bot/admin_channel), then the settings form through signed requests against
the fake Slack. Start-up (MENTOR_ADMIN_CHANNEL) is tested on the real process in
tests/test_process.py.
"""

from __future__ import annotations

import pytest

from bot.admin_channel import ChannelProblem, admin_channel_problem
from bot.cadence import ProgramSettings
from handlers.devkit.forms import filled
from tests.test_settings_modal import open_settings, settings_state, stored

INVITE_TEXT = "Invite me first: /invite @Reverse Mentor in that channel, then save again."
UNANSWERED_TEXT = "Slack didn't answer, nothing was saved; press Save again."

# --- The rule -------------------------------------------------------------------------------


def test_a_private_channel_in_use_that_the_bot_is_in_will_do():
    assert admin_channel_problem(is_private=True, is_archived=False, is_member=True) is None


@pytest.mark.parametrize(
    ("said", "kind", "refused"),
    [
        (dict(is_private=False, is_archived=False, is_member=True), "public", True),
        (dict(is_private=False, is_archived=True, is_member=False), "public", True),
        (dict(is_private=None), "public", True),  # Slack did not say: not known to be private
        (dict(is_private=True, is_archived=True, is_member=True), "archived", True),
        (dict(is_private=True, is_archived=False, is_member=False), "invite", False),
        (dict(error="channel_not_found"), "invite", False),
        (dict(error="timeout", transient=True), "unanswered", False),
        (dict(error="ratelimited", transient=True), "unanswered", False),
        (dict(error="missing_scope"), "unreadable", False),
    ],
)
def test_what_is_wrong_and_whether_it_is_refused(said, kind, refused):
    for setting in (None, "MENTOR_ADMIN_CHANNEL (C0ADMIN)"):
        problem = admin_channel_problem(**said, setting=setting)
        assert problem is not None
        assert (problem.kind, problem.refused) == (kind, refused)


def _text(problem: ChannelProblem | None) -> str:
    assert problem is not None, "the channel was found fit"
    return problem.text


def test_the_form_texts_say_why_and_what_to_do():
    public = admin_channel_problem(is_private=False, is_archived=False, is_member=True)
    assert public is not None
    assert "public" in public.text and "name stalled pairs" in public.text
    assert "must be private" in public.text
    archived = admin_channel_problem(is_private=True, is_archived=True, is_member=True)
    assert archived is not None
    assert "archived" in archived.text
    assert _text(admin_channel_problem(error="channel_not_found")) == INVITE_TEXT
    assert _text(admin_channel_problem(error="timeout", transient=True)) == UNANSWERED_TEXT
    assert "missing_scope" in _text(admin_channel_problem(error="missing_scope"))


def test_the_start_up_texts_name_the_setting():
    setting = "MENTOR_ADMIN_CHANNEL (C0ADMIN)"
    public = admin_channel_problem(is_private=False, setting=setting)
    assert public is not None
    assert public.text.startswith(f"{setting} is a public channel")
    assert "private channel's ID" in public.text
    hidden = admin_channel_problem(error="channel_not_found", setting=setting)
    assert hidden is not None
    assert setting in hidden.text and "/invite @Reverse Mentor" in hidden.text


# --- The settings form ----------------------------------------------------------------------


async def _save_channel(bot, channel: str | None, **changes):
    view = await open_settings(bot)
    status, body = await bot.submit_view(
        filled(view, settings_state(admin_channel=channel, **changes)), user="UADMIN"
    )
    assert status == 200
    return body


async def test_the_picker_offers_private_channels_only(bot):
    view = await open_settings(bot)
    [block] = [b for b in view["blocks"] if b.get("block_id") == "admin_channel"]
    assert block["element"]["filter"]["include"] == ["private"]


async def test_a_public_channel_is_refused_and_nothing_is_saved(bot):
    bot.slack.add_channel("C0PUBLIC", name="general")
    body = await _save_channel(bot, "C0PUBLIC", cadence_days="10")
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["admin_channel"]
    assert "public" in body["errors"]["admin_channel"]
    assert "must be private" in body["errors"]["admin_channel"]
    assert stored(bot) == ProgramSettings()
    [asked] = bot.slack.calls_to("conversations.info")
    assert asked.params["channel"] == "C0PUBLIC"


async def test_an_archived_channel_is_refused(bot):
    bot.slack.add_channel("C0OLD", is_private=True, is_archived=True)
    body = await _save_channel(bot, "C0OLD")
    assert body["response_action"] == "errors"
    assert "archived" in body["errors"]["admin_channel"]
    assert stored(bot) == ProgramSettings()


async def test_a_private_channel_without_the_bot_asks_for_an_invitation(bot):
    channel = bot.slack.add_channel("C0SECRET", is_private=True, bot_is_member=False)
    body = await _save_channel(bot, "C0SECRET")
    assert body == {"response_action": "errors", "errors": {"admin_channel": INVITE_TEXT}}
    assert stored(bot) == ProgramSettings()

    channel["is_member"] = True  # the admin typed /invite @Reverse Mentor
    body = await _save_channel(bot, "C0SECRET")
    assert body["response_action"] == "update"
    assert stored(bot).admin_channel == "C0SECRET"


async def test_slack_not_answering_saves_nothing_within_the_ack_window(bot, timer):
    bot.slack.add_channel("C0PRIVATE", is_private=True)
    bot.slack.fail_next("conversations.info", status=503, times=20)
    body = await _save_channel(bot, "C0PRIVATE")
    assert body == {"response_action": "errors", "errors": {"admin_channel": UNANSWERED_TEXT}}
    assert stored(bot) == ProgramSettings()
    # The retries stop at the call's small budget, well inside Slack's 3 s.
    assert 0 < timer.elapsed <= 1.5


async def test_a_private_channel_the_bot_is_in_is_saved(bot):
    bot.slack.add_channel("C0PRIVATE", is_private=True)
    body = await _save_channel(bot, "C0PRIVATE")
    assert body["response_action"] == "update"
    assert "<#C0PRIVATE>" in str(body["view"]["blocks"])
    assert stored(bot).admin_channel == "C0PRIVATE"


async def test_the_channel_error_comes_with_the_other_field_errors(bot):
    bot.slack.add_channel("C0PUBLIC")
    body = await _save_channel(bot, "C0PUBLIC", cadence_days="3")
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"cadence_days", "admin_channel"}


async def test_no_channel_asks_slack_nothing(bot):
    body = await _save_channel(bot, None)
    assert body["response_action"] == "update"
    assert bot.slack.calls_to("conversations.info") == []
