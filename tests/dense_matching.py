"""The dense matching solver from before issue 13: the oracle the sparse one is checked against.

A frozen copy of `bot.matching.match`, `greedy_match` and their `_Problem` from before the
sparse rewrite: a full juniors × leaders score matrix, solved with the Hungarian method
(`scipy.optimize.linear_sum_assignment`). Only tests/test_matching_sparse.py and
`bench/bench_matching.py --check-dense` use it; it needs memory for several dense juniors ×
leaders matrices, so keep it to a few thousand people a side.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from bot.matching import (
    Candidate,
    MatchResult,
    MatchRules,
    ProposedPair,
    Unmatched,
    _all_topics,
    _ancestors,
    _dept_key,
    _index,
    _membership,
    _plural,
    _shared_minutes,
    _topic_order,
    goal_words,
    spoken_list,
)
from bot.profiles import TOPICS, describe_topics

_RULES = MatchRules()


def dense_match(
    juniors: Sequence[Candidate],
    leaders: Sequence[Candidate],
    *,
    past_pairs: Collection[frozenset[str]],
    rules: MatchRules = _RULES,
    managers: Mapping[str, str | None] | None = None,
) -> MatchResult:
    """The assignment with the highest total score among those that break no hard rule.

    `managers` (user id → manager id) adds reporting lines of people who are not candidates,
    so a chain through someone not waiting this round still counts.
    """
    p = _DenseProblem.build(juniors, leaders, past_pairs, rules, managers)
    caps = np.minimum(p.capacity, p.allowed.sum(axis=1))  # extra slots could never be used
    rows = np.flatnonzero(p.allowed.any(axis=0))  # leaders with at least one allowed junior
    slot_owner = np.repeat(np.arange(len(juniors)), caps)
    chosen: list[tuple[int, int]] = []
    if rows.size and slot_owner.size:
        # Rows are leaders, columns are junior slots plus one zero-score "stay unmatched" column
        # per leader, so a full assignment always exists and no leader is ever pushed into a
        # forbidden cell (those are +inf). Every allowed pair scores > 0 (ScoreWeights.base), so
        # an allowed pair between two people with room left is always taken: the result is
        # maximal. It is not forced to be maximum-cardinality: one great pair may beat two
        # weak ones, because the total quality is what we optimise.
        grid = np.ix_(rows, slot_owner)
        cost = np.zeros((rows.size, slot_owner.size + rows.size))
        slots = cost[:, : slot_owner.size]
        np.negative(p.score.T[grid], out=slots)
        slots[~p.allowed.T[grid]] = np.inf
        r: NDArray[np.intp]  # leader rows and their columns; scipy ships no types
        c: NDArray[np.intp]
        r, c = linear_sum_assignment(cost)
        real = c < slot_owner.size
        for li, col in zip(rows[r[real]].tolist(), c[real].tolist(), strict=True):
            ji = int(slot_owner[col])
            if p.allowed[ji, li]:  # belt and braces: a forbidden cell never leaves this function
                chosen.append((ji, li))
    return p.result(chosen)


def dense_greedy_match(
    juniors: Sequence[Candidate],
    leaders: Sequence[Candidate],
    *,
    past_pairs: Collection[frozenset[str]],
    rules: MatchRules = _RULES,
    managers: Mapping[str, str | None] | None = None,
) -> MatchResult:
    """Baseline: repeatedly take the best remaining allowed pair. Not optimal."""
    p = _DenseProblem.build(juniors, leaders, past_pairs, rules, managers)
    ji, li = np.nonzero(p.allowed)
    scores = p.score[ji, li]
    order = np.lexsort((li, ji, -scores))  # best first; ties by input order, for determinism
    room: list[int] = p.capacity.tolist()
    taken = [False] * len(leaders)
    left = len(leaders)
    chosen: list[tuple[int, int]] = []
    for j, lv in zip(ji[order].tolist(), li[order].tolist(), strict=True):
        if room[j] > 0 and not taken[lv]:
            room[j] -= 1
            taken[lv] = True
            chosen.append((j, lv))
            left -= 1
            if not left:
                break
    return p.result(chosen)


@dataclass
class _DenseProblem:
    juniors: Sequence[Candidate]
    leaders: Sequence[Candidate]
    rules: MatchRules
    capacity: NDArray[np.int64]  # per junior
    score: NDArray[np.float64]  # juniors × leaders
    allowed: NDArray[np.bool_]  # juniors × leaders
    ok_level: NDArray[np.bool_]
    ok_hours: NDArray[np.bool_]
    in_chain: NDArray[np.bool_]
    paired_before: NDArray[np.bool_]
    minutes: NDArray[np.int64]  # juniors × leaders, shared working minutes a day
    dept_j: NDArray[np.int64]  # department codes
    dept_l: NDArray[np.int64]

    @classmethod
    def build(
        cls,
        juniors: Sequence[Candidate],
        leaders: Sequence[Candidate],
        past_pairs: Collection[frozenset[str]],
        rules: MatchRules,
        managers: Mapping[str, str | None] | None = None,
    ) -> _DenseProblem:
        nj, nl = len(juniors), len(leaders)
        j_index, l_index = _index(juniors, "juniors"), _index(leaders, "leaders")
        w = rules.weights

        # Topics: boolean membership matrices; their product counts shared topics per pair.
        vocab = {
            t: k for k, t in enumerate(dict.fromkeys([*TOPICS, *_all_topics(juniors, leaders)]))
        }
        # scipy ships no types: its results are Any, so each is annotated where it leaves scipy.
        tj: NDArray[np.float32] = _membership([c.topics for c in juniors], vocab).toarray()
        tl: NDArray[np.float32] = _membership([c.topics for c in leaders], vocab).toarray()
        shared_topics = (tj @ tl.T).astype(np.float64)

        # Departments as integer codes.
        codes: dict[str, int] = {}
        dept_j = np.array([codes.setdefault(_dept_key(c.department), len(codes)) for c in juniors])
        dept_l = np.array([codes.setdefault(_dept_key(c.department), len(codes)) for c in leaders])
        dept_j = dept_j.reshape(nj).astype(np.int64)
        dept_l = dept_l.reshape(nl).astype(np.int64)
        cross: NDArray[np.bool_] = dept_j[:, None] != dept_l[None, :]  # numpy types != as Any

        # Goals: sparse word-incidence matrices; Jaccard = |A∩B| / (|A| + |B| − |A∩B|).
        words: dict[str, int] = {}
        gj = _membership([goal_words(c.goals) for c in juniors], words, grow=True)
        gl = _membership([goal_words(c.goals) for c in leaders], words, grow=True)
        gj.resize((nj, max(len(words), 1)))
        gl.resize((nl, max(len(words), 1)))
        inter: NDArray[np.float64] = (gj @ gl.T).toarray().astype(np.float64)
        union: NDArray[np.float64] = (
            np.asarray(gj.sum(axis=1)) + np.asarray(gl.sum(axis=1)).T - inter
        )
        jaccard = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)

        lvl_j = np.array([c.level for c in juniors], dtype=np.int64).reshape(nj)
        lvl_l = np.array([c.level for c in leaders], dtype=np.int64).reshape(nl)
        gap = lvl_l[None, :] - lvl_j[:, None]

        # Few distinct offsets exist: compute overlaps per offset pair, then look them up.
        off_j = np.array([c.utc_offset_minutes for c in juniors], dtype=np.int64).reshape(nj)
        off_l = np.array([c.utc_offset_minutes for c in leaders], dtype=np.int64).reshape(nl)
        uj, inv_j = np.unique(off_j, return_inverse=True)
        ul, inv_l = np.unique(off_l, return_inverse=True)
        table = _shared_minutes(uj[:, None], ul[None, :], rules)
        minutes = table[inv_j.reshape(nj)[:, None], inv_l.reshape(nl)[None, :]]

        score: NDArray[np.float64] = (  # numpy types np.abs as returning Any
            w.topic * shared_topics
            + w.cross_department * cross
            + w.goals * jaccard
            + w.level / (1.0 + np.abs(gap - rules.ideal_level_gap))
            + w.base
        )

        ok_level = gap >= rules.level_gap
        # Whole minutes against the threshold, so exactly 2 hours counts as 2 hours.
        ok_hours = minutes >= math.ceil(rules.min_shared_hours * 60 - 1e-9)

        # Management chains from every manager link we were given, both directions.
        links = [(c.user_id, c.manager_id) for c in (*juniors, *leaders)]
        links += list((managers or {}).items())
        managers_of: dict[str, set[str]] = {}
        for person, boss in links:
            if boss is not None and boss != person:
                managers_of.setdefault(person, set()).add(boss)
        in_chain = np.zeros((nj, nl), dtype=np.bool_)
        for ji, c in enumerate(juniors):
            for boss in _ancestors(c.user_id, managers_of):
                if (boss_li := l_index.get(boss)) is not None:
                    in_chain[ji, boss_li] = True
        for li, c in enumerate(leaders):
            for boss in _ancestors(c.user_id, managers_of):
                if (boss_ji := j_index.get(boss)) is not None:
                    in_chain[boss_ji, li] = True

        paired_before = np.zeros((nj, nl), dtype=np.bool_)
        for pair in past_pairs:
            if len(pair) != 2:
                continue
            a, b = sorted(pair)
            for x, y in ((a, b), (b, a)):
                if (x_ji := j_index.get(x)) is not None and (y_li := l_index.get(y)) is not None:
                    paired_before[x_ji, y_li] = True

        allowed = ok_level & ok_hours & ~in_chain & ~paired_before
        for uid in j_index.keys() & l_index.keys():  # an "either" person given on both sides
            allowed[j_index[uid], l_index[uid]] = False

        capacity = np.array([max(0, c.capacity) for c in juniors], dtype=np.int64).reshape(nj)
        return cls(
            juniors=juniors,
            leaders=leaders,
            rules=rules,
            capacity=capacity,
            score=score,
            allowed=allowed,
            ok_level=ok_level,
            ok_hours=ok_hours,
            in_chain=in_chain,
            paired_before=paired_before,
            minutes=minutes,
            dept_j=dept_j,
            dept_l=dept_l,
        )

    # --- results ---

    def result(self, chosen: list[tuple[int, int]]) -> MatchResult:
        chosen = sorted(chosen)
        pairs = [self._pair(ji, li) for ji, li in chosen]
        matched_j = {ji for ji, _ in chosen}
        matched_l = {li for _, li in chosen}
        matched_ids = {p.mentor_id for p in pairs} | {p.mentee_id for p in pairs}

        reasons: dict[str, list[str]] = {}
        for ji, c in enumerate(self.juniors):
            if ji not in matched_j and c.user_id not in matched_ids:
                reasons.setdefault(c.user_id, []).append(self._why_junior(ji))
        for li, c in enumerate(self.leaders):
            if li not in matched_l and c.user_id not in matched_ids:
                reasons.setdefault(c.user_id, []).append(self._why_leader(li))
        unmatched = [
            Unmatched(
                uid, why[0] if len(why) == 1 else f"as a mentor, {why[0]}; as a mentee, {why[1]}"
            )
            for uid, why in reasons.items()
        ]
        return MatchResult(
            pairs=pairs, unmatched=unmatched, total_score=math.fsum(p.score for p in pairs)
        )

    def _pair(self, ji: int, li: int) -> ProposedPair:
        junior, leader = self.juniors[ji], self.leaders[li]
        leader_topics = set(leader.topics)
        shared = tuple(t for t in _topic_order(junior.topics) if t in leader_topics)
        same_dept = self.dept_j[ji] == self.dept_l[li]
        goals = sorted(goal_words(junior.goals) & goal_words(leader.goals))
        hours = int(self.minutes[ji, li]) // 60
        gap = leader.level - junior.level

        topics_text = describe_topics(shared) or ", ".join(shared)
        reasons = [
            f"shared topics: {topics_text}" if shared else "no shared topics",
            f"same department ({leader.department})" if same_dept else "different departments",
        ]
        if goals:
            reasons.append(f"your goals both mention {spoken_list(goals[:3])}")
        reasons.append(f"level gap {gap} (ideal {self.rules.ideal_level_gap})")
        reasons.append(_plural(hours, "shared working hour"))

        parts = [f"You both care about {topics_text}" if shared else "No topics in common"]
        parts += [r for r in reasons[1:] if not r.startswith("level gap")]
        return ProposedPair(
            mentor_id=junior.user_id,
            mentee_id=leader.user_id,
            score=float(self.score[ji, li]),
            reasons=tuple(reasons),
            explanation="; ".join(parts) + ".",
        )

    def _why_junior(self, ji: int) -> str:
        if not self.leaders:
            return "no leaders signed up for this round"
        if self.capacity[ji] <= 0:
            return "you have no mentoring capacity this round"
        return self._why(
            level=self.ok_level[ji, :],
            hours=self.ok_hours[ji, :],
            chain=self.in_chain[ji, :],
            before=self.paired_before[ji, :],
            allowed=self.allowed[ji, :],
            other="leader",
            direction="above",
        )

    def _why_leader(self, li: int) -> str:
        if not self.juniors:
            return "no juniors signed up for this round"
        return self._why(
            level=self.ok_level[:, li],
            hours=self.ok_hours[:, li],
            chain=self.in_chain[:, li],
            before=self.paired_before[:, li],
            allowed=self.allowed[:, li],
            other="junior",
            direction="below",
        )

    def _why(
        self,
        *,
        level: NDArray[np.bool_],
        hours: NDArray[np.bool_],
        chain: NDArray[np.bool_],
        before: NDArray[np.bool_],
        allowed: NDArray[np.bool_],
        other: str,
        direction: str,
    ) -> str:
        gap = _plural(self.rules.level_gap, "level")
        shared = _plural(self.rules.min_shared_hours, "shared working hour")
        if not level.any():
            return f"no {other} is at least {gap} {direction} you"
        fits = level & hours
        if not fits.any():
            return f"no {other} is at least {gap} {direction} you with {shared}"
        n = int(allowed.sum())
        if n:
            if n == 1:
                return f"the one eligible {other} went to a better-fitting pair"
            return f"all {n} eligible {other}s went to better-fitting pairs"
        fits_text = f"is at least {gap} {direction} you with {shared}"
        if not (fits & ~chain).any():
            return f"every {other} who {fits_text} is in your management chain"
        if not (fits & ~before).any():
            return f"you were paired before with every {other} who {fits_text}"
        return (
            f"every {other} who {fits_text} is in your management chain or was paired with you "
            "before"
        )
