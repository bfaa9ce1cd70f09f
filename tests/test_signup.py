"""Signup end to end: signed slash command -> views.open -> signed view_submission -> stored."""

from __future__ import annotations

from sqlmodel import select

from handlers.devkit.forms import filled, signup_state
from storage.models import Participant


def _participants(bot) -> list[Participant]:
    return bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Participant)).all()))


async def _open_form(bot, user="U1") -> dict:
    status, body = await bot.command("signup", user=user)
    assert status == 200 and body is None  # acknowledged with nothing to show: the modal opens
    opened = bot.slack.calls_to("views.open")[-1]
    assert opened.params["trigger_id"] == "trig-1"
    return opened.params["view"]


async def test_signup_opens_modal_and_submission_stores_participant(bot):
    view = await _open_form(bot)
    assert view["callback_id"] == "signup"
    assert {b.get("block_id") for b in view["blocks"]} >= {"role", "level", "topics", "goals"}

    status, body = await bot.submit_view(filled(view, signup_state()))

    assert status == 200
    assert body["response_action"] == "update"
    assert "You're in!" in str(body["view"])
    [stored] = _participants(bot)
    assert (stored.team_id, stored.user_id, stored.role, stored.level) == (
        "T0001",
        "U1",
        "junior",
        2,
    )
    assert stored.topics == ["ai", "hybrid"]
    assert stored.timezone == "Europe/London"  # from users.info
    assert stored.title == "Data analyst"
    assert stored.status == "active"
    # The Home tab is redrawn with the new profile.
    assert bot.slack.calls_to("views.publish")[-1].params["user_id"] == "U1"


async def test_rerunning_signup_prefills_and_edits_the_same_record(bot):
    view = await _open_form(bot)
    await bot.submit_view(filled(view, signup_state(department="Finance", topics=("ai",))))

    view = await _open_form(bot)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["department"]["element"]["initial_value"] == "Finance"
    assert [o["value"] for o in blocks["topics"]["element"]["initial_options"]] == ["ai"]
    assert view["submit"]["text"] == "Save"

    status, body = await bot.submit_view(
        filled(view, signup_state(department="Retail", topics=("genz", "career")))
    )
    assert body["response_action"] == "update" and "Profile saved" in str(body["view"])
    [stored] = _participants(bot)
    assert stored.department == "Retail" and stored.topics == ["genz", "career"]


async def test_invalid_answers_come_back_as_field_errors_and_store_nothing(bot):
    view = await _open_form(bot)
    status, body = await bot.submit_view(
        filled(view, signup_state(role=None, level="99", topics=(), goals="   ", manager="U1"))
    )
    assert status == 200
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"role", "level", "topics", "goals", "manager"}
    assert _participants(bot) == []


async def test_oversized_goals_text_is_a_field_error(bot):
    view = await _open_form(bot)
    status, body = await bot.submit_view(filled(view, signup_state(goals="x" * 501)))
    assert body == {
        "response_action": "errors",
        "errors": {"goals": "Please keep your goals under 500 characters (you wrote 501)."},
    }
    assert _participants(bot) == []


async def test_user_unknown_to_users_info_gets_a_clear_answer_and_nothing_is_stored(bot):
    view = await _open_form(bot, user="UGHOST")
    status, body = await bot.submit_view(filled(view, signup_state()), user="UGHOST")
    assert status == 200
    assert body["response_action"] == "update"
    assert "Nothing was saved" in str(body["view"])
    assert _participants(bot) == []


async def test_slow_users_info_keeps_the_modal_open_with_answers(bot):
    view = await _open_form(bot)
    bot.slack.fail_next("users.info", status=503, times=10)
    status, body = await bot.submit_view(filled(view, signup_state()))
    assert (
        body["response_action"] == "errors" and "press the button again" in body["errors"]["role"]
    )
    assert _participants(bot) == []
    # The form survives, so the second press succeeds once Slack is back.
    bot.slack.clear_failures()
    status, body = await bot.submit_view(filled(view, signup_state()))
    assert body["response_action"] == "update"
    assert len(_participants(bot)) == 1


async def test_expired_trigger_tells_the_person_to_try_again(bot):
    status, body = await bot.command("signup", trigger_id="expired")
    assert status == 200
    [reply] = bot.slack.calls_to("response_url")
    assert "run `/mentor signup` again" in reply.params["text"]
