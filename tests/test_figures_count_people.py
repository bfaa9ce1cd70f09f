"""No figure admins see may point to one person: every average and share counts different
people, not answers. Through the real app: pulse surveys posted by the tick and answered with
reactions, the weekly summary, its chart, the admin's Home headline and the export."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from sqlmodel import col, select

from bot.cadence import ProgramSettings
from bot.summary import NOT_ENOUGH, OutcomeFact, compute_summary
from handlers.reports import messages as summary
from storage.models import PulseSurvey
from tests.test_summary import (  # noqa: F401  (program_bot is a fixture)
    at,
    block_text,
    program_bot,
    run_tick,
    summaries,
    uploaded,
)

_events = itertools.count(1)
SCALE = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


async def survey_after_session(bot, clock, *, logged_by: str, when: str) -> PulseSurvey:
    """Log a session at `when`; the pulse survey that follows is posted in the pair's DM."""
    clock.now = at(when)
    await bot.command("met", user=logged_by)
    await run_tick(bot)
    survey = bot.runtime.deps.db.run_sync(
        lambda s: s.exec(select(PulseSurvey).order_by(col(PulseSurvey.id).desc())).first()
    )
    assert survey is not None and survey.ts is not None and survey.opened_at == clock.now
    return survey


async def rate(bot, survey: PulseSurvey, user: str, rating: int) -> None:
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": SCALE[rating],
        "item_user": "UBOT",
        "item": {"type": "message", "channel": survey.channel_id, "ts": survey.ts},
        "event_ts": "1772442000.000200",
    }
    assert await bot.event(event, event_id=f"EvPeople{next(_events)}") == 200


async def home_headline(bot) -> str:
    event = {"type": "app_home_opened", "user": "UADMIN", "channel": "D1", "tab": "home"}
    assert await bot.event(event, event_id=f"EvPeople{next(_events)}") == 200
    [field] = [
        f["text"]
        for block in bot.slack.calls_to("views.publish")[-1].params["view"]["blocks"]
        for f in block.get("fields", [])
        if f["text"].startswith("*Pulse this month*")
    ]
    return field.removeprefix("*Pulse this month*\n")


async def export_rows(bot) -> list[list[str]]:
    await bot.command("admin export", user="UADMIN")
    return list(csv.reader(io.StringIO(uploaded(bot)[-1].decode("utf-8"))))


@pytest.fixture
def charts(monkeypatch) -> list:
    """The weekly series each chart is drawn from, as the renderer receives it."""
    drawn = []
    real = summary.render_chart

    def render(points):
        drawn.append(points)
        return real(points)

    monkeypatch.setattr(summary, "render_chart", render)
    return drawn


async def test_one_person_answering_three_times_is_not_enough_three_people_are(
    program_bot,  # noqa: F811  (the fixture from tests/test_summary.py)
    clock,
    charts,
):
    bot = program_bot
    await run_tick(bot)  # the first summary is due Monday 9 March, 09:00 London
    # Week one: UJ1 answers three surveys; their partner UL1 and the other pair stay silent.
    mine = {"2026-03-03 10:00": 4, "2026-03-04 10:00": 5, "2026-03-05 10:00": 3}
    for when, rating in mine.items():
        survey = await survey_after_session(bot, clock, logged_by="UJ1", when=when)
        await rate(bot, survey, "UJ1", rating)
    clock.now = at("2026-03-06 12:00")
    assert await home_headline(bot) == NOT_ENOUGH
    header, *rows = await export_rows(bot)
    assert "average_rating" not in header and len(header) == 10  # the last: its cohorts
    assert all(len(row) == len(header) for row in rows)  # no extra column either
    [first_pair] = [row for row in rows if row[1] == "UJ1"]
    assert first_pair[header.index("survey_responses")] == "3"

    clock.now = at("2026-03-09 09:00")
    await run_tick(bot)
    [week_one] = summaries(bot)
    text = block_text(week_one)
    assert "Not enough responses this week (3 responses by 1 person;" in text
    assert "4.0" not in text and "pulse not enough responses" in week_one.params["text"]
    [points] = charts
    assert points[-1].pulse.count == 3 and points[-1].pulse.value is None

    # Week two: UJ2 and UL2 answer for their pair and UJ1 once more: three different people.
    survey = await survey_after_session(bot, clock, logged_by="UJ2", when="2026-03-10 10:00")
    await rate(bot, survey, "UJ2", 2)
    await rate(bot, survey, "UL2", 5)
    survey = await survey_after_session(bot, clock, logged_by="UJ1", when="2026-03-11 10:00")
    await rate(bot, survey, "UJ1", 4)
    week_two_ratings = [2, 5, 4]
    month_ratings = [*mine.values(), *week_two_ratings]

    clock.now = at("2026-03-12 12:00")
    assert await home_headline(bot) == f"{sum(month_ratings) / len(month_ratings):.1f}"  # 3.8
    header, *rows = await export_rows(bot)
    assert "average_rating" not in header and len(header) == 10  # the last: its cohorts

    clock.now = at("2026-03-16 09:00")
    await run_tick(bot)
    week_two = summaries(bot)[-1]
    mean = sum(week_two_ratings) / len(week_two_ratings)
    assert f"{mean:.1f} out of 5 from 3 responses by 3 people this week." in block_text(week_two)
    points = charts[-1]
    assert points[-1].pulse.value == pytest.approx(mean)
    assert points[-2].pulse.value is None  # week one stays a gap: one person


def _outcomes_summary(outcomes: list[OutcomeFact]):
    now = at("2026-03-30 09:00")
    return compute_summary(
        people=[],
        pairs=[],
        sessions=[],
        ratings=[],
        previous_ratings=[],
        topics=[],
        outcomes=outcomes,
        start=at("2026-03-23 09:00"),
        end=now,
        now=now,
        settings=ProgramSettings(min_responses=3),
    )


def test_outcome_shares_and_changes_count_people_not_answers():
    # Three answers and three changes, but from two people (the same id answered twice,
    # as could happen for someone who left and came back): not enough for either.
    two_people = [
        OutcomeFact("end", "achieved", "Ask my team first", is_leader=True, person="UL1"),
        OutcomeFact("end", "some", "Book a listening hour", is_leader=True, person="UL1"),
        OutcomeFact("end", "not_yet", "Try the AI assistant", is_leader=True, person="UL2"),
    ]
    [end] = _outcomes_summary(two_people).outcomes
    assert (end.answers, end.people) == (3, 2)
    assert end.shares is None and end.changes is None

    three_people = [
        *two_people[1:],
        OutcomeFact("end", "achieved", "Ask my team first", True, person="UL3"),
    ]
    [end] = _outcomes_summary(three_people).outcomes
    assert (end.answers, end.people) == (3, 3)
    assert end.shares == {"achieved": 1 / 3, "some": 1 / 3, "not_yet": 1 / 3}
    assert sorted(end.changes) == [
        "Ask my team first",
        "Book a listening hour",
        "Try the AI assistant",
    ]
