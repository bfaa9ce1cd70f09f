"""Leaving really forgets: after /mentor leave is confirmed, nothing the person rated or
answered stays linked to their user ID. End to end through signed requests, then checked on
the database itself."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.cadence import ProgramSettings
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.fake_slack import validate_blocks
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage import program
from storage.models import (
    FitAnswer,
    HeldSession,
    OutboxMessage,
    OutcomeAnswer,
    Pair,
    Participant,
    PulseResponse,
    PulseSurvey,
)

LONDON = "Europe/London"
LEAVER = "UL1"
GOAL = "Understand how my teams use AI day to day"
CHANGE = "I now ask my team which AI tools they use before I decide on any budget."
PEOPLE = {
    "UJ1": SignupAnswers(role="junior", level="1", department="Finance", topics=("ai", "hybrid")),
    LEAVER: SignupAnswers(
        role="leader",
        level="6",
        department="Operations",
        topics=("ai", "hybrid"),
        goals=GOAL,
        manager="UBOSS",
    ),
    "UJ2": SignupAnswers(role="junior", level="2", department="Sales", topics=("social",)),
    "UL2": SignupAnswers(role="leader", level="5", department="Legal", topics=("social",)),
}
_events = itertools.count(1)


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


def run(bot, work):
    return bot.runtime.deps.db.run_sync(work)


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


async def sign_up(bot, user: str, answers: SignupAnswers) -> None:
    bot.slack.add_user(user, tz=LONDON, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


def dm_posts(bot, user: str) -> list:
    channel = bot.slack.conversation_id(user)
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


def buttons(call) -> dict[str, dict]:
    return {
        e["action_id"]: e
        for b in call.params.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def react(bot, survey: PulseSurvey, user: str, name: str) -> None:
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item_user": "UBOT",
        "item": {"type": "message", "channel": survey.channel_id, "ts": survey.ts},
        "event_ts": "1772442000.000200",
    }
    assert await bot.event(event, event_id=f"EvLeave{next(_events)}") == 200


def pair_of(bot, mentor: str, mentee: str) -> Pair:
    return run(
        bot,
        lambda s: s.exec(
            select(Pair).where(Pair.mentor_id == mentor, Pair.mentee_id == mentee)
        ).one(),
    )


def rows_naming(bot, needle: str) -> dict[str, list[dict]]:
    """Every row of every table with `needle` in any column, by table."""

    def scan(session):
        found: dict[str, list[dict]] = {}
        # The database's own list of tables (not the models'): a table added later is scanned.
        for table in inspect(session.connection()).get_table_names():
            for row in session.execute(text(f'SELECT * FROM "{table}"')).mappings():
                if any(needle in str(value) for value in row.values()):
                    found.setdefault(table, []).append(dict(row))
        return found

    return run(bot, scan)


@pytest.fixture
async def leaver_with_history(bot, clock):
    """UL1 has rated a pulse, answered a fit survey, answered the midpoint with a change,
    logged sessions, and has a fit survey decided but not yet sent (after hours)."""
    bot.slack.add_user("UBOSS", tz=LONDON)
    for user, answers in PEOPLE.items():
        await sign_up(bot, user, answers)
    settings = replace(
        ProgramSettings(), program_start=date(2026, 3, 2), program_end=date(2026, 4, 1)
    )
    run(
        bot,
        lambda s: program.save_program_settings(
            session=s, team_id=TEAM_ID, settings=settings, now=clock.now
        ),
    )
    await bot.command("admin match", user="UADMIN")
    first = pair_of(bot, "UJ1", LEAVER)

    # Wednesday 4 March: UL1 logs their first session; the pulse and fit surveys go out.
    clock.now = at("2026-03-04 10:00")
    await bot.command("met", user=LEAVER)
    await run_tick(bot)
    survey = run(bot, lambda s: s.exec(select(PulseSurvey)).one())
    await react(bot, survey, LEAVER, "four")
    await react(bot, survey, "UJ1", "five")
    for user in (LEAVER, "UJ1"):
        [fit] = [c for c in dm_posts(bot, user) if "good fit" in c.params["text"]]
        await bot.click_in_message(fit, "fit_good", user=user, value=str(first.id))

    # Thursday 5 March: the admins end that pair; UL1 is matched with a new junior, UJ3.
    clock.now = at("2026-03-05 10:00")
    await bot.command(f"admin unpair <@UJ1> <@{LEAVER}>", user="UADMIN")
    await sign_up(
        bot, "UJ3", SignupAnswers(role="junior", level="1", department="Data", topics=("ai",))
    )
    await bot.command("admin match", user="UADMIN")
    second = pair_of(bot, "UJ3", LEAVER)
    assert second.status == "active"

    # The midpoint (17 March, 09:00): everyone who took part answers; UL1 shares a change.
    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)
    for user, pressed in (("UJ1", "some"), ("UJ2", "achieved"), ("UL2", "not_yet")):
        [question] = [c for c in dm_posts(bot, user) if "outcome_some" in buttons(c)]
        await bot.click_in_message(question, f"outcome_{pressed}", user=user, value="midpoint")
    [question] = [c for c in dm_posts(bot, LEAVER) if "outcome_some" in buttons(c)]
    await bot.click_in_message(question, "outcome_some", user=LEAVER, value="midpoint")
    await bot.click_in_message(question, "outcome_change_open", user=LEAVER, value="midpoint")
    form = bot.slack.calls_to("views.open")[-1].params["view"]
    state = {"change": {"value": {"type": "plain_text_input", "value": CHANGE}}}
    status, body = await bot.submit_view(filled(form, state), user=LEAVER)
    assert body["response_action"] == "update"

    # Wednesday 18 March, 19:00: UL1 logs a first session with UJ3 after work, so both fit
    # surveys wait in the outbox for the morning.
    clock.now = at("2026-03-18 19:00")
    await bot.command("met", user=LEAVER)
    await run_tick(bot)
    pending = run(
        bot,
        lambda s: s.exec(
            select(OutboxMessage).where(
                OutboxMessage.key == f"fit:{second.id}:{LEAVER}",
                OutboxMessage.status == "pending",
            )
        ).one(),
    )
    # What there is to forget, as stored before leaving.
    assert sorted(run(bot, lambda s: s.exec(select(PulseResponse.user_id)).all())) == [
        "UJ1",
        LEAVER,
    ]
    assert LEAVER in run(bot, lambda s: s.exec(select(FitAnswer.user_id)).all())
    assert run(bot, lambda s: s.exec(select(HeldSession.logged_by)).all()) == [LEAVER, LEAVER]
    query = select(OutcomeAnswer.progress, OutcomeAnswer.change).where(
        OutcomeAnswer.user_id == LEAVER
    )
    assert run(bot, lambda s: s.exec(query).all()) == [("some", CHANGE)]
    return bot, first, second, pending


def outcome_counts(bot) -> Counter:
    return Counter(
        run(bot, lambda s: s.exec(select(OutcomeAnswer.checkpoint, OutcomeAnswer.progress)).all())
    )


@pytest.mark.parametrize("where", ["reply", "home"])
async def test_leaving_unlinks_everything_they_rated_or_answered(leaver_with_history, clock, where):
    bot, first, second, pending = leaver_with_history
    counts_before = outcome_counts(bot)
    assert counts_before == Counter(
        {("midpoint", "some"): 2, ("midpoint", "achieved"): 1, ("midpoint", "not_yet"): 1}
    )
    clock.now = at("2026-03-18 19:30")
    status, body = await bot.command("leave", user=LEAVER)
    asked = str(body["blocks"])
    for said in ("deletes your profile", "pulse answers", "fit answers", "anonymous counts"):
        assert said in asked  # what goes, before they decide
    assert "who you were paired with" in asked  # and what stays
    if where == "reply":
        await bot.click(
            "leave_confirm", user=LEAVER, container={"type": "message", "message_ts": "1.2"}
        )
        reply = bot.slack.calls_to("response_url")[-1].params["text"]
        assert "left the program" in reply
        assert "Deleted:" in reply and "Kept:" in reply and "pulse answers" in reply
    else:
        home = bot.slack.calls_to("views.publish")[-1].params["view"]
        [leave] = [
            e
            for b in home["blocks"]
            for e in b.get("elements", [])
            if e.get("action_id") == "leave_confirm"
        ]
        assert "anonymous counts" in leave["confirm"]["text"]["text"]
        assert len(leave["confirm"]["text"]["text"]) <= 300
        assert not validate_blocks(home["blocks"])
        await bot.click("leave_confirm", user=LEAVER)

    person = run(
        bot, lambda s: s.exec(select(Participant).where(Participant.user_id == LEAVER)).one()
    )
    assert (person.status, person.left_at, person.role) == ("left", clock.now, "leader")
    assert (
        person.goals,
        person.topics,
        person.department,
        person.manager_id,
        person.title,
        person.level,
        person.timezone,
    ) == (None, [], None, None, None, None, None)
    # Their pairs ended with the rest, in the same transaction; the pair rows stay.
    assert pair_of(bot, "UJ3", LEAVER).status == "ended"
    assert pair_of(bot, "UJ3", LEAVER).end_reason == "participant_left"
    # Their partner's answers stay; theirs are gone.
    assert run(bot, lambda s: s.exec(select(PulseResponse.user_id)).all()) == ["UJ1"]
    assert run(bot, lambda s: s.exec(select(FitAnswer.user_id)).all()) == ["UJ1"]
    sessions = run(bot, lambda s: s.exec(select(HeldSession.pair_id, HeldSession.logged_by)).all())
    assert sorted(sessions) == [(first.id, ""), (second.id, "")]  # the dates stay
    # The anonymous counts do not change; the change they shared is gone.
    assert outcome_counts(bot) == counts_before
    assert run(bot, lambda s: s.exec(select(OutcomeAnswer.change)).all()) == [None] * 4
    # Nothing decided for them alone is still waiting to go out.
    assert run(bot, lambda s: s.get(OutboxMessage, pending.id)).status == "skipped"

    # On the database: only their participant row, the pair rows and the cohort's record that
    # they were in it (counted in its report as someone who left) name them, besides the
    # outbox's records of messages already sent to them (or skipped), none of them pending.
    found = rows_naming(bot, LEAVER)
    assert [row["user_id"] for row in found.pop("participant")] == [LEAVER]
    assert {row["id"] for row in found.pop("pair")} == {first.id, second.id}
    assert [row["cohort_id"] for row in found.pop("cohort_member")] == [person.cohort_id]
    assert {row["status"] for row in found.pop("outbox")} <= {"sent", "skipped"}
    assert found == {}
    for words in (GOAL, CHANGE, "Operations", "UBOSS"):
        assert rows_naming(bot, words) == {}

    # The next morning the outbox runs (UJ3 hears their pair has ended); UL1 gets nothing.
    before = len(dm_posts(bot, LEAVER))
    clock.now = at("2026-03-19 09:00")
    await run_tick(bot)
    await run_tick(bot)
    told = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == second.dm_channel_id and "left the program" in c.params["text"]
    ]
    assert len(told) == 1
    assert len(dm_posts(bot, LEAVER)) == before
    assert run(bot, lambda s: s.get(OutboxMessage, pending.id)).status == "skipped"


async def test_answers_given_after_leaving_are_not_stored(bot, clock):
    """A survey still open in Slack takes no answer from someone who has left."""
    for user in ("UJ1", LEAVER):
        await sign_up(bot, user, PEOPLE[user])
    await bot.command("admin match", user="UADMIN")
    pair = pair_of(bot, "UJ1", LEAVER)
    clock.now = at("2026-03-04 10:00")
    await bot.command("met", user="UJ1")
    await run_tick(bot)
    survey = run(bot, lambda s: s.exec(select(PulseSurvey)).one())
    [fit] = [c for c in dm_posts(bot, LEAVER) if "good fit" in c.params["text"]]
    [question] = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == pair.dm_channel_id and "pulse_rate_4" in buttons(c)
    ]

    clock.now = at("2026-03-04 11:00")
    await bot.command("leave", user=LEAVER)
    await bot.click("leave_confirm", user=LEAVER, container={"type": "message", "message_ts": "1"})
    clock.now = at("2026-03-04 12:00")  # the survey is open for a week
    await react(bot, survey, LEAVER, "four")
    rate = buttons(question)["pulse_rate_4"]
    await bot.click_in_message(question, "pulse_rate_4", user=LEAVER, value=rate["value"])
    assert "left the program" in bot.slack.calls_to("response_url")[-1].params["text"]
    await bot.click_in_message(fit, "fit_poor", user=LEAVER, value=str(pair.id))
    assert "left the program" in bot.slack.calls_to("response_url")[-1].params["text"]

    assert run(bot, lambda s: s.exec(select(PulseResponse)).all()) == []
    assert run(bot, lambda s: s.exec(select(FitAnswer)).all()) == []
    alerts = select(OutboxMessage).where(OutboxMessage.kind == "admin_alert")
    assert run(bot, lambda s: s.exec(alerts).all()) == []  # nor a "not a good fit" alert
    # Their partner, still in the program, can answer.
    await react(bot, survey, "UJ1", "five")
    assert run(bot, lambda s: s.exec(select(PulseResponse.user_id)).all()) == ["UJ1"]
