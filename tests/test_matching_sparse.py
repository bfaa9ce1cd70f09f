"""The sparse matching against the dense Hungarian solver it replaced (tests/dense_matching.py).

`match` must reach the dense solver's total score exactly (up to float rounding) on any input,
with every pair re-checked here against the hard rules; `greedy_match` must give the very same
result as the dense greedy. The solver's knobs (candidates per leader, block size, kept block
scores, dense or sparse goal words, pairs added per round) are drawn too, so the dual check that
adds pairs outside the first candidates, and the blocked passes, run on small inputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.matching as matching
from bench.population import generate
from bot.matching import Candidate, MatchResult, MatchRules, greedy_match, match, score_pair
from bot.profiles import TOPICS, Role
from tests.dense_matching import dense_greedy_match, dense_match

RULES = MatchRules()
OFFSETS = [0, 60, 330, 420, 540, 600, -300, -480, -180, 765]
WORDS = ["ai", "data", "customers", "the", "hybrid", "teams", "learn", "tiktok", "privacy"]
DEPARTMENTS = ["Finance", "Sales", " sales", "Data"]  # " sales" is the same department as Sales


# --- an independent statement of the hard rules ----------------------------------------------


def bosses(uid: str, links: dict[str, set[str]]) -> set[str]:
    """Everyone above `uid` through any manager link (cycles allowed)."""
    found: set[str] = set()
    todo = [uid]
    while todo:
        for boss in links.get(todo.pop(), set()):
            if boss not in found:
                found.add(boss)
                todo.append(boss)
    found.discard(uid)
    return found


def broken_rules(
    j: Candidate, lead: Candidate, links: dict[str, set[str]], past: set[frozenset[str]]
) -> list[str]:
    broken = []
    if j.user_id == lead.user_id:
        broken.append("self")
    if lead.level - j.level < max(1, RULES.min_level_gap):
        broken.append("level")
    if lead.user_id in bosses(j.user_id, links) or j.user_id in bosses(lead.user_id, links):
        broken.append("chain")
    if frozenset((j.user_id, lead.user_id)) in past:
        broken.append("past")
    start, end = RULES.work_start_hour * 60, RULES.work_end_hour * 60
    both = sum(
        1
        for m in range(24 * 60)
        if start <= (m + j.utc_offset_minutes) % 1440 < end
        and start <= (m + lead.utc_offset_minutes) % 1440 < end
    )
    if both < RULES.min_shared_hours * 60:
        broken.append("hours")
    return broken


def manager_links(people: list[Candidate], managers: dict[str, str | None]) -> dict[str, set[str]]:
    links: dict[str, set[str]] = {}
    for person, boss in [(c.user_id, c.manager_id) for c in people] + list(managers.items()):
        if boss is not None and boss != person:
            links.setdefault(person, set()).add(boss)
    return links


def assert_valid(result: MatchResult, juniors, leaders, past, managers) -> None:
    links = manager_links([*juniors, *leaders], managers)
    by_j = {c.user_id: c for c in juniors}
    by_l = {c.user_id: c for c in leaders}
    for p in result.pairs:
        j, lead = by_j[p.mentor_id], by_l[p.mentee_id]
        assert broken_rules(j, lead, links, past) == [], (p.mentor_id, p.mentee_id)
        assert p.score == pytest.approx(score_pair(j, lead), abs=1e-12)
    mentees = [p.mentee_id for p in result.pairs]
    assert len(mentees) == len(set(mentees)), "a leader got two mentors"
    for j in juniors:
        assert sum(p.mentor_id == j.user_id for p in result.pairs) <= max(0, j.capacity)
    matched = {p.mentor_id for p in result.pairs} | set(mentees)
    everyone = {c.user_id for c in [*juniors, *leaders]}
    assert [u.user_id for u in result.unmatched] == list(
        dict.fromkeys(c.user_id for c in [*juniors, *leaders] if c.user_id not in matched)
    )
    assert {u.user_id for u in result.unmatched} == everyone - matched
    assert result.total_score == math.fsum(p.score for p in result.pairs)


def pair_ids(result: MatchResult) -> set[tuple[str, str]]:
    return {(p.mentor_id, p.mentee_id) for p in result.pairs}


# --- random populations -----------------------------------------------------------------------


@st.composite
def populations(draw, max_side: int = 40):
    nj = draw(st.integers(0, max_side))
    nl = draw(st.integers(0, max_side))
    ids = [f"UJ{i}" for i in range(nj)] + [f"UL{i}" for i in range(nl)]
    outsiders = [f"UX{i}" for i in range(3)]  # managers who are not candidates this round
    offsets = draw(st.lists(st.sampled_from(OFFSETS), min_size=1, max_size=4, unique=True))
    topics = list(TOPICS)

    def person(uid: str, role: Role, levels: tuple[int, int], capacity: int) -> Candidate:
        return Candidate(
            user_id=uid,
            role=role,
            level=draw(st.integers(*levels)),
            department=draw(st.sampled_from(DEPARTMENTS)),
            manager_id=draw(st.none() | st.sampled_from(ids + outsiders)),
            topics=tuple(draw(st.lists(st.sampled_from(topics), max_size=4, unique=True))),
            goals=" ".join(draw(st.lists(st.sampled_from(WORDS), max_size=5))),
            utc_offset_minutes=draw(st.sampled_from(offsets)),
            capacity=capacity,
        )

    juniors = [person(u, Role.JUNIOR, (1, 4), draw(st.integers(0, 3))) for u in ids[:nj]]
    leaders = [person(u, Role.LEADER, (2, 6), 1) for u in ids[nj:]]
    if juniors and draw(st.booleans()):
        # "Either" people handed to both sides.
        for k in range(draw(st.integers(1, min(3, nj)))):
            twin = dataclasses.replace(juniors[k], role=Role.EITHER)
            juniors[k] = twin
            leaders.append(dataclasses.replace(twin, level=draw(st.integers(1, 6))))
    everyone = [c.user_id for c in [*juniors, *leaders]]
    managers: dict[str, str | None] = {}
    if everyone:
        # Chains through outsiders: someone -> UX -> someone else (and UX -> UX).
        for boss in outsiders:
            if draw(st.booleans()):
                managers[boss] = draw(st.sampled_from(everyone + outsiders))
    all_pairs = [frozenset((j.user_id, lead.user_id)) for j in juniors for lead in leaders]
    past = set(draw(st.lists(st.sampled_from(all_pairs), max_size=20))) if all_pairs else set()
    return juniors, leaders, past, managers


@st.composite
def knobs(draw):
    return {
        "_FIRST_CHOICES": draw(st.sampled_from([1, 2, 16])),
        "_BLOCK_CELLS": draw(st.sampled_from([1 << 22, 1, 37])),
        "_KEPT_BYTES": draw(st.sampled_from([1 << 30, 0])),
        "_DENSE_WORDS": draw(st.sampled_from([1024, 0])),
        "_ADDED_PER_LEADER": draw(st.sampled_from([64, 1])),
    }


@contextlib.contextmanager
def solver_knobs(values: dict[str, float]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for name, value in values.items():
            assert hasattr(matching, name), name
            stack.enter_context(mock.patch.object(matching, name, value))
        yield


def dense_optimum_is_unique(juniors, leaders, past, managers, dense: MatchResult) -> bool:
    """No other assignment reaches the total: forbidding any one of its pairs loses score.
    (Only asked when nobody is on both sides, where forbidding a pair of ids forbids one pair.)"""
    for p in dense.pairs:
        without = dense_match(
            juniors,
            leaders,
            past_pairs=past | {frozenset((p.mentor_id, p.mentee_id))},
            managers=managers,
        )
        if without.total_score >= dense.total_score - 1e-9:
            return False
    return True


# --- the properties ---------------------------------------------------------------------------


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations(), knobs())
def test_sparse_match_reaches_the_dense_optimum(case, values):
    juniors, leaders, past, managers = case
    with solver_knobs(values):
        result = match(juniors, leaders, past_pairs=past, managers=managers)
    dense = dense_match(juniors, leaders, past_pairs=past, managers=managers)

    assert abs(result.total_score - dense.total_score) <= 1e-9
    assert_valid(result, juniors, leaders, past, managers)
    # Pairs both chose are described the same way, scored to the same float.
    theirs = {(p.mentor_id, p.mentee_id): p for p in dense.pairs}
    for p in result.pairs:
        if (p.mentor_id, p.mentee_id) in theirs:
            assert p == theirs[p.mentor_id, p.mentee_id]
    # Who is left out, and why: the reasons depend on the rules alone, so anyone left out by
    # both is told the same thing. With ties several assignments reach the optimum and may leave
    # out different people; when the optimum is unique the results are identical.
    dense_why = {u.user_id: u.reason for u in dense.unmatched}
    for u in result.unmatched:
        if u.user_id in dense_why:
            assert u.reason == dense_why[u.user_id]
    both_sides = {c.user_id for c in juniors} & {c.user_id for c in leaders}
    if (
        pair_ids(result) != pair_ids(dense)
        and not both_sides
        and len(dense.pairs) <= 12
        and dense_optimum_is_unique(juniors, leaders, past, managers, dense)
    ):
        raise AssertionError("the optimum is unique, yet the sparse solver chose another")
    if pair_ids(result) == pair_ids(dense):
        assert result == dense


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations(), knobs())
def test_greedy_is_the_dense_greedy(case, values):
    juniors, leaders, past, managers = case
    with solver_knobs({**values, "_GREEDY_CHOICES": values["_FIRST_CHOICES"]}):
        result = greedy_match(juniors, leaders, past_pairs=past, managers=managers)
    assert result == dense_greedy_match(juniors, leaders, past_pairs=past, managers=managers)
    assert_valid(result, juniors, leaders, past, managers)


def test_a_pair_outside_every_leaders_first_choices_is_found():
    # Both leaders' best junior is UA (two shared topics), who has room for one. With one first
    # choice per leader the first graph leaves UY unmatched; only the dual check finds UB.
    def person(uid, role, level, topics, capacity=1):
        return Candidate(uid, role, level, "Data", None, topics, "", 0, capacity)

    a = person("UA", Role.JUNIOR, 1, ("ai", "social"))
    b = person("UB", Role.JUNIOR, 1, ())
    x = person("UX", Role.LEADER, 4, ("ai", "social"))
    y = person("UY", Role.LEADER, 4, ("ai", "social"))
    with solver_knobs({"_FIRST_CHOICES": 1}):
        result = match([a, b], [x, y], past_pairs=())
    assert len(result.pairs) == 2
    assert result.total_score == pytest.approx(
        dense_match([a, b], [x, y], past_pairs=()).total_score, abs=1e-12
    )


def test_a_pair_flagged_again_is_not_added_twice():
    # A check that flags every allowed pair (a negative slack) still ends, at the optimum of
    # the full graph: pairs already in it are not added again (their costs would add up, and
    # the check would never run out of pairs to add).
    pop = generate(30, 30, seed=5)
    solve = matching._Graph.solve
    solves = []

    def counted(graph, *args):
        solves.append(1)
        assert len(solves) <= 10, "the check keeps adding pairs the graph already has"
        return solve(graph, *args)

    with (
        solver_knobs({"_SLACK": -1.0, "_FIRST_CHOICES": 1}),
        mock.patch.object(matching._Graph, "solve", counted),
    ):
        result = match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
    dense = dense_match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
    assert abs(result.total_score - dense.total_score) <= 1e-9


# --- at scale -------------------------------------------------------------------------------------


def test_2000_by_2000_reaches_the_dense_optimum_and_greedy_is_unchanged():
    """About 3 s for the sparse solver and 2 for the dense one (bench/bench_matching.py times
    them; --check-dense repeats this comparison at any size up to 2,000)."""
    pop = generate(2000, 2000, seed=3)
    result = match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
    dense = dense_match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
    assert abs(result.total_score - dense.total_score) <= 1e-9
    assert len(result.pairs) == len(dense.pairs)
    assert_valid(result, pop.juniors, pop.leaders, pop.past_pairs, {})
    greedy = greedy_match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
    assert greedy == dense_greedy_match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
