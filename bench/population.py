"""A deterministic, plausible random population of juniors and leaders for benchmarks."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.matching import Candidate
from bot.profiles import TOPICS, Role

DEPARTMENTS = (
    "Finance",
    "Marketing",
    "Engineering",
    "Sales",
    "People",
    "Legal",
    "Operations",
    "Product",
    "Customer Success",
    "Data",
    "Procurement",
    "Communications",
)

# Offsets in minutes, from US Pacific (-8h) to Japan (+9h), weighted towards Europe and the US.
OFFSETS = (-480, -420, -360, -300, -240, -180, 0, 60, 120, 180, 240, 330, 480, 540)
OFFSET_WEIGHTS = (6, 3, 5, 10, 2, 2, 12, 14, 5, 2, 2, 6, 5, 3)

GOAL_WORDS = (
    "ai tools automation data customers social media brand hiring young talent retention "
    "inclusion diversity remote hybrid teams culture wellbeing climate sustainability strategy "
    "careers growth feedback leadership coaching tiktok platforms trends analytics privacy "
    "ethics products innovation mobile gaming creators community learning networks"
).split()
FILLER = "i want to learn more about how the our and with for".split()


@dataclass(frozen=True)
class Population:
    juniors: list[Candidate]
    leaders: list[Candidate]
    past_pairs: set[frozenset[str]]


def generate(n_juniors: int = 2000, n_leaders: int = 2000, seed: int = 1) -> Population:
    """Same arguments, same population: everything comes from one seeded `random.Random`."""
    rng = random.Random(seed)
    topic_keys = list(TOPICS)

    def goals() -> str:
        words = rng.sample(GOAL_WORDS, rng.randint(3, 7)) + rng.sample(FILLER, rng.randint(1, 4))
        rng.shuffle(words)
        return " ".join(words).capitalize() + "."

    def topics() -> tuple[str, ...]:
        return tuple(rng.sample(topic_keys, rng.randint(1, 4)))

    leader_ids = [f"UL{i:05d}" for i in range(n_leaders)]
    leader_levels = [rng.choices((3, 4, 5, 6), weights=(3, 4, 2, 1))[0] for _ in leader_ids]
    leader_depts = [rng.choice(DEPARTMENTS) for _ in leader_ids]

    # Each leader below the top reports to a more senior leader, sometimes in another department.
    by_level: dict[int, list[int]] = {}
    for i, level in enumerate(leader_levels):
        by_level.setdefault(level, []).append(i)

    def boss_of(level: int) -> str | None:
        above = [i for lv in range(level + 1, 7) for i in by_level.get(lv, ())[:50]]
        return leader_ids[rng.choice(above)] if above and rng.random() < 0.8 else None

    leaders = [
        Candidate(
            user_id=uid,
            role=Role.EITHER if rng.random() < 0.05 else Role.LEADER,
            level=level,
            department=dept,
            manager_id=boss_of(level),
            topics=topics(),
            goals=goals(),
            utc_offset_minutes=rng.choices(OFFSETS, weights=OFFSET_WEIGHTS)[0],
        )
        for uid, level, dept in zip(leader_ids, leader_levels, leader_depts, strict=True)
    ]

    juniors = []
    for i in range(n_juniors):
        level = rng.choices((1, 2, 3), weights=(5, 4, 1))[0]
        juniors.append(
            Candidate(
                user_id=f"UJ{i:05d}",
                role=Role.EITHER if rng.random() < 0.05 else Role.JUNIOR,
                level=level,
                department=rng.choice(DEPARTMENTS),
                manager_id=rng.choice(leader_ids) if leader_ids and rng.random() < 0.7 else None,
                topics=topics(),
                goals=goals(),
                utc_offset_minutes=rng.choices(OFFSETS, weights=OFFSET_WEIGHTS)[0],
                capacity=rng.choices((1, 2, 3), weights=(5, 3, 2))[0],
            )
        )

    past_pairs = {
        frozenset((rng.choice(juniors).user_id, rng.choice(leaders).user_id))
        for _ in range(min(n_juniors, n_leaders) // 10)
    }
    return Population(juniors=juniors, leaders=leaders, past_pairs=past_pairs)
