"""Slack delivers an event again when our answer was slow (X-Slack-Retry-Num 1, 2), and people
press buttons twice: each is applied once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from storage.models import FitAnswer, HeldSession, PulseSurvey
from tests.test_pulse import PEOPLE as PULSE_PEOPLE
from tests.test_pulse import all_surveys, ratings, react, unreact
from tests.test_rhythm_flow import PEOPLE, at, pairs_by_mentor, posts, run_tick, sign_up

RETRIES = (None, 1, 2)  # the first delivery, then Slack's two retries


@pytest.fixture
async def program(bot):
    """Two pairs introduced on Monday 2 March 2026 at 09:00 (as in test_rhythm_flow)."""
    for user, (tz, answers) in PEOPLE.items():
        await sign_up(bot, user, tz, answers)
    await bot.command("admin match", user="UADMIN")
    return bot


@pytest.fixture
async def survey(bot, clock) -> PulseSurvey:
    """UJ1 and UL1's pulse after the session UJ1 logs on 4 March (as in test_pulse)."""
    for user, answers in PULSE_PEOPLE.items():
        await sign_up(bot, user, "Europe/London", answers)
    await bot.command("admin match", user="UADMIN")
    clock.now = at("2026-03-04 10:00")
    await bot.command("met", user="UJ1")
    [posted] = all_surveys(bot)
    return posted


async def deliver_thrice(bot, clock, event: dict, event_id: str) -> None:
    """The same event, as Slack retries it: the same ID, later each time."""
    for retry_num in RETRIES:
        assert await bot.event(event, event_id=event_id, retry_num=retry_num) == 200
        clock.advance(minutes=1)


async def test_app_home_opened_delivered_three_times_publishes_once(bot, clock):
    event = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    await deliver_thrice(bot, clock, event, "EvHome1")
    assert len(bot.slack.calls_to("views.publish")) == 1
    # A new opening (a new event ID) publishes again.
    assert await bot.event(event, event_id="EvHome2") == 200
    assert len(bot.slack.calls_to("views.publish")) == 2


async def test_a_group_dm_message_delivered_three_times_counts_once(program, clock):
    bot = program
    pair = pairs_by_mentor(bot)["UJ2"]
    clock.now = at("2026-03-20 10:00")
    event = {
        "type": "message",
        "channel": pair.dm_channel_id,
        "channel_type": "mpim",
        "user": "UL2",
        "text": "See you Thursday",
        "ts": "1774000000.000100",
    }
    await deliver_thrice(bot, clock, event, "EvMsgDup")
    # The retries came later, but the activity is the first delivery's moment.
    assert pairs_by_mentor(bot)["UJ2"].last_activity_at == at("2026-03-20 10:00")


async def test_reactions_added_and_removed_delivered_again_apply_once(bot, clock, survey):
    two = await react(bot, survey, "UJ1", "two")
    four = await react(bot, survey, "UJ1", "four")
    for retry in (1, 2):
        await react(bot, survey, "UJ1", "two", event_id=two, retry_num=retry)
    assert ratings(bot, survey) == {"UJ1": 4}

    removed = await unreact(bot, survey, "UJ1", "four")
    assert ratings(bot, survey) == {}
    for retry in (1, 2):  # a late retry of the "four" added before must not bring it back
        await react(bot, survey, "UJ1", "four", event_id=four, retry_num=retry)
    assert ratings(bot, survey) == {}

    await react(bot, survey, "UL1", "five")
    again = await react(bot, survey, "UJ1", "three")
    for retry in (1, 2):  # nor a retried removal take away the answer given since
        await unreact(bot, survey, "UJ1", "four", event_id=removed, retry_num=retry)
        await react(bot, survey, "UJ1", "three", event_id=again, retry_num=retry)
    assert ratings(bot, survey) == {"UJ1": 3, "UL1": 5}


async def test_we_met_pressed_twice_logs_one_session(program, clock):
    bot = program
    pair = pairs_by_mentor(bot)["UJ1"]
    clock.now = datetime(2026, 3, 17, 9, 0, tzinfo=UTC)  # the day after the proposed session
    await run_tick(bot)
    [checkin] = [c for c in posts(bot, pair.dm_channel_id) if "checkin_met" in str(c.params)]
    value = next(
        e["value"]
        for b in checkin.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "checkin_met"
    )
    first_press = clock.now
    for _ in range(2):
        await bot.click_in_message(checkin, "checkin_met", user="UL1", value=value)
        clock.advance(minutes=5)  # the second press comes later: it must change nothing
    held = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(HeldSession)).all()))
    assert [(h.pair_id, h.logged_by) for h in held] == [(pair.id, "UL1")]
    assert held[0].held_on == pair.next_session_on == date(2026, 3, 16)
    assert held[0].logged_at == first_press
    assert pairs_by_mentor(bot)["UJ1"].last_activity_at == first_press


async def test_a_fit_answer_pressed_twice_is_recorded_and_reported_once(program, clock):
    bot = program
    await bot.command("met", user="UJ1")
    leader_dm = bot.slack.conversation_id("UL1")
    [fit_survey] = [c for c in posts(bot) if c.params["channel"] == leader_dm]
    pair_id = fit_survey.params["blocks"][-1]["elements"][1]["value"]
    container = {"type": "message", "channel_id": leader_dm, "message_ts": "1"}
    first_press = clock.now
    for _ in range(2):
        await bot.click("fit_poor", user="UL1", container=container, value=pair_id)
        clock.advance(minutes=5)
    answers = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(FitAnswer)).all()))
    assert [(a.user_id, a.good_fit, a.answered_at) for a in answers] == [
        ("UL1", False, first_press)
    ]
    admin_dm = bot.slack.conversation_id("UADMIN")
    told = [c for c in posts(bot, admin_dm) if "not a good fit" in c.params["text"]]
    assert len(told) == 1
