"""Events: App Home, and retried deliveries applied once."""

from __future__ import annotations


def _home_opened(user="U1"):
    return {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}


async def test_home_tab_published_for_a_newcomer_with_a_signup_button(bot):
    status = await bot.event(_home_opened(), event_id="Ev100")
    assert status == 200
    [call] = bot.slack.calls_to("views.publish")
    assert call.params["user_id"] == "U1"
    assert call.params["view"]["type"] == "home"
    assert "open_signup" in str(call.params["view"])


async def test_repeated_event_delivery_is_applied_once(bot):
    assert await bot.event(_home_opened(), event_id="Ev200") == 200
    assert await bot.event(_home_opened(), event_id="Ev200", retry_num=1) == 200
    assert await bot.event(_home_opened(), event_id="Ev200", retry_num=2) == 200
    assert len(bot.slack.calls_to("views.publish")) == 1
    # A different event ID is new work.
    await bot.event(_home_opened(), event_id="Ev201")
    assert len(bot.slack.calls_to("views.publish")) == 2


async def test_messages_tab_opening_publishes_nothing(bot):
    event = dict(_home_opened(), tab="messages")
    assert await bot.event(event, event_id="Ev300") == 200
    assert bot.slack.calls_to("views.publish") == []


async def test_home_buttons_pause_resume_and_edit(bot):
    from handlers.devkit.forms import filled, signup_state

    await bot.click("open_signup")
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    await bot.submit_view(filled(view, signup_state()))
    await bot.click("pause_participation")
    home = bot.slack.calls_to("views.publish")[-1].params["view"]
    assert "resume_participation" in str(home) and "paused" in str(home)
    await bot.click("resume_participation")
    home = bot.slack.calls_to("views.publish")[-1].params["view"]
    assert "pause_participation" in str(home)
    await bot.click("leave_confirm")
    home = bot.slack.calls_to("views.publish")[-1].params["view"]
    assert "Sign up" in str(home) and "pause_participation" not in str(home)
