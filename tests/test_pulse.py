"""Pulse surveys end to end: posted with the scale seeded, answered by reactions and buttons.

Everything goes through signed requests into the real app against the fake Slack, on the
controllable clock; the pure rules of bot/pulse.py are tested at the bottom.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot import pulse
from bot.cadence import ProgramSettings
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from handlers.pulse.listeners import on_reaction
from handlers.pulse.messages import seed_reactions
from storage import pulse as surveys
from storage.db import Database, make_engine
from storage.models import OutboxMessage, Pair, ProcessedEvent, PulseResponse, PulseSurvey
from tests.test_query_plans import assert_searches_by_index, captured_select, query_plan

LONDON = "Europe/London"
PEOPLE = {
    "UJ1": SignupAnswers(role="junior", level="1", department="Finance", topics=("ai", "hybrid")),
    "UL1": SignupAnswers(role="leader", level="6", department="Ops", topics=("ai", "hybrid")),
}
SCALE_NAMES = ["one", "two", "three", "four", "five"]
_event_ids = itertools.count(1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


def run(bot, work):
    return bot.runtime.deps.db.run_sync(work)


def all_surveys(bot) -> list[PulseSurvey]:
    return run(bot, lambda s: list(s.exec(select(PulseSurvey).order_by(col(PulseSurvey.id))).all()))


def ratings(bot, survey: PulseSurvey) -> dict[str, int]:
    rows = run(
        bot,
        lambda s: s.exec(
            select(PulseResponse.user_id, PulseResponse.rating).where(
                PulseResponse.survey_id == survey.id
            )
        ).all(),
    )
    return dict(rows)


def pulse_keys(bot) -> list[str]:
    query = (
        select(OutboxMessage.key)
        .where(OutboxMessage.kind == "pulse")
        .order_by(col(OutboxMessage.id))
    )
    return run(bot, lambda s: list(s.exec(query).all()))


def pulse_posts(bot, channel: str):
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == channel and pulse.QUESTION in c.params["text"]
    ]


def reaction_event(user: str, name: str, channel: str, ts: str, *, added: bool = True) -> dict:
    return {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user,
        "reaction": name,
        "item_user": "UBOT",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": "1772442000.000200",
    }


async def react(bot, survey, user, name, *, added=True, event_id=None, retry_num=None, ts=None):
    event = reaction_event(user, name, survey.channel_id, ts or survey.ts, added=added)
    event_id = event_id or f"EvR{next(_event_ids)}"
    assert await bot.event(event, event_id=event_id, retry_num=retry_num) == 200
    return event_id


async def unreact(bot, survey, user, name, **kwargs):
    return await react(bot, survey, user, name, added=False, **kwargs)


def buttons(call) -> list[dict]:
    return [e for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def press(bot, call, rating: int, *, user: str):
    button = next(b for b in buttons(call) if b["action_id"] == f"pulse_rate_{rating}")
    await bot.click_in_message(call, button["action_id"], user=user, value=button["value"])
    return bot.slack.calls_to("response_url")[-1].params


@pytest.fixture
async def pair(bot, clock) -> Pair:
    """UJ1 mentors UL1, introduced on Monday 2 March 2026 at 09:00."""
    bot.slack.add_user("UX", tz=LONDON, title="Someone else")
    for user, answers in PEOPLE.items():
        bot.slack.add_user(user, tz=LONDON, title=f"Title of {user}")
        await bot.command("signup", user=user)
        view = bot.slack.calls_to("views.open")[-1].params["view"]
        await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    await bot.command("admin match", user="UADMIN")
    [matched] = run(bot, lambda s: list(s.exec(select(Pair)).all()))
    assert matched.status == "active" and matched.dm_channel_id
    return matched


@pytest.fixture
async def survey(bot, clock, pair) -> PulseSurvey:
    """The pulse after the session UJ1 logs on Wednesday 4 March at 10:00."""
    clock.now = at("2026-03-04 10:00")
    await bot.command("met", user="UJ1")
    [posted] = all_surveys(bot)
    assert posted.ts is not None
    return posted


# --- posting -------------------------------------------------------------------------------


async def test_a_logged_session_brings_a_pulse_with_its_scale_seeded_in_order(bot, pair, survey):
    [post] = pulse_posts(bot, pair.dm_channel_id)
    assert survey.period == "session:2026-03-04" and survey.pair_id == pair.id
    assert survey.channel_id == pair.dm_channel_id
    assert survey.opened_at == at("2026-03-04 10:00")
    assert survey.closes_at == at("2026-03-11 10:00")
    assert pulse_keys(bot) == [f"pulse:{pair.id}:session:2026-03-04"]
    # The question states the scale, in the text and in the blocks.
    assert "How valuable was your last conversation?" in post.params["text"]
    assert ":one: (not valuable)" in post.params["text"]
    assert ":five: (extremely valuable)" in post.params["text"]
    assert pulse.scale_text() in str(post.params["blocks"])
    # The scale's emoji go on that very message, lowest to highest, and nothing else is added.
    added = [
        (c.params["channel"], c.params["timestamp"], c.params["name"])
        for c in bot.slack.calls_to("reactions.add")
    ]
    assert added == [(survey.channel_id, survey.ts, name) for name in SCALE_NAMES]
    stored = bot.slack.messages[(survey.channel_id, survey.ts)]["reactions"]
    assert list(stored) == SCALE_NAMES
    # Five small buttons carry the same ratings.
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in buttons(post)] == [
        (f"pulse_rate_{n}", str(n), f"{survey.id}:{n}") for n in range(1, 6)
    ]
    assert all(b.get("accessibility_label") for b in buttons(post))


async def test_a_pulse_decided_after_hours_opens_when_it_is_posted(bot, clock, pair):
    clock.now = at("2026-03-04 19:00")  # after work in London: decided now, posted tomorrow
    await bot.command("met", user="UJ1")
    assert pulse_posts(bot, pair.dm_channel_id) == []
    clock.now = at("2026-03-05 09:00")
    await run_tick(bot)
    assert len(pulse_posts(bot, pair.dm_channel_id)) == 1
    [survey] = all_surveys(bot)
    assert survey.period == "session:2026-03-04"
    assert (survey.opened_at, survey.closes_at) == (at("2026-03-05 09:00"), at("2026-03-12 09:00"))


async def test_seeding_the_reactions_again_is_harmless(bot, pair, survey):
    message = run(
        bot, lambda s: s.exec(select(OutboxMessage).where(OutboxMessage.kind == "pulse")).one()
    )
    before = len(bot.slack.calls_to("reactions.add"))
    # As after a crash check: Slack answers already_reacted five times, and that is fine.
    await seed_reactions(bot.runtime.deps, message, survey.channel_id, survey.ts)
    assert len(bot.slack.calls_to("reactions.add")) == before + 5
    assert list(bot.slack.messages[(survey.channel_id, survey.ts)]["reactions"]) == SCALE_NAMES


# --- reactions -----------------------------------------------------------------------------


async def test_both_members_ratings_are_recorded_and_never_logged(bot, survey, caplog):
    caplog.clear()
    await react(bot, survey, "UJ1", "four")
    await react(bot, survey, "UL1", "five")
    assert ratings(bot, survey) == {"UJ1": 4, "UL1": 5}
    for record in caplog.records:
        message = record.getMessage()
        assert "UJ1" not in message and "UL1" not in message
        assert "four" not in message and "five" not in message


async def test_a_later_reaction_replaces_and_removing_the_current_one_withdraws(bot, survey):
    await react(bot, survey, "UJ1", "two")
    assert ratings(bot, survey) == {"UJ1": 2}
    await react(bot, survey, "UJ1", "four")  # last one wins
    assert ratings(bot, survey) == {"UJ1": 4}
    await unreact(bot, survey, "UJ1", "two")  # the replaced one: nothing changes
    assert ratings(bot, survey) == {"UJ1": 4}
    await unreact(bot, survey, "UJ1", "four")  # the current one: withdrawn
    assert ratings(bot, survey) == {}
    await unreact(bot, survey, "UJ1", "four")  # nothing left to withdraw
    assert ratings(bot, survey) == {}


async def test_someone_else_removing_their_reaction_leaves_mine(bot, survey):
    await react(bot, survey, "UJ1", "three")
    await react(bot, survey, "UL1", "three")
    await unreact(bot, survey, "UL1", "three")
    assert ratings(bot, survey) == {"UJ1": 3}


async def test_an_outsiders_reaction_is_ignored(bot, survey):
    await react(bot, survey, "UX", "five")
    await react(bot, survey, "UADMIN", "one")
    assert ratings(bot, survey) == {}


async def test_the_bots_own_reactions_are_ignored(bot, survey):
    # The bot's seeded reactions come back as events: Bolt drops them before any listener
    # (ignoring_self_events_enabled also covers reaction events), so not even the event ID
    # is claimed.
    event_id = await react(bot, survey, bot.slack.bot_user_id, "five")
    assert ratings(bot, survey) == {}
    claimed = run(bot, lambda s: s.get(ProcessedEvent, (TEAM_ID, event_id)))
    assert claimed is None
    # The listener's own guard, should Bolt ever pass one through.
    event = reaction_event(bot.slack.bot_user_id, "five", survey.channel_id, survey.ts)
    await on_reaction(
        bot.runtime.deps, team_id=TEAM_ID, event=event, bot_user_id="UBOT", added=True
    )
    assert ratings(bot, survey) == {}
    # A member's event is claimed (and counted).
    event_id = await react(bot, survey, "UJ1", "five")
    assert run(bot, lambda s: s.get(ProcessedEvent, (TEAM_ID, event_id))) is not None
    assert ratings(bot, survey) == {"UJ1": 5}


async def test_an_emoji_off_the_scale_changes_nothing(bot, survey):
    await react(bot, survey, "UJ1", "thumbsup")
    await react(bot, survey, "UJ1", "keycap_ten")
    assert ratings(bot, survey) == {}
    await react(bot, survey, "UJ1", "three")
    await unreact(bot, survey, "UJ1", "heart")
    await react(bot, survey, "UJ1", "100")
    assert ratings(bot, survey) == {"UJ1": 3}


async def test_a_reaction_on_another_message_changes_nothing(bot, pair, survey):
    await react(bot, survey, "UJ1", "four", ts=pair.intro_ts)  # the introduction
    await react(bot, survey, "UJ1", "four", ts="1772000000.000001")  # a message never seen
    assert ratings(bot, survey) == {}
    # Same ts, another conversation: not the survey either.
    event = reaction_event("UJ1", "four", "GOTHER", survey.ts)
    await bot.event(event, event_id="EvOtherChannel")
    # A reaction to a file, not a message.
    event = dict(reaction_event("UJ1", "four", survey.channel_id, survey.ts))
    event["item"] = {"type": "file", "file": "F1"}
    await bot.event(event, event_id="EvFile")
    assert ratings(bot, survey) == {}
    assert all_surveys(bot) == [survey]


async def test_retried_reaction_events_are_applied_once(bot, survey):
    first = await react(bot, survey, "UJ1", "two")
    await react(bot, survey, "UJ1", "four")
    await react(bot, survey, "UJ1", "two", event_id=first, retry_num=1)  # a late retry
    assert ratings(bot, survey) == {"UJ1": 4}

    removed = await unreact(bot, survey, "UJ1", "four")
    assert ratings(bot, survey) == {}
    await react(bot, survey, "UJ1", "four")  # re-added
    await unreact(bot, survey, "UJ1", "four", event_id=removed, retry_num=1)
    await unreact(bot, survey, "UJ1", "four", event_id=removed, retry_num=2)
    assert ratings(bot, survey) == {"UJ1": 4}


async def test_a_closed_survey_takes_no_more_answers(bot, clock, pair, survey):
    [post] = pulse_posts(bot, pair.dm_channel_id)
    await react(bot, survey, "UJ1", "three")
    clock.now = survey.closes_at - timedelta(minutes=1)  # still open
    await react(bot, survey, "UL1", "four")
    assert ratings(bot, survey) == {"UJ1": 3, "UL1": 4}

    clock.now = survey.closes_at
    await react(bot, survey, "UJ1", "five")
    await unreact(bot, survey, "UL1", "four")
    reply = await press(bot, post, 1, user="UJ1")
    assert reply["text"] == "This survey has closed."
    assert reply["response_type"] == "ephemeral"
    assert ratings(bot, survey) == {"UJ1": 3, "UL1": 4}


# --- buttons -------------------------------------------------------------------------------


async def test_buttons_record_the_same_rating_the_same_way(bot, pair, survey):
    [post] = pulse_posts(bot, pair.dm_channel_id)
    reply = await press(bot, post, 2, user="UJ1")
    assert reply["response_type"] == "ephemeral" and reply.get("replace_original") is False
    assert ":two:" in reply["text"]
    assert ratings(bot, survey) == {"UJ1": 2}
    await react(bot, survey, "UJ1", "five")  # a reaction after a button: the latest wins
    assert ratings(bot, survey) == {"UJ1": 5}
    await press(bot, post, 1, user="UJ1")  # and a button after a reaction
    await press(bot, post, 4, user="UL1")
    assert ratings(bot, survey) == {"UJ1": 1, "UL1": 4}
    # Removing the reaction of an answer since replaced by a button changes nothing.
    await unreact(bot, survey, "UJ1", "five")
    assert ratings(bot, survey) == {"UJ1": 1, "UL1": 4}


async def test_an_outsider_pressing_a_button_is_turned_away(bot, pair, survey):
    [post] = pulse_posts(bot, pair.dm_channel_id)
    reply = await press(bot, post, 5, user="UX")
    assert "Only the two people in this pair" in reply["text"]
    assert ratings(bot, survey) == {}


# --- the cadence ---------------------------------------------------------------------------


async def test_a_pair_that_logs_nothing_gets_a_pulse_on_the_cadence(bot, clock, pair):
    channel = pair.dm_channel_id
    assert pair.pulse_due_at == at("2026-03-16 09:00")  # the introduction + 14 days
    clock.now = at("2026-03-16 08:45")
    await run_tick(bot)
    assert pulse_posts(bot, channel) == []
    clock.now = at("2026-03-16 09:00")
    await run_tick(bot)
    await run_tick(bot)  # ticking again decides nothing new
    [first] = pulse_posts(bot, channel)
    [survey] = all_surveys(bot)
    assert survey.period == "cadence:2026-03-16" and survey.ts is not None
    assert [c.params["name"] for c in bot.slack.calls_to("reactions.add")] == SCALE_NAMES
    assert {c.params["timestamp"] for c in bot.slack.calls_to("reactions.add")} == {survey.ts}
    await press(bot, first, 3, user="UL1")
    assert ratings(bot, survey) == {"UL1": 3}

    # 14 days after that pulse the next one is due; the bot was down until the next morning,
    # and the survey is still the one for the day it fell due.
    clock.now = at("2026-03-31 09:00")
    await run_tick(bot)
    assert [s.period for s in all_surveys(bot)] == ["cadence:2026-03-16", "cadence:2026-03-30"]
    assert len(pulse_posts(bot, channel)) == 2
    assert pulse_keys(bot) == [
        f"pulse:{pair.id}:cadence:2026-03-16",
        f"pulse:{pair.id}:cadence:2026-03-30",
    ]


async def test_a_logged_session_restarts_the_pulse_cadence(bot, clock, pair, survey):
    def pair_now():
        return run(bot, lambda s: s.get(Pair, pair.id))

    assert pair_now().pulse_due_at == at("2026-03-18 10:00")  # the session pulse + 14 days
    clock.now = at("2026-03-16 09:00")  # when the introduction's cadence would have asked
    await run_tick(bot)
    assert [s.period for s in all_surveys(bot)] == ["session:2026-03-04"]
    clock.now = at("2026-03-18 10:00")
    await run_tick(bot)
    assert [s.period for s in all_surveys(bot)] == ["session:2026-03-04", "cadence:2026-03-18"]


async def test_a_paused_pair_gets_no_pulse_and_resuming_restarts_the_cadence(bot, clock, pair):
    def pair_now():
        return run(bot, lambda s: s.get(Pair, pair.id))

    clock.now = at("2026-03-05 10:00")
    await bot.command("pause", user="UL1")
    await bot.click("pause_keep_pair", user="UL1", container={"type": "message", "message_ts": "1"})
    assert pair_now().status == "paused" and pair_now().pulse_due_at is None
    clock.now = at("2026-03-16 09:00")
    await run_tick(bot)
    assert all_surveys(bot) == []
    clock.now = at("2026-03-17 10:00")
    await bot.command("resume", user="UL1")
    assert pair_now().status == "active"
    assert pair_now().pulse_due_at == at("2026-03-31 10:00")


# --- the read API for summaries and the App Home ------------------------------------------


async def test_read_functions_for_summaries_and_the_home_tab(bot, clock, pair, survey):
    await react(bot, survey, "UJ1", "four")
    clock.now = at("2026-03-05 12:00")
    await react(bot, survey, "UL1", "two")

    def read(session):
        return (
            surveys.ratings_in_period(
                session=session,
                team_id=TEAM_ID,
                start=at("2026-03-04 10:00"),
                end=at("2026-03-05 12:00"),
            ),
            surveys.ratings_in_period(
                session=session,
                team_id=TEAM_ID,
                start=at("2026-03-04 10:00"),
                end=at("2026-03-05 12:01"),
            ),
            surveys.ratings_of_user(session=session, team_id=TEAM_ID, user_id="UL1"),
            surveys.response_counts_by_pair(session=session, team_id=TEAM_ID),
            surveys.response_counts_by_pair(session=session, team_id="TOTHER"),
        )

    before_end, both, mine, by_pair, elsewhere = run(bot, read)
    assert before_end == [(pair.id, "UJ1", 4)]  # [start, end): the end is left out
    assert both == [(pair.id, "UJ1", 4), (pair.id, "UL1", 2)]
    assert mine == [(at("2026-03-05 12:00"), 2)]
    assert by_pair == {pair.id: [4, 2]}
    assert elsewhere == {}


# --- query plans ---------------------------------------------------------------------------


@pytest.fixture
def plans_db(tmp_path):
    database = Database(make_engine(f"sqlite:///{tmp_path / 'plans.db'}"))
    database.prepare()
    yield database
    database.close()


def test_due_pulses_and_reactions_find_their_rows_through_an_index(plans_db):
    from storage import rhythm

    now = at("2026-03-16 09:00")
    statement, parameters = captured_select(
        plans_db, lambda s: rhythm.due_pairs(session=s, column="pulse_due_at", now=now)
    )
    assert_searches_by_index(
        query_plan(plans_db, statement, parameters), "pair", "ix_pair_pulse_due"
    )
    statement, parameters = captured_select(
        plans_db,
        lambda s: surveys.reaction_target(
            session=s, team_id=TEAM_ID, channel_id="G1", ts="1772000000.000100", user_id="UJ1"
        ),
    )
    plan = query_plan(plans_db, statement, parameters)
    assert_searches_by_index(plan, "pulse_survey", "ix_pulse_survey_message")


# --- bot/pulse.py: the pure rules ----------------------------------------------------------


def test_the_scale_is_five_standard_emoji_lowest_to_highest():
    assert [p.emoji for p in pulse.SCALE] == SCALE_NAMES
    assert [p.rating for p in pulse.SCALE] == [1, 2, 3, 4, 5]
    assert pulse.RATINGS == {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
    assert (pulse.LOWEST, pulse.HIGHEST) == (1, 5)
    assert pulse.scale_text().startswith(":one: not valuable · :two:")
    assert pulse.scale_text().endswith(":five: extremely valuable")


@pytest.mark.parametrize(
    ("emoji", "rating"),
    [
        ("one", 1),
        ("three", 3),
        ("five", 5),
        ("five::skin-tone-3", 5),
        ("thumbsup", None),
        ("six", None),
        ("One", None),
        ("", None),
        (None, None),
    ],
)
def test_rating_for(emoji, rating):
    assert pulse.rating_for(emoji) == rating


def test_point_for():
    four = pulse.point_for(4)
    assert four is not None and four.emoji == "four"
    assert pulse.point_for(0) is None and pulse.point_for(6) is None


@pytest.mark.parametrize(
    ("current", "rating", "added", "after"),
    [
        (None, 3, True, 3),  # a first answer
        (2, 4, True, 4),  # last one wins
        (4, 2, True, 2),  # also downwards
        (4, 4, False, None),  # removing the current choice withdraws it
        (4, 2, False, 4),  # removing a replaced one changes nothing
        (None, 2, False, None),  # nothing to withdraw
    ],
)
def test_after_reaction(current, rating, added, after):
    assert pulse.after_reaction(current, rating, added=added) == after


def test_periods_name_the_day():
    assert pulse.session_period(date(2026, 3, 11)) == "session:2026-03-11"
    assert pulse.cadence_period(date(2026, 3, 16)) == "cadence:2026-03-16"


def test_closing_and_the_cadence_follow_the_workspace_settings():
    opened = at("2026-03-04 10:00")
    assert pulse.closes_at(opened, ProgramSettings()) == at("2026-03-11 10:00")
    assert pulse.closes_at(opened, ProgramSettings(pulse_close_days=3)) == at("2026-03-07 10:00")
    closes = at("2026-03-11 10:00")
    assert pulse.is_open(closes, closes - timedelta(seconds=1))
    assert not pulse.is_open(closes, closes)
    assert pulse.next_pulse_due(opened, ProgramSettings()) == at("2026-03-18 10:00")
    assert pulse.next_pulse_due(opened, ProgramSettings(pulse_cadence_days=7)) == at(
        "2026-03-11 10:00"
    )
