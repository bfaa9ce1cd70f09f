"""The cohort impact report's figures (bot/impact.py), against oracles computed here with
integer arithmetic, and the privacy rule: nothing from answers shows under the minimum
number of different people, in this cohort or in the previous one it is compared with."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.impact import (
    NONE_SHOWN,
    NOT_ENOUGH,
    CohortFigures,
    impact_report,
)

START = date(2026, 3, 4)  # a Wednesday
END = date(2026, 6, 3)
PROGRESS = ("achieved", "some", "not_yet")


def cohort(**changes: object) -> CohortFigures:
    base = CohortFigures(
        name="Spring 2026",
        starts_on=START,
        ends_on=END,
        signed_up=12,
        paired=10,
        left=1,
        continued=3,
        pairs=5,
        sessions_held=34,
        sessions_planned=40,
        stalled_pairs=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- oracles: integers only, rounding half up ------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{(200 * part + whole) // (2 * whole)}%"


def tenths(value: Fraction) -> str:
    """Half up, away from zero, to one decimal, written like "4.3" or "-0.5"."""
    sign = "-" if value < 0 else ""
    size = abs(value)
    n = (20 * size.numerator + size.denominator) // (2 * size.denominator)
    return f"{sign}{n // 10}.{n % 10}"


def value_of(report, key: str) -> str:
    return report.figure(key).value


# --- participation and rhythm: counts, always shown --------------------------------------------


def test_participation_and_rhythm_read_as_counts_and_shares():
    report = impact_report(cohort(), None, min_responses=3)
    assert value_of(report, "signed_up") == "12"
    assert value_of(report, "paired") == "10"
    assert value_of(report, "match_rate") == "83% (10 of 12)"
    assert value_of(report, "continued") == "3"
    assert value_of(report, "left") == "1"
    assert value_of(report, "sessions_rate") == "85% (34 of 40 planned)"
    assert value_of(report, "stalled_share") == "20% (1 of 5 pairs)"
    assert report.figure("match_rate").number == 10 / 12
    assert all(f.previous == NONE_SHOWN for f in report.figures)
    assert report.previous_cohort is None and report.previous_pulse_weeks == ()


def test_a_share_of_nothing_is_a_dash_not_zero_or_a_crash():
    report = impact_report(
        cohort(
            signed_up=0, paired=0, pairs=0, stalled_pairs=0, sessions_planned=0, sessions_held=2
        ),
        None,
        min_responses=3,
    )
    assert value_of(report, "match_rate") == NONE_SHOWN
    assert report.figure("match_rate").number is None
    assert value_of(report, "stalled_share") == NONE_SHOWN
    assert value_of(report, "sessions_rate") == "2 held, none planned"


def test_halves_round_up():
    # 1 of 8 is 12.5%: half up reads 13% (round() would say 12).
    report = impact_report(cohort(signed_up=8, paired=1), None, min_responses=3)
    assert value_of(report, "match_rate") == "13% (1 of 8)"


@given(
    signed_up=st.integers(0, 500),
    paired=st.integers(0, 500),
    pairs=st.integers(0, 300),
    stalled=st.integers(0, 300),
    held=st.integers(0, 2000),
    planned=st.integers(0, 2000),
)
def test_counts_and_shares_match_the_oracle(signed_up, paired, pairs, stalled, held, planned):
    report = impact_report(
        cohort(
            signed_up=signed_up,
            paired=paired,
            pairs=pairs,
            stalled_pairs=stalled,
            sessions_held=held,
            sessions_planned=planned,
        ),
        None,
        min_responses=3,
    )
    assert value_of(report, "signed_up") == str(signed_up)
    expected = f"{pct(paired, signed_up)} ({paired} of {signed_up})" if signed_up else "—"
    assert value_of(report, "match_rate") == expected
    pairs_word = "pair" if pairs == 1 else "pairs"
    expected = f"{pct(stalled, pairs)} ({stalled} of {pairs} {pairs_word})" if pairs else "—"
    assert value_of(report, "stalled_share") == expected
    expected = (
        f"{pct(held, planned)} ({held} of {planned} planned)"
        if planned
        else f"{held} held, none planned"
    )
    assert value_of(report, "sessions_rate") == expected
    # Counts are not answers: none of these is ever hidden.
    assert not any(f.hidden for f in report.participation + report.rhythm)


# --- the pulse -----------------------------------------------------------------------------------


def week(n: int) -> date:
    """The Monday that starts week n (1-based) of a cohort starting on Wednesday 4 March."""
    return date(2026, 3, 2) + timedelta(days=7 * (n - 1))


def test_the_pulse_average_needs_enough_different_people_not_enough_answers():
    # Two people, rating often: many answers, still two people.
    two = tuple((person, week(n), 5) for person in ("U1", "U2") for n in range(1, 9))
    report = impact_report(cohort(pulse=two), None, min_responses=3)
    average = report.figure("pulse_average")
    assert average.hidden and average.value == NOT_ENOUGH and average.number is None
    assert report.figure("pulse_trend").hidden
    assert all(w.value is None and w.text == NOT_ENOUGH for w in report.pulse_weeks)
    three = (*two, ("U3", week(1), 2))
    report = impact_report(cohort(pulse=three), None, min_responses=3)
    assert value_of(report, "pulse_average") == "4.8 (17 ratings by 3 people)"  # 82/17 = 4.82


def test_each_week_of_the_pulse_is_hidden_on_its_own():
    pulse = (
        *(("U1", week(1), 4), ("U2", week(1), 5), ("U3", week(1), 3)),  # 3 people: shown
        *(("U1", week(2), 1), ("U2", week(2), 1)),  # 2 people: hidden
        *(("U1", week(4), 5), ("U2", week(4), 5), ("U4", week(4), 4)),  # shown
    )
    report = impact_report(cohort(pulse=pulse), None, min_responses=3)
    shown = {w.week: w.text for w in report.pulse_weeks if w.value is not None}
    assert shown == {1: "4.0", 4: "4.7"}
    assert [w.week for w in report.pulse_weeks] == list(range(1, 15))  # 4 Mar to 3 Jun
    assert report.pulse_weeks[1].value is None  # a gap, not a zero
    assert value_of(report, "pulse_trend") == "+0.7"  # 14/3 - 4
    # The hidden week still counts in the whole cohort's average (4 people over all).
    assert value_of(report, "pulse_average") == "3.5 (8 ratings by 4 people)"  # 28/8


def test_ratings_outside_the_cohort_are_not_its_own():
    before = date(2026, 2, 23)  # a week that ends before 4 March
    after = date(2026, 6, 8)  # starts after 3 June
    pulse = tuple((f"U{i}", d, 1) for i in range(5) for d in (before, after))
    report = impact_report(cohort(pulse=pulse), None, min_responses=3)
    assert report.figure("pulse_average").hidden
    assert all(w.value is None for w in report.pulse_weeks)


ratings = st.lists(
    st.tuples(st.sampled_from([f"U{i}" for i in range(6)]), st.integers(1, 6), st.integers(1, 5)),
    max_size=40,
)


@settings(max_examples=200)
@given(answers=ratings, min_responses=st.integers(1, 5))
def test_pulse_matches_the_oracle(answers, min_responses):
    pulse = tuple((person, week(n), rating) for person, n, rating in answers)
    report = impact_report(cohort(pulse=pulse), None, min_responses=min_responses)
    people = {person for person, _, _ in answers}
    average = report.figure("pulse_average")
    if len(people) < min_responses or not people:
        assert average.hidden and average.value == NOT_ENOUGH and average.number is None
    else:
        total = sum(r for _, _, r in answers)
        assert not average.hidden
        assert average.value == (
            f"{tenths(Fraction(total, len(answers)))} ({len(answers)} "
            f"rating{'' if len(answers) == 1 else 's'} by {len(people)} "
            f"{'person' if len(people) == 1 else 'people'})"
        )
    shown_means = []
    for point in report.pulse_weeks:
        in_week = [(p, r) for p, n, r in answers if n == point.week]
        who = {p for p, _ in in_week}
        if not who or len(who) < min_responses:
            assert point.value is None and point.text == NOT_ENOUGH
        else:
            mean = Fraction(sum(r for _, r in in_week), len(in_week))
            assert point.text == tenths(mean) and point.value == float(mean)
            shown_means.append(mean)
    trend = report.figure("pulse_trend")
    if len(shown_means) < 2:
        assert trend.hidden
    else:
        change = tenths(shown_means[-1] - shown_means[0])
        if change in ("0.0", "-0.0"):
            change = "0.0"
        elif not change.startswith("-"):
            change = "+" + change
        assert trend.value == change


# --- outcomes, for both sides --------------------------------------------------------------------

answers = st.lists(
    st.tuples(
        st.sampled_from([f"U{i}" for i in range(7)]),
        st.sampled_from(["leader", "junior"]),
        st.sampled_from(PROGRESS),
    ),
    max_size=30,
)


@settings(max_examples=200)
@given(goals=answers, items=answers, min_responses=st.integers(1, 5))
def test_outcome_shares_match_the_oracle_and_hide_under_the_minimum(goals, items, min_responses):
    report = impact_report(
        cohort(goal_progress=tuple(goals), agreement_items=tuple(items)),
        None,
        min_responses=min_responses,
    )
    for role in ("leader", "junior"):
        mine = [progress for _, who, progress in goals if who == role]
        people = {person for person, who, _ in goals if who == role}
        for progress in PROGRESS:
            figure = report.figure(f"goal_{progress}_{role}")
            if not people or len(people) < min_responses:
                assert figure.hidden and figure.value == NOT_ENOUGH and figure.number is None
            else:
                part = mine.count(progress)
                assert not figure.hidden
                assert figure.value == f"{pct(part, len(mine))} ({part} of {len(mine)} answers)"
        mine = [progress for _, who, progress in items if who == role]
        people = {person for person, who, _ in items if who == role}
        figure = report.figure(f"agreement_achieved_{role}")
        if not people or len(people) < min_responses:
            assert figure.hidden and figure.value == NOT_ENOUGH
        else:
            part = mine.count("achieved")
            assert figure.value == f"{pct(part, len(mine))} ({part} of {len(mine)})"


def test_one_side_can_be_shown_while_the_other_is_hidden():
    goals = (
        ("L1", "leader", "achieved"),
        ("L2", "leader", "some"),
        ("L3", "leader", "achieved"),
        ("J1", "junior", "achieved"),
        ("J2", "junior", "achieved"),
        ("J2", "junior", "achieved"),  # the same junior twice is still two people in all
    )
    items = tuple(("L1", "leader", "achieved") for _ in range(3))  # three items, one leader
    report = impact_report(
        cohort(goal_progress=goals, agreement_items=items), None, min_responses=3
    )
    assert value_of(report, "goal_achieved_leader") == "67% (2 of 3 answers)"
    assert value_of(report, "goal_some_leader") == "33% (1 of 3 answers)"
    assert value_of(report, "goal_not_yet_leader") == "0% (0 of 3 answers)"
    for progress in PROGRESS:
        assert report.figure(f"goal_{progress}_junior").hidden
    assert report.figure("agreement_achieved_leader").hidden
    assert report.figure("agreement_achieved_junior").hidden


# --- the leaders' changes ------------------------------------------------------------------------


def test_changes_show_only_from_enough_different_leaders():
    one_leader = tuple(("L1", f"change {n}") for n in range(5))
    report = impact_report(cohort(changes=one_leader), None, min_responses=3)
    assert report.changes is None and report.figure("changes").hidden
    two_more = (*one_leader, ("L2", "Ask before I tell"), ("L3", "  "), ("L4", "Reverse 1:1s"))
    report = impact_report(cohort(changes=two_more), None, min_responses=3)
    assert report.changes is not None
    assert sorted(report.changes) == sorted(
        [*(f"change {n}" for n in range(5)), "Ask before I tell", "Reverse 1:1s"]
    )
    assert value_of(report, "changes") == "3"  # L1, L2, L4: a blank text is no change
    # Blank texts do not make up the numbers.
    blank = (("L1", "x"), ("L2", "y"), ("L3", "   "))
    assert impact_report(cohort(changes=blank), None, min_responses=3).changes is None


@given(st.randoms(use_true_random=False))
def test_the_order_of_changes_says_nothing_about_who_or_when(rng):
    changes = [(f"L{n}", f"I will do thing {n}") for n in range(8)]
    first = impact_report(cohort(changes=tuple(changes)), None, min_responses=3).changes
    rng.shuffle(changes)
    again = impact_report(cohort(changes=tuple(changes)), None, min_responses=3).changes
    assert first == again


def test_the_changes_are_not_in_the_order_they_were_given():
    changes = tuple((f"L{n}", f"change number {n}") for n in range(20))
    shown = impact_report(cohort(changes=changes), None, min_responses=3).changes
    assert shown is not None and list(shown) != [text for _, text in changes]


# --- the previous cohort -------------------------------------------------------------------------


def test_each_figure_sits_beside_the_previous_cohorts():
    goals_now = tuple((f"L{n}", "leader", "achieved") for n in range(4))
    previous = cohort(
        name="Autumn 2025",
        starts_on=date(2025, 9, 3),
        ends_on=date(2025, 12, 3),
        signed_up=8,
        paired=6,
        goal_progress=(("L1", "leader", "achieved"), ("L2", "leader", "not_yet")),  # hidden
        pulse=tuple((f"U{n}", date(2025, 9, 1), 3) for n in range(3)),
    )
    now = cohort(goal_progress=goals_now)
    report = impact_report(now, previous, min_responses=3)
    assert report.previous_cohort == "Autumn 2025"
    match = report.figure("match_rate")
    assert (match.value, match.previous) == ("83% (10 of 12)", "75% (6 of 8)")
    assert match.previous_number == 0.75
    # Hidden in the previous cohort: a dash, never its number.
    achieved = report.figure("goal_achieved_leader")
    assert (achieved.value, achieved.previous) == ("100% (4 of 4 answers)", NONE_SHOWN)
    assert achieved.previous_number is None
    # Hidden now, shown before.
    pulse = report.figure("pulse_average")
    assert pulse.hidden and pulse.previous == "3.0 (3 ratings by 3 people)"
    assert [w.text for w in report.previous_pulse_weeks][:2] == ["3.0", NOT_ENOUGH]


@settings(max_examples=100)
@given(goals=answers, min_responses=st.integers(1, 5))
def test_the_previous_column_is_the_previous_cohorts_own_report(goals, min_responses):
    previous = cohort(name="Before", goal_progress=tuple(goals))
    alone = impact_report(previous, None, min_responses=min_responses)
    beside = impact_report(cohort(), previous, min_responses=min_responses)
    for figure in alone.figures:
        other = beside.figure(figure.key)
        assert other.previous == (NONE_SHOWN if figure.hidden else figure.value)
        assert other.previous_number == (None if figure.hidden else figure.number)


def test_the_report_is_the_same_whatever_order_the_answers_come_in():
    rng = random.Random(12)
    pulse = [(f"U{n % 7}", week(1 + n % 5), 1 + n % 5) for n in range(60)]
    goals = [(f"U{n}", "leader" if n % 2 else "junior", PROGRESS[n % 3]) for n in range(12)]
    changes = [(f"U{n}", f"change {n}") for n in range(1, 12, 2)]
    first = impact_report(
        cohort(pulse=tuple(pulse), goal_progress=tuple(goals), changes=tuple(changes)),
        None,
        min_responses=3,
    )
    for items in (pulse, goals, changes):
        rng.shuffle(items)
    again = impact_report(
        cohort(pulse=tuple(pulse), goal_progress=tuple(goals), changes=tuple(changes)),
        None,
        min_responses=3,
    )
    assert first == again
