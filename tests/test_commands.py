"""The /mentor grammar through the real HTTP path: every answer is ephemeral and kind."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.devkit.forms import filled, signup_state
from storage.models import Participant


async def _sign_up(bot, user="U1", **answers):
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update"


def _participant(bot, user="U1") -> Participant:
    """The person's row, which every caller expects to be there (a leaver's row stays)."""
    row = bot.runtime.deps.db.run_sync(
        lambda s: s.exec(select(Participant).where(Participant.user_id == user)).first()
    )
    assert row is not None, f"no participant row for {user}"
    return row


@pytest.mark.parametrize("text", ["", "help", "  HELP  "])
async def test_help_lists_the_commands(bot, text):
    status, body = await bot.command(text)
    assert status == 200
    assert body["response_type"] == "ephemeral"
    listing = str(body["blocks"])
    for usage in ("/mentor signup", "/mentor status", "/mentor pause", "/mentor leave"):
        assert usage in listing
    assert "I don't know" not in listing


@pytest.mark.parametrize("text", ["dance", "sign up please", "<!channel> hi", "💥" * 300])
async def test_garbage_gets_help_not_an_error(bot, text):
    status, body = await bot.command(text)
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert "I don't know" in str(body["blocks"])
    assert "<!channel>" not in str(body)  # people's text is escaped, never a live mention
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_status_before_and_after_signup(bot):
    status, body = await bot.command("status")
    assert "not signed up yet" in str(body["blocks"])
    await _sign_up(bot, department="Finance & <Risk>")
    status, body = await bot.command("status")
    text = str(body["blocks"])
    assert "active" in text and "Digital trends & AI and Hybrid & flexible work" in text
    assert "Finance &amp; &lt;Risk&gt;" in text


async def test_pause_and_resume(bot):
    status, body = await bot.command("pause")
    assert "not signed up" in body["text"]
    await _sign_up(bot)
    status, body = await bot.command("pause")
    assert body["response_type"] == "ephemeral" and "Paused" in body["text"]
    assert _participant(bot).status == "paused"
    status, body = await bot.command("resume")
    assert "Welcome back" in body["text"]
    assert _participant(bot).status == "active"


async def test_leave_asks_first_then_deletes_profile_data(bot):
    await _sign_up(bot, manager="U2")
    status, body = await bot.command("leave")
    assert "Are you sure?" in str(body["blocks"])
    assert _participant(bot).status == "active"  # asking changes nothing

    await bot.click("leave_confirm", container={"type": "message", "message_ts": "1.2"})

    gone = _participant(bot)
    assert gone.status == "left" and gone.left_at is not None
    assert (gone.goals, gone.topics, gone.department, gone.manager_id) == (None, [], None, None)
    reply = bot.slack.calls_to("response_url")[-1]
    assert reply.params["replace_original"] is True and "left the program" in reply.params["text"]
    status, body = await bot.command("status")
    assert "not signed up" in str(body["blocks"])


async def test_staying_changes_nothing(bot):
    await _sign_up(bot)
    await bot.command("leave")
    await bot.click("leave_cancel", container={"type": "message", "message_ts": "1.2"})
    assert _participant(bot).status == "active"
    assert "staying" in bot.slack.calls_to("response_url")[-1].params["text"]


async def test_signing_up_again_after_leaving_starts_fresh(bot):
    await _sign_up(bot)
    await bot.command("leave")
    await bot.click("leave_confirm", container={"type": "message", "message_ts": "1.2"})
    await bot.command("signup")
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    department = next(b for b in view["blocks"] if b.get("block_id") == "department")
    assert "initial_value" not in department["element"]  # deleted data is not pre-filled
    await bot.submit_view(filled(view, signup_state(department="Legal")))
    assert _participant(bot).status == "active" and _participant(bot).department == "Legal"


@pytest.mark.parametrize("text", ["admin", "admin participants", "admin match", "admin nuke all"])
async def test_non_admin_is_refused_politely_and_nothing_changes(bot, text):
    await _sign_up(bot)
    before = _participant(bot).model_dump()
    status, body = await bot.command(text, user="U1")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert "for the program's admins" in str(body["blocks"])
    assert _participant(bot).model_dump() == before


async def test_admin_from_settings_and_workspace_owner_may_run_admin_commands(bot):
    await _sign_up(bot)
    await _sign_up(bot, user="U2", role="leader", level="6")
    for admin in ("UADMIN", "UOWNER"):
        status, body = await bot.command("admin participants", user=admin)
        text = str(body["blocks"])
        assert "*Junior*: 1 active" in text and "*Leader*: 1 active" in text


async def test_admin_help_and_unknown_admin_command(bot):
    status, body = await bot.command("admin", user="UADMIN")
    assert "/mentor admin participants" in str(body["blocks"])
    status, body = await bot.command("admin frobnicate", user="UADMIN")
    assert "I don't know the admin command `frobnicate`" in str(body["blocks"])
