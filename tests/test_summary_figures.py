"""bot.summary: the admin summary's figures from plain facts, with exact numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cadence import ProgramSettings
from bot.outcomes import leader_changes
from bot.summary import (
    EXPORT_HEADER,
    NOT_ENOUGH,
    Average,
    OutcomeFact,
    PairFact,
    PersonFact,
    average,
    compute_summary,
    export_csv,
    next_summary_at,
    period_label,
    weekly_series,
)

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=7), NOW
SETTINGS = ProgramSettings(cadence_days=14, stall_days=21, min_responses=3)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


PEOPLE = [
    PersonFact("UJ1", "junior", "active"),
    PersonFact("UL1", "leader", "active"),
    PersonFact("UJ2", "junior", "active"),
    PersonFact("UL2", "leader", "active"),
    PersonFact("UJ3", "junior", "active"),  # waiting: no live pair
    PersonFact("UL3", "leader", "paused"),  # signed up, paused: not waiting
    PersonFact("UJ4", "junior", "left"),  # neither
    PersonFact("UL4", "either", "active"),  # their pair ended: waiting again
]
PAIRS = [
    # On track: 28 days, last activity 2 days ago.
    PairFact(1, "UJ1", "UL1", "active", at("2026-03-02 09:00"), None, at("2026-03-28 09:00")),
    # Stalled: nothing for 25 days.
    PairFact(2, "UJ2", "UL2", "active", at("2026-03-02 09:00"), None, at("2026-03-05 09:00")),
    # Paused (UL3): not counted as stalled however quiet.
    PairFact(3, "UJ3", "UL3", "paused", at("2026-03-02 09:00"), None, at("2026-03-01 09:00")),
    # Ended after 14 days.
    PairFact(4, "UJ4", "UL4", "ended", at("2026-03-02 09:00"), at("2026-03-16 09:00"), None),
]


def test_the_figures_of_a_week_exactly():
    sessions = [
        (1, date(2026, 3, 10)),
        (1, date(2026, 3, 24)),  # this week: [23 Mar, 30 Mar)
        (1, date(2026, 3, 29)),  # this week, Sunday
        (2, date(2026, 3, 5)),
        (4, date(2026, 3, 9)),
        (2, date(2026, 3, 30)),  # the day `end` falls on belongs to the next week
    ]
    summary = compute_summary(
        people=PEOPLE,
        pairs=PAIRS,
        sessions=sessions,
        ratings=[("UJ1", 4), ("UL1", 5), ("UJ2", 3), ("UL2", 4)],
        previous_ratings=[("UJ1", 3), ("UL1", 3), ("UJ2", 4)],
        topics=["ai", "hybrid", "ai", "social", "hybrid", "ai", "career"],
        outcomes=[],
        start=START,
        end=END,
        now=NOW,
        settings=SETTINGS,
    )
    assert summary.signed_up == 7  # active or paused, not left
    assert summary.waiting == 1  # UL4; UJ3 is in a (paused) live pair
    assert (summary.active_pairs, summary.paused_pairs, summary.ended_pairs) == (2, 1, 1)
    assert summary.stalled_pairs == 1
    assert [(s.mentor_id, s.mentee_id, s.days) for s in summary.attention] == [("UJ2", "UL2", 25)]
    assert summary.sessions_in_period == 2
    assert summary.sessions_total == 6
    # Days active: 28, 28, 28 and 14 (ended) over a 14-day cadence: 2 + 2 + 2 + 1 = 7 expected.
    assert summary.cadence.pairs == 4
    assert summary.cadence.expected_per_pair == pytest.approx(7 / 4)
    assert summary.cadence.held_per_pair == pytest.approx(6 / 4)
    assert summary.cadence.pace == pytest.approx(6 / 7)
    assert summary.pulse == Average(count=4, people=4, value=4.0)
    assert summary.previous_pulse.value == pytest.approx(10 / 3)
    assert summary.pulse_change == pytest.approx(4.0 - 10 / 3)
    assert summary.top_topics == (("ai", 3), ("hybrid", 2), ("career", 1))  # ties by name


def test_an_average_over_fewer_than_the_minimum_is_never_a_number():
    summary = compute_summary(
        people=PEOPLE,
        pairs=PAIRS,
        sessions=[],
        ratings=[("UJ1", 1), ("UL1", 5)],
        previous_ratings=[("UJ1", 4), ("UL1", 4), ("UJ2", 4)],
        topics=[],
        outcomes=[],
        start=START,
        end=END,
        now=NOW,
        settings=SETTINGS,
    )
    assert summary.pulse == Average(count=2, people=2, value=None)
    assert summary.pulse.shown() == NOT_ENOUGH
    assert summary.pulse_change is None  # no change against a hidden average either
    assert summary.previous_pulse.shown() == "4.0"
    assert average([], 0) == Average(count=0, people=0, value=None)
    assert average([("UJ1", 2), ("UL1", 3)], 2).shown() == "2.5"


def test_stalled_counts_from_creation_when_a_pair_never_had_activity():
    never = PairFact(9, "UJ9", "UL9", "active", NOW - timedelta(days=21), None, None)
    fresh = PairFact(8, "UJ8", "UL8", "active", NOW - timedelta(days=20, hours=23), None, None)
    summary = compute_summary(
        people=[],
        pairs=[never, fresh],
        sessions=[],
        ratings=[],
        previous_ratings=[],
        topics=[],
        outcomes=[],
        start=START,
        end=END,
        now=NOW,
        settings=SETTINGS,
    )
    assert [(s.pair_id, s.days) for s in summary.attention] == [(9, 21)]


def test_a_pair_never_introduced_is_not_held_to_the_cadence():
    pending = PairFact(5, "UJ5", "UL5", "intro_failed", at("2026-03-02 09:00"), introduced=False)
    summary = compute_summary(
        people=[],
        pairs=[pending],
        sessions=[],
        ratings=[],
        previous_ratings=[],
        topics=[],
        outcomes=[],
        start=START,
        end=END,
        now=NOW,
        settings=SETTINGS,
    )
    assert summary.introducing == 1
    assert summary.cadence.pairs == 0 and summary.cadence.pace is None


def test_outcome_shares_and_changes_need_the_minimum():
    outcomes = [
        OutcomeFact("midpoint", "achieved", "Ask my team before deciding", True, person="UL1"),
        OutcomeFact("midpoint", "some", None, is_leader=False, person="UJ1"),
        OutcomeFact("midpoint", "some", "  ", is_leader=True, person="UL2"),
        OutcomeFact("midpoint", "not_yet", "try the AI assistant weekly", True, person="UL3"),
        OutcomeFact("end", "achieved", "Reverse the meeting order", True, person="UL1"),
        OutcomeFact("end", "achieved", "Book a monthly listening hour", True, person="UL2"),
        OutcomeFact("end", "some", "Ask juniors first", is_leader=True, person="UL3"),
        OutcomeFact("end", "some", "a junior's own text", False, person="UJ1"),  # not a leader's
    ]
    summary = compute_summary(
        people=[],
        pairs=[],
        sessions=[],
        ratings=[],
        previous_ratings=[],
        topics=[],
        outcomes=outcomes,
        start=START,
        end=END,
        now=NOW,
        settings=SETTINGS,
    )
    midpoint, end = summary.outcomes
    assert midpoint.checkpoint == "midpoint" and midpoint.answers == 4
    assert midpoint.shares == {"achieved": 0.25, "some": 0.5, "not_yet": 0.25}
    assert midpoint.changes is None  # only 2 leaders gave one: fewer than 3
    assert end.shares == {"achieved": 0.5, "some": 0.5, "not_yet": 0.0}
    # Not in answer order, so the order says nothing about who wrote which.
    assert end.changes is not None
    assert sorted(end.changes) == [
        "Ask juniors first",
        "Book a monthly listening hour",
        "Reverse the meeting order",
    ]
    changes = leader_changes(
        [
            ("UL1", "Reverse the meeting order"),
            ("UL2", "Book a monthly listening hour"),
            ("UL3", "Ask juniors first"),
        ],
        min_responses=3,
    )
    assert changes is not None
    assert end.changes == tuple(changes)

    few = compute_summary(
        people=[],
        pairs=[],
        sessions=[],
        ratings=[],
        previous_ratings=[],
        topics=[],
        outcomes=outcomes[:2],
        start=START,
        end=END,
        now=NOW,
        settings=SETTINGS,
    )
    assert few.outcomes[0].answers == 2 and few.outcomes[0].shares is None


def test_weekly_series_hides_thin_weeks():
    end = at("2026-03-30 09:00")
    points = weekly_series(
        sessions=[date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 29), date(2026, 3, 30)],
        ratings=[
            (at("2026-03-10 10:00"), "UJ1", 4),
            (at("2026-03-11 10:00"), "UL1", 5),
            (at("2026-03-12 10:00"), "UJ2", 3),
            (at("2026-03-25 10:00"), "UJ1", 2),
        ],
        end=end,
        weeks=3,
        min_responses=3,
    )
    assert [p.starts for p in points] == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
    assert [p.sessions for p in points] == [2, 0, 1]
    assert [p.pulse.value for p in points] == [4.0, None, None]
    assert [p.pulse.count for p in points] == [3, 0, 1]


def test_next_summary_time_in_the_workspace_zone_across_a_clock_change():
    # Monday 09:00 in London: GMT before 29 March 2026, BST after.
    first = next_summary_at(at("2026-03-18 12:00"), weekday=0, hour=9, tz="Europe/London")
    assert first == at("2026-03-23 09:00")
    second = next_summary_at(first, weekday=0, hour=9, tz="Europe/London")
    assert second == at("2026-03-30 08:00")  # strictly after, and in summer time
    # Exactly at the moment: the next week's.
    assert next_summary_at(second, weekday=0, hour=9, tz="Europe/London") == at("2026-04-06 08:00")
    # Earlier the same day: that same day.
    assert next_summary_at(at("2026-04-06 07:59"), weekday=0, hour=9, tz="Europe/London") == at(
        "2026-04-06 08:00"
    )
    # Friday 17:00 in Tokyo (UTC+9); an unknown zone is UTC.
    assert next_summary_at(at("2026-03-18 12:00"), weekday=4, hour=17, tz="Asia/Tokyo") == at(
        "2026-03-20 08:00"
    )
    assert next_summary_at(at("2026-03-18 12:00"), weekday=2, hour=9, tz="Nowhere/Else") == at(
        "2026-03-25 09:00"
    )


def test_period_label():
    london = ZoneInfo("Europe/London")
    start = datetime(2026, 3, 23, 9, tzinfo=london)
    assert period_label(start, start + timedelta(days=7)) == "23 Mar – 29 Mar 2026"
    new_year = datetime(2025, 12, 29, 0, tzinfo=london)
    assert period_label(new_year, new_year + timedelta(days=7)) == "29 Dec 2025 – 4 Jan 2026"


def test_export_csv_has_counts_and_no_averages():
    text = export_csv(
        PAIRS[:2] + PAIRS[3:],
        sessions_by_pair={1: 3, 2: 1},
        responses_by_pair={1: 3, 2: 2, 4: 1},
        names={"UJ1": "Ana Li", "UL1": "=HYPERLINK(1)", "UJ2": "Bo", "UL2": "Cy"},
        cohorts_by_pair={1: ["Pilot", "Expansion"], 4: ["=Pilot"]},
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORT_HEADER
    assert "average_rating" not in rows[0]
    assert rows[1:] == [
        [
            *("Ana Li", "UJ1", "'=HYPERLINK(1)", "UL1", "active", "2026-03-02", "", "3", "3"),
            "Pilot; Expansion",
        ],
        ["Bo", "UJ2", "Cy", "UL2", "active", "2026-03-02", "", "1", "2", ""],
        ["", "UJ4", "", "UL4", "ended", "2026-03-02", "2026-03-16", "0", "1", "'=Pilot"],
    ]
