"""The matching engine: hard rules are never broken, and the total score is the true optimum."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.population import generate
from bot.matching import (
    Candidate,
    MatchRules,
    ScoreWeights,
    greedy_match,
    match,
    score_pair,
    shared_minutes,
)
from bot.profiles import TOPICS, Role

RULES = MatchRules()
LONDON, NEW_YORK, SYDNEY, BANGKOK, TOKYO, LOS_ANGELES = 0, -300, 600, 420, 540, -480


def junior(uid, level=1, **kw) -> Candidate:
    return _candidate(uid, Role.JUNIOR, level, **kw)


def leader(uid, level=4, **kw) -> Candidate:
    return _candidate(uid, Role.LEADER, level, **kw)


def _candidate(
    uid,
    role,
    level,
    *,
    dept="Finance",
    manager=None,
    topics=("ai",),
    goals="",
    offset=LONDON,
    capacity=1,
) -> Candidate:
    return Candidate(
        user_id=uid,
        role=role,
        level=level,
        department=dept,
        manager_id=manager,
        topics=tuple(topics),
        goals=goals,
        utc_offset_minutes=offset,
        capacity=capacity,
    )


def pairs_of(result) -> set[tuple[str, str]]:
    return {(p.mentor_id, p.mentee_id) for p in result.pairs}


def reason_for(result, uid) -> str:
    return next(u.reason for u in result.unmatched if u.user_id == uid)


# --- an independent statement of the hard rules ----------------------------------------------


def _chain(uid, manager_of) -> set[str]:
    seen: set[str] = set()
    while (uid := manager_of.get(uid)) is not None and uid not in seen:
        seen.add(uid)
    return seen


def violations(j: Candidate, lead: Candidate, everyone, past_pairs, rules=RULES) -> list[str]:
    manager_of = {c.user_id: c.manager_id for c in everyone if c.manager_id}
    broken = []
    if j.user_id == lead.user_id:
        broken.append("self")
    if lead.level - j.level < max(1, rules.min_level_gap):
        broken.append("level")
    if lead.user_id in _chain(j.user_id, manager_of) or j.user_id in _chain(
        lead.user_id, manager_of
    ):
        broken.append("chain")
    if frozenset((j.user_id, lead.user_id)) in past_pairs:
        broken.append("past")
    # Minute by minute around one day: both at work, in local time.
    start, end = rules.work_start_hour * 60, rules.work_end_hour * 60
    both = sum(
        1
        for m in range(24 * 60)
        if start <= (m + j.utc_offset_minutes) % 1440 < end
        and start <= (m + lead.utc_offset_minutes) % 1440 < end
    )
    if both < rules.min_shared_hours * 60:
        broken.append("hours")
    return broken


def brute_force_best(juniors, leaders, past_pairs, rules=RULES) -> float:
    everyone = [*juniors, *leaders]
    options = [
        [
            (ji, score_pair(j, lead, rules))
            for ji, j in enumerate(juniors)
            if not violations(j, lead, everyone, past_pairs, rules)
        ]
        for lead in leaders
    ]
    room = [j.capacity for j in juniors]

    def best(k: int) -> float:
        if k == len(leaders):
            return 0.0
        top = best(k + 1)  # this leader stays unmatched
        for ji, s in options[k]:
            if room[ji] > 0:
                room[ji] -= 1
                top = max(top, s + best(k + 1))
                room[ji] += 1
        return top

    return best(0)


def assert_valid(result, juniors, leaders, past_pairs, rules=RULES):
    everyone = [*juniors, *leaders]
    by_j = {c.user_id: c for c in juniors}
    by_l = {c.user_id: c for c in leaders}
    for p in result.pairs:
        j, lead = by_j[p.mentor_id], by_l[p.mentee_id]
        assert violations(j, lead, everyone, past_pairs, rules) == []
        assert p.score == pytest.approx(score_pair(j, lead, rules))
        assert p.score > 0
    mentees = [p.mentee_id for p in result.pairs]
    assert len(mentees) == len(set(mentees)), "a leader got two mentors"
    for j in juniors:
        assert sum(p.mentor_id == j.user_id for p in result.pairs) <= j.capacity
    matched = {p.mentor_id for p in result.pairs} | set(mentees)
    assert {u.user_id for u in result.unmatched} == {c.user_id for c in everyone} - matched
    assert all(u.reason for u in result.unmatched)
    assert result.total_score == pytest.approx(math.fsum(p.score for p in result.pairs))


# --- optimality ---------------------------------------------------------------------------------

_OFFSETS = [LONDON, 60, 330, BANGKOK, SYDNEY, NEW_YORK, LOS_ANGELES]
_TOPICS = list(TOPICS)[:4]
_WORDS = ["ai", "data", "customers", "the", "hybrid", "teams", "learn"]


@st.composite
def populations(draw):
    nj = draw(st.integers(0, 5))
    nl = draw(st.integers(0, 5))
    ids = [f"UJ{i}" for i in range(nj)] + [f"UL{i}" for i in range(nl)]

    def person(uid, role, capacity):
        return _candidate(
            uid,
            role,
            draw(st.integers(1, 6)),
            dept=draw(st.sampled_from(["Finance", "Sales", "Data"])),
            manager=draw(st.none() | st.sampled_from(ids)),
            topics=draw(st.lists(st.sampled_from(_TOPICS), max_size=3, unique=True)),
            goals=" ".join(draw(st.lists(st.sampled_from(_WORDS), max_size=4))),
            offset=draw(st.sampled_from(_OFFSETS)),
            capacity=capacity,
        )

    juniors = [person(uid, Role.JUNIOR, draw(st.integers(1, 2))) for uid in ids[:nj]]
    leaders = [person(uid, Role.LEADER, 1) for uid in ids[nj:]]
    if juniors and draw(st.booleans()):
        # An "either" person handed to both sides.
        twin = dataclasses.replace(juniors[0], role=Role.EITHER)
        juniors[0] = twin
        leaders.append(dataclasses.replace(twin, level=draw(st.integers(1, 6))))
    all_pairs = [frozenset((j.user_id, lead.user_id)) for j in juniors for lead in leaders]
    past = set(draw(st.lists(st.sampled_from(all_pairs), max_size=3))) if all_pairs else set()
    return juniors, leaders, past


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_match_is_optimal_and_valid(case):
    juniors, leaders, past = case
    result = match(juniors, leaders, past_pairs=past)
    assert_valid(result, juniors, leaders, past)
    assert result.total_score == pytest.approx(brute_force_best(juniors, leaders, past))

    greedy = greedy_match(juniors, leaders, past_pairs=past)
    assert_valid(greedy, juniors, leaders, past)
    assert greedy.total_score <= result.total_score + 1e-9


def test_greedy_is_strictly_worse_on_a_crafted_case():
    # Greedy grabs A-X (two topics), which strands B; the optimum gives X to B and Y to A.
    a = junior("UA", level=1, topics=("ai", "social"))
    b = junior("UB", level=2, topics=("ai",))
    x = leader("UX", level=5, topics=("ai", "social"))
    y = leader("UY", level=2, topics=("social",))  # same level as B: forbidden for B
    best = match([a, b], [x, y], past_pairs=())
    greedy = greedy_match([a, b], [x, y], past_pairs=())
    assert pairs_of(best) == {("UA", "UY"), ("UB", "UX")}
    assert pairs_of(greedy) == {("UA", "UX")}
    assert greedy.total_score < best.total_score


# --- each hard rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("junior_level", "leader_level", "min_gap", "allowed"),
    [(3, 3, 1, False), (4, 3, 1, False), (3, 4, 1, True), (3, 4, 2, False), (2, 4, 2, True)],
)
def test_level_gap(junior_level, leader_level, min_gap, allowed):
    rules = MatchRules(min_level_gap=min_gap)
    result = match(
        [junior("UJ", level=junior_level)],
        [leader("UL", level=leader_level)],
        past_pairs=(),
        rules=rules,
    )
    assert bool(result.pairs) is allowed


def test_min_level_gap_zero_still_means_strictly_below():
    result = match(
        [junior("UJ", level=3)],
        [leader("UL", level=3)],
        past_pairs=(),
        rules=MatchRules(min_level_gap=0),
    )
    assert result.pairs == []


@pytest.mark.parametrize("direction", ["junior reports to leader", "leader reports to junior"])
def test_direct_manager_is_forbidden_both_ways(direction):
    if direction == "junior reports to leader":
        j, lead = junior("UJ", manager="UL"), leader("UL")
    else:
        # Data can be odd (a "junior" managing a leader); the rule still holds.
        j, lead = junior("UJ"), leader("UL", manager="UJ")
    result = match([j], [lead], past_pairs=())
    assert result.pairs == []
    assert "management chain" in reason_for(result, "UL")


def test_skip_level_chain_is_forbidden_through_people_on_either_side():
    # UJ -> UM (a leader) -> UB (the big boss, a leader). Also UL2 -> UJ2 -> ... via a junior.
    j = junior("UJ", manager="UM")
    m = leader("UM", level=4, manager="UB", offset=TOKYO)  # unmatchable with UJ anyway
    big = leader("UB", level=6)
    j2 = junior("UJ2", level=2, manager="UX")  # UX is not a candidate: the chain stops there
    lead2 = leader("UL2", level=5, manager="UJ3")
    j3 = junior("UJ3", level=3, manager="UJ2", offset=TOKYO)
    result = match([j, j2, j3], [m, big, lead2], past_pairs=())
    pairs = pairs_of(result)
    assert ("UJ", "UB") not in pairs  # skip-level, upwards
    assert ("UJ2", "UL2") not in pairs  # skip-level, downwards: UL2 -> UJ3 -> UJ2
    assert_valid(result, [j, j2, j3], [m, big, lead2], set())


def test_reporting_lines_of_people_who_are_not_candidates_count():
    # UJ -> UMID (paused, so not a candidate) -> UL: only the extra reporting lines show it.
    j, lead = junior("UJ", manager="UMID"), leader("UL")
    assert pairs_of(match([j], [lead], past_pairs=())) == {("UJ", "UL")}
    for fn in (match, greedy_match):
        result = fn([j], [lead], past_pairs=(), managers={"UMID": "UL", "UJ": "UMID"})
        assert result.pairs == []
        assert "management chain" in reason_for(result, "UJ")


def test_manager_cycles_do_not_hang():
    a = junior("UA", manager="UB")
    b = leader("UB", manager="UC")
    c = leader("UC", manager="UA")
    result = match([a], [b, c], past_pairs=())
    assert result.pairs == []


def test_past_pair_is_forbidden():
    j, lead = junior("UJ"), leader("UL")
    assert pairs_of(match([j], [lead], past_pairs=())) == {("UJ", "UL")}
    result = match([j], [lead], past_pairs={frozenset(("UL", "UJ"))})
    assert result.pairs == []
    assert "paired before" in reason_for(result, "UL")


@pytest.mark.parametrize(
    ("offset_a", "offset_b", "minutes"),
    [
        (LONDON, LONDON, 540),
        (LONDON, SYDNEY, 0),
        (LONDON, 660, 0),  # Sydney in summer
        (LONDON, BANGKOK, 120),
        (LONDON, BANGKOK + 1, 119),
        (LONDON, NEW_YORK, 240),
        (LOS_ANGELES, TOKYO, 120),  # across UTC midnight
        (-420, 780, 300),  # Los Angeles summer and Auckland summer
        (-720, 840, 420),  # the 26-hour spread between Baker Island and Kiritimati
    ],
)
def test_shared_minutes(offset_a, offset_b, minutes):
    assert shared_minutes(offset_a, offset_b) == minutes
    assert shared_minutes(offset_b, offset_a) == minutes


@given(st.integers(-720, 840), st.integers(-720, 840), st.integers(0, 23), st.integers(1, 24))
def test_shared_minutes_matches_a_minute_by_minute_count(a, b, start, length):
    end = min(24, start + length)
    rules = MatchRules(work_start_hour=start, work_end_hour=end)
    lo, hi = start * 60, end * 60
    expected = sum(
        1 for m in range(1440) if lo <= (m + a) % 1440 < hi and lo <= (m + b) % 1440 < hi
    )
    assert shared_minutes(a, b, rules) == expected


@pytest.mark.parametrize(("offset", "allowed"), [(SYDNEY, False), (BANGKOK, True), (421, False)])
def test_time_zone_overlap(offset, allowed):
    result = match([junior("UJ", offset=LONDON)], [leader("UL", offset=offset)], past_pairs=())
    assert bool(result.pairs) is allowed
    if not allowed:
        assert reason_for(result, "UL") == (
            "no junior is at least 1 level below you with 2 shared working hours"
        )


def test_capacity_is_respected():
    j = junior("UJ", capacity=2)
    leaders = [leader(f"UL{i}", topics=("ai",) * (i < 2) or ("social",)) for i in range(3)]
    result = match([j], leaders, past_pairs=())
    assert pairs_of(result) == {("UJ", "UL0"), ("UJ", "UL1")}
    assert reason_for(result, "UL2") == "the one eligible junior went to a better-fitting pair"


def test_a_leader_never_gets_two_mentors():
    juniors = [junior(f"UJ{i}", topics=("ai", "social")) for i in range(3)]
    result = match(juniors, [leader("UL", topics=("ai", "social"))], past_pairs=())
    assert len(result.pairs) == 1
    assert len(result.unmatched) == 2
    for left_out in result.unmatched:
        assert left_out.reason == "the one eligible leader went to a better-fitting pair"


def test_the_same_person_is_never_paired_with_themself():
    # Inconsistent data for one "either" person: the level rule alone would allow it.
    me_junior = _candidate("UME", Role.EITHER, 2)
    me_leader = _candidate("UME", Role.EITHER, 5)
    result = match([me_junior], [me_leader], past_pairs=())
    assert result.pairs == []
    assert [u.user_id for u in result.unmatched] == ["UME"]
    assert result.unmatched[0].reason.startswith("as a mentor, ")


def test_duplicate_ids_on_one_side_are_rejected():
    with pytest.raises(ValueError, match="twice"):
        match([junior("UJ"), junior("UJ")], [leader("UL")], past_pairs=())


# --- unmatched reasons ----------------------------------------------------------------------------


def test_reasons_for_people_who_cannot_be_matched():
    juniors = [junior("UJ1", level=2), junior("UJ2", level=3, manager="UBOSS")]
    leaders = [
        leader("UBOTTOM", level=1),
        leader("UFAR", level=5, offset=SYDNEY),
        leader("UBOSS", level=4, manager="UCEO"),
        leader("UCEO", level=6),
        leader("UOLD", level=3),
    ]
    # UJ1 can only reach UBOSS and UCEO; they were UJ1's past partners.
    past = {frozenset(("UJ1", "UBOSS")), frozenset(("UJ1", "UCEO"))}
    result = match(juniors, leaders, past_pairs=past)
    assert_valid(result, juniors, leaders, past)
    assert reason_for(result, "UBOTTOM") == "no junior is at least 1 level below you"
    assert reason_for(result, "UFAR") == (
        "no junior is at least 1 level below you with 2 shared working hours"
    )
    assert reason_for(result, "UBOSS") == (
        "every junior who is at least 1 level below you with 2 shared working hours is in your "
        "management chain or was paired with you before"
    )
    assert reason_for(result, "UCEO") == reason_for(result, "UBOSS")
    # UOLD (level 3) fits UJ1 only; so UJ1 mentors UOLD and UJ2 has nobody left.
    assert pairs_of(result) == {("UJ1", "UOLD")}
    assert reason_for(result, "UJ2") == (
        "every leader who is at least 1 level above you with 2 shared working hours is in your "
        "management chain"
    )


def test_reasons_when_one_side_is_empty():
    result = match([], [leader("UL")], past_pairs=())
    assert reason_for(result, "UL") == "no juniors signed up for this round"
    result = match([junior("UJ")], [], past_pairs=())
    assert reason_for(result, "UJ") == "no leaders signed up for this round"


# --- scores and explanations --------------------------------------------------------------------


def test_explanation_for_a_known_pair():
    j = junior("UJ", level=1, topics=("ai", "social", "hybrid"), dept="Data", goals="TikTok")
    lead = leader(
        "UL", level=4, topics=("hybrid", "inclusion", "ai"), offset=NEW_YORK, goals="Strategy"
    )
    (pair,) = match([j], [lead], past_pairs=()).pairs
    assert pair.explanation == (
        "You both care about Digital trends & AI and Hybrid & flexible work; different "
        "departments; 4 shared working hours."
    )
    assert pair.score == pytest.approx(2 * 10 + 3 + 0 + 2 / (1 + 0) + 1)
    assert "level gap 3 (ideal 3)" in pair.reasons


def test_explanation_same_department_goals_and_hours_rounded_down():
    j = junior("UJ", topics=("career",), goals="I want to learn about data and customers")
    lead = leader("UL", topics=("ai",), offset=-270, goals="Customers, data, pricing")
    (pair,) = match([j], [lead], past_pairs=()).pairs
    assert pair.explanation == (
        "No topics in common; same department (Finance); your goals both mention customers and "
        "data; 4 shared working hours."
    )


def _goal_terms(explanation: str) -> str | None:
    """What the explanation says the goals share, or None when it names nothing."""
    found = re.search(r"your goals both mention ([^;.]*)", explanation)
    return found.group(1) if found else None


@pytest.mark.parametrize(
    ("junior_goals", "leader_goals", "named"),
    [
        # Goals like the ones people were shown "(export, goal, must)" and "(7731, ...)" for.
        (
            "My goal: the export must be confidential",
            "Goal 7731: I must keep it confidential",
            "confidential",
        ),
        ("Goal 7731 must be done, 42 times", "My goal is 7731 and I must learn to do it", None),
        ("Plan B for Q3", "Plan B, then Q4", "plan"),
    ],
)
def test_explanations_never_name_filler_words_or_numbers(junior_goals, leader_goals, named):
    j = junior("UJ", topics=("ai",), goals=junior_goals)
    lead = leader("UL", topics=("ai",), goals=leader_goals)
    (pair,) = match([j], [lead], past_pairs=()).pairs
    assert _goal_terms(pair.explanation) == named, pair.explanation
    # Nothing meaningful in common: the shared topics alone say why.
    assert pair.explanation.startswith("You both care about Digital trends & AI;")


def test_goals_in_common_read_as_a_sentence():
    j = junior("UJ", topics=("ai",), goals="Export pricing to leaders; confidential data")
    lead = leader("UL", topics=("ai",), goals="Confidential pricing data for export")
    (pair,) = match([j], [lead], past_pairs=()).pairs
    assert "your goals both mention confidential, data and export;" in pair.explanation


@st.composite
def scored_pairs(draw):
    def person(uid, role, level):
        return _candidate(
            uid,
            role,
            level,
            dept=draw(st.sampled_from(["Finance", "Sales"])),
            topics=draw(st.lists(st.sampled_from(list(TOPICS)), max_size=7, unique=True)),
            goals=" ".join(draw(st.lists(st.sampled_from(_WORDS), max_size=5))),
        )

    level = draw(st.integers(1, 5))
    j = person("UJ", Role.JUNIOR, level)
    lead = person("UL", Role.LEADER, draw(st.integers(level + 1, 6)))
    return j, lead, len(set(j.topics) & set(lead.topics))


@given(scored_pairs(), scored_pairs())
def test_more_shared_topics_always_scores_higher(first, second):
    (j1, l1, shared1), (j2, l2, shared2) = first, second
    if shared1 > shared2:
        assert score_pair(j1, l1) > score_pair(j2, l2)


def test_weights_must_keep_topics_on_top():
    with pytest.raises(ValueError, match="topic weight"):
        ScoreWeights(topic=5.0)
    with pytest.raises(ValueError, match="base"):
        ScoreWeights(base=0.0)


# --- determinism ----------------------------------------------------------------------------------


def test_same_input_same_output():
    pop = generate(80, 60, seed=7)
    first = match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs)
    second = match(list(pop.juniors), list(pop.leaders), past_pairs=set(pop.past_pairs))
    assert first == second
    assert first.pairs
    assert_valid(first, pop.juniors, pop.leaders, pop.past_pairs)
    assert greedy_match(pop.juniors, pop.leaders, past_pairs=pop.past_pairs) == greedy_match(
        pop.juniors, pop.leaders, past_pairs=pop.past_pairs
    )
