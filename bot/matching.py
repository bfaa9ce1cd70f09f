"""Optimal junior → leader matching: plain candidates in, proposed pairs (and who's left out) out.

A junior mentors (the `mentor_id` of a pair), a leader is mentored (the `mentee_id`). Every pair
that breaks a hard rule is forbidden outright; among the allowed pairs we maximise the total
quality score exactly: a sparse assignment (scipy's `min_weight_full_bipartite_matching`) over
each leader's best juniors, with a dual check over every allowed pair that adds any pair the
optimum needs (see `_optimal`). Pair scores and rules are worked out in blocks of
leaders, so memory stays far below a juniors × leaders matrix (about 0.5 GB at 10,000 × 10,000).
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

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

# Leaders' best juniors put in the first sparse graph the optimum is looked for in; a leader
# the optimum needs outside these is found by the dual check and added (see `_optimal`).
_FIRST_CHOICES = 16
# The greedy baseline's list of best juniors per leader; a leader who runs out is re-scored.
_GREEDY_CHOICES = 32
# Pairs scored at once: a block of leaders × all juniors of about this many cells (16 MB a
# float32 array, 32 MB a float64 one).
_BLOCK_CELLS = 1 << 22
# A dual check: an unused pair is only worth adding if it would gain more than this, as a
# fraction of the score bound (float64 sums of a few thousand terms stay well inside it).
_SLACK = 1e-11
# Pairs the dual check adds per leader and round, the ones that would gain most.
_ADDED_PER_LEADER = 64
# Scores worked out in float32 to choose pairs are within this of the exact float64 ones, as a
# fraction of the score bound (float32 keeps 7 digits; a dozen roundings lose under 2).
_FLOAT32_MARGIN = 1e-5
# The float32 scores of every pair are kept between the optimum's passes up to this size
# (400 MB at 10,000 × 10,000); above it each pass works them out again.
_KEPT_BYTES = 1 << 30
# Up to this many distinct goal words, their incidence matrices are multiplied dense.
_DENSE_WORDS = 1024


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
    return p.result(_optimal(p))


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
    return p.result(_greedy(p))


def _optimal(p: _Problem) -> list[tuple[int, int]]:
    """Highest-total-score assignment, as (junior index, leader index) pairs.

    The model is the one the dense Hungarian solver used: rows are leaders with at least one
    allowed junior, columns are junior slots (a junior's capacity, capped by how many leaders
    it may take) plus one "stay unmatched" column per leader. Every row is assigned, so the
    total of (bound − score) over real pairs plus bound per unmatched leader is minimised:
    exactly the maximum total score, not the most pairs (one great pair may beat two weak
    ones). Every allowed pair scores > 0 (ScoreWeights.base), so the result is maximal.

    Almost all pairs are allowed, so the full graph is nearly dense. Instead the sparse solver
    (`min_weight_full_bipartite_matching`) runs on each leader's best juniors, then node
    potentials (shortest paths in the residual graph) prove the result optimal over *every*
    allowed pair, in one vectorised pass over the blocks: an unused pair whose reduced cost is
    negative could improve it, so such pairs are added and the solve repeated. When no such
    pair is left the potentials are a dual certificate of optimality for the full problem.
    """
    first = p.scan(_FIRST_CHOICES, keep=True)
    caps = np.minimum(p.capacity, first.per_junior)  # extra slots could never be used
    is_row = first.per_leader > 0  # leaders with at least one allowed junior
    if not is_row.any() or not caps.any():
        return []
    graph = _Graph(caps, is_row, p.bound())
    slack = _SLACK * graph.bound
    cand_j, cand_l, cand_s = first.top_j, first.top_l, first.top_score
    while True:
        chosen, above, below = graph.solve(cand_j, cand_l, cand_s)
        extra_j, extra_l, extra_s = p.improving(above, below, slack)
        # Pairs already in the graph meet the check up to rounding; never add one twice (the
        # sparse matrix would sum its costs), and stop once nothing new is left to add.
        nl = len(p.leaders)
        new = ~np.isin(extra_j * nl + extra_l, cand_j * nl + cand_l)
        extra_j, extra_l, extra_s = extra_j[new], extra_l[new], extra_s[new]
        if not extra_j.size:
            p.kept.clear()
            return chosen
        cand_j = np.concatenate([cand_j, extra_j])
        cand_l = np.concatenate([cand_l, extra_l])
        cand_s = np.concatenate([cand_s, extra_s])


def _greedy(p: _Problem) -> list[tuple[int, int]]:
    """Take allowed pairs best first (ties: junior, then leader, in input order) while both
    sides have room: the order a sort of every allowed pair gives, merged lazily per leader."""
    first = p.scan(_GREEDY_CHOICES)
    room: list[int] = p.capacity.tolist()
    # Per leader: its juniors best first, and whether that is all of its allowed juniors.
    lists: list[list[tuple[float, int]]] = [[] for _ in p.leaders]
    complete = (first.per_leader <= first.kept).tolist()
    order = np.lexsort((first.top_j, -first.top_score, first.top_l))
    for li, ji, s in zip(
        first.top_l[order].tolist(),
        first.top_j[order].tolist(),
        first.top_score[order].tolist(),
        strict=True,
    ):
        lists[li].append((s, ji))
    for li, head in enumerate(lists):
        if not complete[li] and head:
            # Past the cut, juniors tied with the last one kept may be missing: keep only
            # the scores strictly above it, and score the whole column again when they run out.
            cut = head[-1][0]
            lists[li] = [e for e in head if e[0] > cut]
    pos = [0] * len(p.leaders)

    def next_choice(li: int) -> tuple[float, int, int] | None:
        while True:
            choices = lists[li]
            while pos[li] < len(choices) and room[choices[pos[li]][1]] <= 0:
                pos[li] += 1
            if pos[li] < len(choices):
                s, ji = choices[pos[li]]
                return (-s, ji, li)
            if complete[li]:
                return None
            lists[li] = p.column_choices(li, np.asarray(room) > 0)
            pos[li], complete[li] = 0, True

    heap = [e for li in np.flatnonzero(first.per_leader).tolist() if (e := next_choice(li))]
    heapq.heapify(heap)
    chosen: list[tuple[int, int]] = []
    while heap:
        _, ji, li = heapq.heappop(heap)
        if room[ji] > 0:
            room[ji] -= 1
            chosen.append((ji, li))
        elif e := next_choice(li):
            heapq.heappush(heap, e)
    return chosen


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


@dataclass(frozen=True)
class _PairSet:
    """Some (junior, leader) index pairs, sorted by leader: a sparse boolean matrix."""

    ji: NDArray[np.int64]
    li: NDArray[np.int64]

    @classmethod
    def of(cls, pairs: Collection[tuple[int, int]]) -> _PairSet:
        both = np.array(sorted(pairs, key=lambda jl: (jl[1], jl[0])), dtype=np.int64)
        both = both.reshape(len(pairs), 2)
        return cls(ji=both[:, 0].copy(), li=both[:, 1].copy())

    def block(self, nj: int, lo: int, hi: int) -> NDArray[np.bool_]:
        a, b = np.searchsorted(self.li, [lo, hi])
        out = np.zeros((nj, hi - lo), dtype=np.bool_)
        out[self.ji[a:b], self.li[a:b] - lo] = True
        return out

    def row(self, nl: int, ji: int) -> NDArray[np.bool_]:
        out = np.zeros(nl, dtype=np.bool_)
        out[self.li[self.ji == ji]] = True
        return out


@dataclass(frozen=True)
class _Scan:
    """One pass over every pair: allowed counts, and each leader's best allowed juniors."""

    per_junior: NDArray[np.int64]  # allowed leaders per junior
    per_leader: NDArray[np.int64]  # allowed juniors per leader
    kept: int  # best juniors looked at per leader (fewer kept if fewer are allowed)
    top_j: NDArray[np.int64]  # the kept pairs
    top_l: NDArray[np.int64]
    top_score: NDArray[np.float64]


class _Graph:
    """The assignment model over a set of candidate pairs, and its dual potentials."""

    def __init__(self, caps: NDArray[np.int64], is_row: NDArray[np.bool_], bound: float) -> None:
        self.caps = caps
        self.bound = bound  # above every score, so every cost is positive
        self.leader_of_row = np.flatnonzero(is_row)
        self.row_of = np.cumsum(is_row) - 1
        self.n_rows = int(self.leader_of_row.size)
        self.slot_start = np.cumsum(caps) - caps
        self.n_slots = int(caps.sum())
        self.slot_owner = np.repeat(np.arange(caps.size), caps)

    def solve(
        self, cand_j: NDArray[np.int64], cand_l: NDArray[np.int64], cand_s: NDArray[np.float64]
    ) -> tuple[list[tuple[int, int]], NDArray[np.float64], NDArray[np.float64]]:
        """The optimum over the candidates (each pair once), and the potentials that prove it:
        per leader, the score above which a pair with a junior of potential 0 would improve
        it; per junior, its potential (subtracted from that)."""
        n_rows, n_slots = self.n_rows, self.n_slots
        n_cols = n_slots + n_rows
        per = self.caps[cand_j]  # one edge per slot of the junior
        first = np.cumsum(per) - per
        edge_j = np.repeat(cand_j, per)
        rows = np.concatenate([np.repeat(self.row_of[cand_l], per), np.arange(n_rows)])
        cols = np.concatenate(
            [
                self.slot_start[edge_j] + np.arange(int(per.sum())) - np.repeat(first, per),
                n_slots + np.arange(n_rows),  # each leader's "stay unmatched" column
            ]
        )
        cost = np.concatenate([np.repeat(self.bound - cand_s, per), np.full(n_rows, self.bound)])
        graph = sparse.csr_matrix((cost, (rows, cols)), shape=(n_rows, n_cols))
        r: NDArray[np.intp]  # scipy ships no types
        c: NDArray[np.intp]
        r, c = min_weight_full_bipartite_matching(graph)
        col_of = np.empty(n_rows, dtype=np.int64)
        col_of[r] = c
        real = np.flatnonzero(col_of < n_slots)
        chosen = list(
            zip(
                self.slot_owner[col_of[real]].tolist(),
                self.leader_of_row[real].tolist(),
                strict=True,
            )
        )
        d_row, d_col = _potentials(rows, cols, cost, col_of, n_cols)
        above = np.full(self.row_of.size, np.inf)
        above[self.leader_of_row] = self.bound + d_row
        below = np.full(self.caps.size, -np.inf)
        has = self.caps > 0
        below[has] = np.maximum.reduceat(d_col[:n_slots], self.slot_start[has])
        return chosen, above, below


def _potentials(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    cost: NDArray[np.float64],
    col_of: NDArray[np.int64],
    n_cols: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shortest-path distances in the residual graph of an optimal assignment (Bellman–Ford
    from a virtual source joined to every node at cost 0; vectorised, sweep after sweep).

    Residual arcs: row → column for each unused edge (its cost), column → row for each used
    edge (minus its cost), sink → used column and unused column → sink (0: any free column
    may replace a used one). An optimal assignment has no negative cycle, so this settles;
    the distances d then give every residual arc a reduced cost cost + d(tail) − d(head) ≥ 0.
    """
    n_rows = col_of.size
    settle = 1e-14 * float(cost.max())  # float rounding, not a real improvement
    used = cols == col_of[rows]
    used_cost = np.empty(n_rows)
    used_cost[rows[used]] = cost[used]
    order = np.argsort(cols[~used], kind="stable")
    free_rows, free_cols, free_cost = rows[~used][order], cols[~used][order], cost[~used][order]
    heads, starts = np.unique(free_cols, return_index=True)
    col_used = np.zeros(n_cols, dtype=np.bool_)
    col_used[col_of] = True
    d_row, d_col, d_sink = np.zeros(n_rows), np.zeros(n_cols), 0.0
    for _ in range(n_rows + n_cols + 2):
        new_col = d_col.copy()
        if heads.size:
            via = np.minimum.reduceat(d_row[free_rows] + free_cost, starts)
            new_col[heads] = np.minimum(new_col[heads], via)
        new_col[col_used] = np.minimum(new_col[col_used], d_sink)
        new_row = np.minimum(d_row, new_col[col_of] - used_cost)
        new_sink = min(d_sink, float(new_col[~col_used].min()))
        settled = (
            float((d_col - new_col).max()) <= settle
            and float((d_row - new_row).max()) <= settle
            and d_sink - new_sink <= settle
        )
        d_row, d_col, d_sink = new_row, new_col, new_sink
        if settled:
            break
    return d_row, d_col


@dataclass
class _Problem:
    """Per-person features; pair scores and hard rules are worked out block by block, so no
    juniors × leaders matrix is ever held whole."""

    juniors: Sequence[Candidate]
    leaders: Sequence[Candidate]
    rules: MatchRules
    capacity: NDArray[np.int64]  # per junior
    topics_j: NDArray[np.float32]  # people × topics, 0/1
    topics_l: NDArray[np.float32]
    words_j: sparse.csr_matrix  # people × goal words, 0/1
    words_l: sparse.csr_matrix
    n_words_j: NDArray[np.float64]
    n_words_l: NDArray[np.float64]
    dept_j: NDArray[np.int64]  # department codes
    dept_l: NDArray[np.int64]
    level_j: NDArray[np.int64]
    level_l: NDArray[np.int64]
    zone_j: NDArray[np.int64]  # codes of distinct UTC offsets
    zone_l: NDArray[np.int64]
    zone_minutes: NDArray[np.int64]  # junior zone × leader zone: shared working minutes a day
    min_minutes: int
    # Per (zone, level) code of a junior and of a leader: the level and base terms of the score,
    # or −inf where the level gap or the shared hours rule the pair out (leader × junior).
    code_j: NDArray[np.int64]
    code_l: NDArray[np.int64]
    code_terms: NDArray[np.float32]
    in_chain: _PairSet
    paired_before: _PairSet
    same_person: _PairSet  # an "either" person given on both sides

    dense_words: tuple[NDArray[np.float32], NDArray[np.float32]] | None  # small vocabularies
    n_words_j32: NDArray[np.float32]
    # Float32 scores of blocks of leaders (by first leader), kept between passes if small.
    kept: dict[int, NDArray[np.float32]] = field(default_factory=dict)

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

        # Topics: boolean membership matrices; their product counts shared topics per pair.
        vocab = {
            t: k for k, t in enumerate(dict.fromkeys([*TOPICS, *_all_topics(juniors, leaders)]))
        }
        # scipy ships no types: its results are Any, so each is annotated where it leaves scipy.
        tj: NDArray[np.float32] = _membership([c.topics for c in juniors], vocab).toarray()
        tl: NDArray[np.float32] = _membership([c.topics for c in leaders], vocab).toarray()

        # Departments as integer codes.
        codes: dict[str, int] = {}
        dept_j = np.array([codes.setdefault(_dept_key(c.department), len(codes)) for c in juniors])
        dept_l = np.array([codes.setdefault(_dept_key(c.department), len(codes)) for c in leaders])

        # Goals: sparse word-incidence matrices; Jaccard = |A∩B| / (|A| + |B| − |A∩B|).
        words: dict[str, int] = {}
        gj = _membership([goal_words(c.goals) for c in juniors], words, grow=True)
        gl = _membership([goal_words(c.goals) for c in leaders], words, grow=True)
        gj.resize((nj, max(len(words), 1)))
        gl.resize((nl, max(len(words), 1)))
        n_words_j: NDArray[np.float64] = np.asarray(gj.sum(axis=1), dtype=np.float64).reshape(nj)
        n_words_l: NDArray[np.float64] = np.asarray(gl.sum(axis=1), dtype=np.float64).reshape(nl)

        # Few distinct offsets exist: overlaps per offset pair, looked up per pair of people.
        off_j = np.array([c.utc_offset_minutes for c in juniors], dtype=np.int64).reshape(nj)
        off_l = np.array([c.utc_offset_minutes for c in leaders], dtype=np.int64).reshape(nl)
        uj, inv_j = np.unique(off_j, return_inverse=True)
        ul, inv_l = np.unique(off_l, return_inverse=True)

        # Management chains from every manager link we were given, both directions.
        links = [(c.user_id, c.manager_id) for c in (*juniors, *leaders)]
        links += list((managers or {}).items())
        managers_of: dict[str, set[str]] = {}
        for person, boss in links:
            if boss is not None and boss != person:
                managers_of.setdefault(person, set()).add(boss)
        in_chain: set[tuple[int, int]] = set()
        for ji, c in enumerate(juniors):
            for boss in _ancestors(c.user_id, managers_of):
                if (boss_li := l_index.get(boss)) is not None:
                    in_chain.add((ji, boss_li))
        for li, c in enumerate(leaders):
            for boss in _ancestors(c.user_id, managers_of):
                if (boss_ji := j_index.get(boss)) is not None:
                    in_chain.add((boss_ji, li))

        paired_before: set[tuple[int, int]] = set()
        for pair in past_pairs:
            if len(pair) != 2:
                continue
            a, b = sorted(pair)
            for x, y in ((a, b), (b, a)):
                if (x_ji := j_index.get(x)) is not None and (y_li := l_index.get(y)) is not None:
                    paired_before.add((x_ji, y_li))

        same = {(j_index[uid], l_index[uid]) for uid in j_index.keys() & l_index.keys()}
        level_j = np.array([c.level for c in juniors], dtype=np.int64).reshape(nj)
        level_l = np.array([c.level for c in leaders], dtype=np.int64).reshape(nl)
        zone_minutes = _shared_minutes(uj[:, None], ul[None, :], rules)
        # Whole minutes against the threshold, so exactly 2 hours counts as 2 hours.
        min_minutes = math.ceil(rules.min_shared_hours * 60 - 1e-9)
        kinds_j, code_j = np.unique(
            np.stack([inv_j.reshape(nj), level_j], axis=1).reshape(nj, 2),
            axis=0,
            return_inverse=True,
        )
        kinds_l, code_l = np.unique(
            np.stack([inv_l.reshape(nl), level_l], axis=1).reshape(nl, 2),
            axis=0,
            return_inverse=True,
        )
        kind_gap = kinds_l[:, None, 1] - kinds_j[None, :, 1]
        kind_terms = rules.weights.level / (1.0 + np.abs(kind_gap - rules.ideal_level_gap))
        kind_ok = (kind_gap >= rules.level_gap) & (
            zone_minutes[kinds_j[None, :, 0], kinds_l[:, None, 0]] >= min_minutes
        )
        code_terms = np.where(kind_ok, kind_terms + rules.weights.base, -np.inf).astype(np.float32)
        capacity = np.array([max(0, c.capacity) for c in juniors], dtype=np.int64).reshape(nj)
        return cls(
            juniors=juniors,
            leaders=leaders,
            rules=rules,
            capacity=capacity,
            topics_j=tj,
            topics_l=tl,
            words_j=gj,
            words_l=gl,
            n_words_j=n_words_j,
            n_words_l=n_words_l,
            dept_j=dept_j.reshape(nj).astype(np.int64),
            dept_l=dept_l.reshape(nl).astype(np.int64),
            level_j=level_j,
            level_l=level_l,
            zone_j=inv_j.reshape(nj).astype(np.int64),
            zone_l=inv_l.reshape(nl).astype(np.int64),
            zone_minutes=zone_minutes,
            min_minutes=min_minutes,
            code_j=code_j.reshape(nj).astype(np.int64),
            code_l=code_l.reshape(nl).astype(np.int64),
            code_terms=code_terms.reshape(len(kinds_l), len(kinds_j)),
            dense_words=(gj.toarray(), gl.toarray()) if len(words) <= _DENSE_WORDS else None,
            n_words_j32=n_words_j.astype(np.float32),
            in_chain=_PairSet.of(in_chain),
            paired_before=_PairSet.of(paired_before),
            same_person=_PairSet.of(same),
        )

    # --- scores and rules, a block of leaders at a time ---

    def _score(
        self,
        shared: NDArray[np.float64],
        cross: NDArray[np.bool_],
        inter: NDArray[np.float64],
        union: NDArray[np.float64],
        gap: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        # One formula for blocks and single pairs, term by term in the same order, so a pair
        # scores the very same float wherever it is computed.
        w = self.rules.weights
        jaccard = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        score: NDArray[np.float64] = (  # numpy types np.abs as returning Any
            w.topic * shared
            + w.cross_department * cross
            + w.goals * jaccard
            + w.level / (1.0 + np.abs(gap - self.rules.ideal_level_gap))
            + w.base
        )
        return score

    def blocks(self) -> list[tuple[int, int]]:
        step = max(1, _BLOCK_CELLS // max(len(self.juniors), 1))
        return [(lo, min(lo + step, len(self.leaders))) for lo in range(0, len(self.leaders), step)]

    def block(self, lo: int, hi: int) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Scores and allowed flags of every junior with leaders lo..hi-1 (juniors × leaders)."""
        nj = len(self.juniors)
        shared = (self.topics_j @ self.topics_l[lo:hi].T).astype(np.float64)
        cross: NDArray[np.bool_] = self.dept_j[:, None] != self.dept_l[None, lo:hi]
        theirs: NDArray[np.float32] = self.words_l[lo:hi].T.toarray()
        inter = np.asarray(self.words_j @ theirs, dtype=np.float64).reshape(nj, hi - lo)
        union = self.n_words_j[:, None] + self.n_words_l[None, lo:hi] - inter
        gap = self.level_l[None, lo:hi] - self.level_j[:, None]
        score = self._score(shared, cross, inter, union, gap)
        minutes = self.zone_minutes[self.zone_j[:, None], self.zone_l[None, lo:hi]]
        allowed = (gap >= self.rules.level_gap) & (minutes >= self.min_minutes)
        for banned in (self.in_chain, self.paired_before, self.same_person):
            allowed &= ~banned.block(nj, lo, hi)
        return score, allowed

    def pair_scores(self, ji: NDArray[np.int64], li: NDArray[np.int64]) -> NDArray[np.float64]:
        shared = (self.topics_j[ji] * self.topics_l[li]).sum(axis=1).astype(np.float64)
        cross: NDArray[np.bool_] = self.dept_j[ji] != self.dept_l[li]
        both = self.words_j[ji].multiply(self.words_l[li])
        inter = np.asarray(both.sum(axis=1), dtype=np.float64).reshape(ji.size)
        union = self.n_words_j[ji] + self.n_words_l[li] - inter
        return self._score(shared, cross, inter, union, self.level_l[li] - self.level_j[ji])

    def approx(self, lo: int, hi: int) -> NDArray[np.float32]:
        """Leaders lo..hi-1 × every junior: the score in float32 (half the memory traffic of
        the exact one, and within `margin` of it), −inf where the pair is not allowed.
        Only for choosing which pairs to score exactly."""
        w = self.rules.weights
        part: NDArray[np.float32] = self.topics_l[lo:hi] @ self.topics_j.T
        part *= np.float32(w.topic)
        if self.dense_words is not None:
            inter: NDArray[np.float32] = self.dense_words[1][lo:hi] @ self.dense_words[0].T
        else:
            ours: NDArray[np.float32] = self.words_l[lo:hi].T.toarray()
            inter = np.asarray(self.words_j @ ours, dtype=np.float32).T
        union = self.n_words_l[lo:hi, None].astype(np.float32) + self.n_words_j32[None, :]
        union -= inter
        np.divide(inter, union, out=inter, where=union > 0)  # no words at all: inter is 0
        inter *= np.float32(w.goals)
        part += inter
        del inter, union
        part += self.code_terms[self.code_l[lo:hi, None], self.code_j[None, :]]
        cross: NDArray[np.bool_] = self.dept_l[lo:hi, None] != self.dept_j[None, :]
        np.add(part, np.float32(w.cross_department), out=part, where=cross)
        for banned in (self.in_chain, self.paired_before, self.same_person):
            a, b = np.searchsorted(banned.li, [lo, hi])
            part[banned.li[a:b] - lo, banned.ji[a:b]] = -np.inf
        return part

    def scan(self, k: int, *, keep: bool = False) -> _Scan:
        """Allowed counts, and each leader's k best allowed juniors (all of them, if fewer).

        Exact scores are only worked out where the float32 scores leave a junior in the
        running: within the margin of that leader's k-th best. With `keep`, the float32
        scores are kept for `improving` if they fit in `_KEPT_BYTES`."""
        nj, nl = len(self.juniors), len(self.leaders)
        k = min(k, nj)
        per_junior = np.zeros(nj, dtype=np.int64)
        per_leader = np.zeros(nl, dtype=np.int64)
        tops: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
        keep = keep and nj * nl * 4 <= _KEPT_BYTES
        for lo, hi in self.blocks() if k else []:
            part = self.approx(lo, hi)
            if keep:
                self.kept[lo] = part
            ok = part > -np.inf
            per_junior += ok.sum(axis=0)
            per_leader[lo:hi] = ok.sum(axis=1)
            kth = np.partition(part, nj - k, axis=1)[:, nj - k]
            li, ji = np.nonzero(ok & (part >= (kth - self.margin)[:, None]))
            li, ji = li.astype(np.int64) + lo, ji.astype(np.int64)
            score = self.pair_scores(ji, li)
            order = np.lexsort((ji, -score, li))
            li, ji, score = li[order], ji[order], score[order]
            rank = np.arange(li.size) - np.searchsorted(li, li)
            best = rank < k
            tops.append((ji[best], li[best], score[best]))
        none = np.zeros(0, dtype=np.int64)
        return _Scan(
            per_junior=per_junior,
            per_leader=per_leader,
            kept=k,
            top_j=np.concatenate([none, *(t[0] for t in tops)]),
            top_l=np.concatenate([none, *(t[1] for t in tops)]),
            top_score=np.concatenate([np.zeros(0), *(t[2] for t in tops)]),
        )

    @property
    def margin(self) -> np.float32:
        return np.float32(_FLOAT32_MARGIN * self.bound())

    def bound(self) -> float:
        """More than any pair can score."""
        w = self.rules.weights
        topics = int(self.topics_j.shape[1])
        return w.topic * topics + w.cross_department + w.goals + w.level + w.base + 1.0

    def improving(
        self, above: NDArray[np.float64], below: NDArray[np.float64], slack: float
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Allowed pairs whose reduced cost is negative: score > above[leader] − below[junior].
        Exact scores only where the float32 ones come within the margin."""
        found: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
        below32 = below.astype(np.float32)
        for lo, hi in self.blocks():
            part = self.kept[lo] if lo in self.kept else self.approx(lo, hi)
            part = part - above[lo:hi, None].astype(np.float32)
            part += below32[None, :]
            li, ji = np.nonzero(part > -self.margin)
            li, ji = li.astype(np.int64) + lo, ji.astype(np.int64)
            score = self.pair_scores(ji, li)
            gain = score - (above[li] - below[ji])
            better = np.flatnonzero(gain > slack)
            # The most improving few per leader: enough to move on, while the graph stays small.
            order = better[np.lexsort((-gain[better], li[better]))]
            rank = np.arange(order.size) - np.searchsorted(li[order], li[order])
            take = order[rank < _ADDED_PER_LEADER]
            found.append((ji[take], li[take], score[take]))
        none = np.zeros(0, dtype=np.int64)
        return (
            np.concatenate([none, *(f[0] for f in found)]),
            np.concatenate([none, *(f[1] for f in found)]),
            np.concatenate([np.zeros(0), *(f[2] for f in found)]),
        )

    def column_choices(self, li: int, open_: NDArray[np.bool_]) -> list[tuple[float, int]]:
        """A leader's allowed juniors among `open_`, best first, ties in input order."""
        score, allowed = self.block(li, li + 1)
        ji = np.flatnonzero(allowed[:, 0] & open_)
        s = score[ji, 0]
        order = np.lexsort((ji, -s))
        return list(zip(s[order].tolist(), ji[order].tolist(), strict=True))

    def rules_of(
        self, ji: int | None = None, li: int | None = None
    ) -> dict[str, NDArray[np.bool_]]:
        """The hard rules of one junior against every leader, or one leader against every
        junior."""
        nj, nl = len(self.juniors), len(self.leaders)
        if ji is not None:
            gap = self.level_l - self.level_j[ji]
            minutes = self.zone_minutes[self.zone_j[ji], self.zone_l]
            chain = self.in_chain.row(nl, ji)
            before = self.paired_before.row(nl, ji)
            same = self.same_person.row(nl, ji)
        else:
            assert li is not None
            gap = self.level_l[li] - self.level_j
            minutes = self.zone_minutes[self.zone_j, self.zone_l[li]]
            chain = self.in_chain.block(nj, li, li + 1)[:, 0]
            before = self.paired_before.block(nj, li, li + 1)[:, 0]
            same = self.same_person.block(nj, li, li + 1)[:, 0]
        level = gap >= self.rules.level_gap
        hours = minutes >= self.min_minutes
        return {
            "level": level,
            "hours": hours,
            "chain": chain,
            "before": before,
            "allowed": level & hours & ~chain & ~before & ~same,
        }

    # --- results ---

    def result(self, chosen: list[tuple[int, int]]) -> MatchResult:
        chosen = sorted(chosen)
        pick_j = np.array([j for j, _ in chosen], dtype=np.int64)
        pick_l = np.array([lv for _, lv in chosen], dtype=np.int64)
        scores: list[float] = self.pair_scores(pick_j, pick_l).tolist() if chosen else []
        pairs = [self._pair(j, lv, s) for (j, lv), s in zip(chosen, scores, strict=True)]
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

    def _pair(self, ji: int, li: int, score: float) -> ProposedPair:
        junior, leader = self.juniors[ji], self.leaders[li]
        leader_topics = set(leader.topics)
        shared = tuple(t for t in _topic_order(junior.topics) if t in leader_topics)
        same_dept = self.dept_j[ji] == self.dept_l[li]
        goals = sorted(goal_words(junior.goals) & goal_words(leader.goals))
        hours = int(self.zone_minutes[self.zone_j[ji], self.zone_l[li]]) // 60
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
            score=score,
            reasons=tuple(reasons),
            explanation="; ".join(parts) + ".",
        )

    def _why_junior(self, ji: int) -> str:
        if not self.leaders:
            return "no leaders signed up for this round"
        if self.capacity[ji] <= 0:
            return "you have no mentoring capacity this round"
        return self._why(**self.rules_of(ji=ji), other="leader", direction="above")

    def _why_leader(self, li: int) -> str:
        if not self.juniors:
            return "no juniors signed up for this round"
        return self._why(**self.rules_of(li=li), other="junior", direction="below")

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
