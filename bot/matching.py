"""Optimal junior → leader matching: plain candidates in, proposed pairs (and who's left out) out.

A junior mentors (the `mentor_id` of a pair), a leader is mentored (the `mentee_id`). Every pair
that breaks a hard rule is forbidden outright; among the allowed pairs we maximise the total
quality score with the Hungarian method (`scipy.optimize.linear_sum_assignment`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from bot.profiles import TOPICS, Role, describe_topics

__all__ = [
    "Candidate",
    "MatchResult",
    "MatchRules",
    "ProposedPair",
    "ScoreWeights",
    "Unmatched",
    "goal_words",
    "greedy_match",
    "match",
    "score_pair",
    "shared_minutes",
]

_DAY = 24 * 60

# Words that say nothing about what someone wants from the program: grammar, and the filler of
# goal-writing ("my goal is to learn how to get better at ..."). What is left is what a person
# would name if asked what two goals have in common.
STOP_WORDS = frozenset(
    """
    a an and are as at be been but by can could do does for from get gets getting go going
    has have how i i'd i'll i'm i've if in into is it it's its just me more most much my of on
    or our out over so some than that the their them then there these they this those to too
    up us very was we were what when where which who why will with would you your yours
    about like want wants wanted wish hope hoping need needs learn learning learned help
    helping better understand understanding also goal goals aim aims must should able get
    make making know knowing see seeing find finding things thing way ways well really good
    great new other others each every improve improving develop developing grow growing
    build building use using work working try trying lot lots one two three first next
    """.split()
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Candidate:
    user_id: str
    role: Role
    level: int
    department: str
    manager_id: str | None
    topics: tuple[str, ...]
    goals: str
    utc_offset_minutes: int
    capacity: int = 1  # how many leaders a junior takes; ignored for leaders


@dataclass(frozen=True)
class ScoreWeights:
    """Weights of the pair score; `topic` is per shared topic and must beat all the rest together.

    score = topic × shared topics + cross_department × [different departments]
            + goals × Jaccard(goal words) + level / (1 + |gap − ideal gap|) + base
    """

    topic: float = 10.0
    cross_department: float = 3.0
    goals: float = 3.0
    level: float = 2.0
    base: float = 1.0

    def __post_init__(self) -> None:
        rest = self.cross_department + self.goals + self.level
        if min(self.topic, self.cross_department, self.goals, self.level) < 0:
            raise ValueError("score weights must not be negative")
        # Every other term is in [0, its weight], so this keeps "one more topic wins".
        if self.topic <= rest:
            raise ValueError("topic weight must exceed the other weights together")
        if self.base <= 0:
            raise ValueError("base must be positive so every allowed pair is worth making")


@dataclass(frozen=True)
class MatchRules:
    min_level_gap: int = 1
    ideal_level_gap: int = 3
    min_shared_hours: float = 2.0
    work_start_hour: int = 9
    work_end_hour: int = 18
    weights: ScoreWeights = field(default_factory=ScoreWeights)

    def __post_init__(self) -> None:
        if not 0 <= self.work_start_hour < self.work_end_hour <= 24:
            raise ValueError("working hours must satisfy 0 <= start < end <= 24")

    @property
    def level_gap(self) -> int:
        # The mentor is always strictly junior, whatever the configured gap.
        return max(1, self.min_level_gap)


@dataclass(frozen=True)
class ProposedPair:
    mentor_id: str  # the junior
    mentee_id: str  # the leader
    score: float
    reasons: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class Unmatched:
    user_id: str
    reason: str


@dataclass(frozen=True)
class MatchResult:
    pairs: list[ProposedPair]
    unmatched: list[Unmatched]
    total_score: float


# --- scalar helpers (explanations, tests, small callers) -------------------------------------


def goal_words(goals: str) -> frozenset[str]:
    """The meaningful words of a goals text, lowercase: no stop or filler words, nothing with
    a digit in it (a number, a ticket ID), nothing of one letter."""
    return frozenset(
        w
        for w in _WORD.findall(goals.lower())
        if len(w) > 1 and w not in STOP_WORDS and not any(ch.isdigit() for ch in w)
    )


def spoken_list(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c": a list as a person says it."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def shared_minutes(offset_a: int, offset_b: int, rules: MatchRules = MatchRules()) -> int:
    """Minutes per day both local working windows overlap, for two UTC offsets in minutes."""
    return int(_shared_minutes(np.asarray(offset_a), np.asarray(offset_b), rules))


def score_pair(junior: Candidate, leader: Candidate, rules: MatchRules = MatchRules()) -> float:
    """Quality of a pair, ignoring the hard rules (see `ScoreWeights` for the formula)."""
    w = rules.weights
    shared = len(set(junior.topics) & set(leader.topics))
    cross = _dept_key(junior.department) != _dept_key(leader.department)
    a, b = goal_words(junior.goals), goal_words(leader.goals)
    jaccard = len(a & b) / len(a | b) if a | b else 0.0
    gap = leader.level - junior.level
    return (
        w.topic * shared
        + w.cross_department * cross
        + w.goals * jaccard
        + w.level / (1 + abs(gap - rules.ideal_level_gap))
        + w.base
    )


# --- matching ---------------------------------------------------------------------------------


def match(
    juniors: Sequence[Candidate],
    leaders: Sequence[Candidate],
    *,
    past_pairs: Collection[frozenset[str]],
    rules: MatchRules = MatchRules(),
    managers: Mapping[str, str | None] | None = None,
) -> MatchResult:
    """The assignment with the highest total score among those that break no hard rule.

    `managers` (user id → manager id) adds reporting lines of people who are not candidates,
    so a chain through someone not waiting this round still counts.
    """
    p = _Problem.build(juniors, leaders, past_pairs, rules, managers)
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


def greedy_match(
    juniors: Sequence[Candidate],
    leaders: Sequence[Candidate],
    *,
    past_pairs: Collection[frozenset[str]],
    rules: MatchRules = MatchRules(),
    managers: Mapping[str, str | None] | None = None,
) -> MatchResult:
    """Baseline: repeatedly take the best remaining allowed pair. Not optimal."""
    p = _Problem.build(juniors, leaders, past_pairs, rules, managers)
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


# --- internals --------------------------------------------------------------------------------


def _dept_key(department: str) -> str:
    return " ".join(department.split()).casefold()


def _shared_minutes(
    off_a: NDArray[np.int64], off_b: NDArray[np.int64], rules: MatchRules
) -> NDArray[np.int64]:
    # Windows live on a 24-hour circle in UTC; d is how far b's window starts after a's.
    # Overlap of [0, W) with [d, d+W) plus its copy one day earlier handles wrap-around.
    width = (rules.work_end_hour - rules.work_start_hour) * 60
    start = rules.work_start_hour * 60
    d = ((start - off_b) - (start - off_a)) % _DAY
    # numpy types np.maximum on arrays as returning Any; the annotation says what it is.
    overlap: NDArray[np.int64] = np.maximum(0, width - d) + np.maximum(0, width - (_DAY - d))
    return overlap


def _ancestors(user_id: str, managers_of: dict[str, set[str]]) -> set[str]:
    # Sources may disagree on someone's manager; following every link errs on the safe side.
    seen = {user_id}
    todo = [user_id]
    while todo:
        for boss in managers_of.get(todo.pop(), ()):
            if boss not in seen:  # cycles in the data stop here
                seen.add(boss)
                todo.append(boss)
    seen.discard(user_id)
    return seen


def _index(people: Sequence[Candidate], side: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, c in enumerate(people):
        if c.user_id in index:
            raise ValueError(f"{c.user_id} appears twice among the {side}")
        index[c.user_id] = i
    return index


def _plural(n: float, word: str) -> str:
    return f"{n:g} {word}" if n == 1 else f"{n:g} {word}s"


@dataclass
class _Problem:
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
    ) -> _Problem:
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


def _all_topics(juniors: Sequence[Candidate], leaders: Sequence[Candidate]) -> list[str]:
    return [t for c in (*juniors, *leaders) for t in c.topics]


def _topic_order(topics: Sequence[str]) -> list[str]:
    known = list(TOPICS)
    unique = list(dict.fromkeys(topics))
    return sorted(unique, key=lambda t: (known.index(t) if t in known else len(known), t))


def _membership(
    rows: Sequence[Collection[str]], vocab: dict[str, int], *, grow: bool = False
) -> sparse.csr_matrix:
    """Binary rows × vocabulary matrix; with `grow`, unseen words are added to `vocab`."""
    indptr = [0]
    indices: list[int] = []
    for row in rows:
        cols = {vocab.setdefault(t, len(vocab)) if grow else vocab[t] for t in row}
        indices.extend(sorted(cols))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix(
        (data, np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
        shape=(len(rows), max(len(vocab), 1)),
    )
