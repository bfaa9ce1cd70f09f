"""The admin summary's figures, from plain facts: who is waiting, how pairs are doing, how
often they meet against the cadence, the pulse, the topics discussed and the outcomes.

Privacy rule (bot/privacy.py): an average or a share from fewer than `min_responses`
different people could reveal one person's answers, so it is never a number: `Average.value`
is None and it reads "not enough responses". People are counted, not answers: one person
answering three surveys is one person. The same rule hides the leaders' changes until enough
leaders gave one, and the learning-agreement item figures (leaders' items and junior mentors'
items apart, per checkpoint) until enough different people answered on that side at that
checkpoint. User ids go in only to be counted; no figure carries them out.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot import outcomes as outcomes_kpi
from bot.cadence import ProgramSettings, zone
from bot.privacy import enough_people, people_count
from bot.profiles import TOPICS

NOT_ENOUGH = "not enough responses"
LIVE = frozenset({"introducing", "active", "paused", "intro_failed"})
PROGRESS = ("achieved", "some", "not_yet")
PROGRESS_LABELS = {"achieved": "achieved", "some": "some progress", "not_yet": "not yet"}
CHECKPOINTS = ("midpoint", "end")
TOP_TOPICS = 3


@dataclass(frozen=True)
class PersonFact:
    user_id: str
    role: str  # junior / leader / either
    status: str  # active / paused / left


@dataclass(frozen=True)
class PairFact:
    id: int
    mentor_id: str
    mentee_id: str
    status: str  # introducing / active / paused / intro_failed / ended
    created_at: datetime
    ended_at: datetime | None = None
    last_activity_at: datetime | None = None
    introduced: bool = True  # the group DM exists (an intro that never went out: False)


@dataclass(frozen=True)
class OutcomeFact:
    checkpoint: str  # midpoint / end
    progress: str | None  # not_yet / some / achieved
    change: str | None = None  # a leader's one change
    is_leader: bool = False
    person: str = field(kw_only=True)  # who answered (or an opaque token): only counted


@dataclass(frozen=True)
class ItemFact:
    """One answer about one learning-agreement item."""

    side: str  # leader (a leader's thing to learn) / junior (a junior mentor's thing to gain)
    checkpoint: str  # midpoint / end
    progress: str  # not_yet / some / achieved
    person: str = field(kw_only=True)  # who answered: only counted


@dataclass(frozen=True)
class Average:
    """A mean that exists only over answers from at least `min_responses` different people."""

    count: int  # answers
    people: int  # different people who gave them
    value: float | None  # None: fewer people than the minimum

    def shown(self) -> str:
        return NOT_ENOUGH if self.value is None else f"{self.value:.1f}"


def average(answers: Iterable[tuple[str, float]], min_responses: int) -> Average:
    """The mean of (person, value) answers, a number only if enough different people gave them."""
    answers = list(answers)
    people = people_count(person for person, _ in answers)
    if not enough_people((person for person, _ in answers), min_responses):
        return Average(count=len(answers), people=people, value=None)
    return Average(
        count=len(answers), people=people, value=sum(v for _, v in answers) / len(answers)
    )


@dataclass(frozen=True)
class Cadence:
    """Sessions per introduced pair against what the cadence expects (days active / cadence)."""

    pairs: int
    held_per_pair: float
    expected_per_pair: float
    cadence_days: int

    @property
    def pace(self) -> float | None:
        """Held as a share of expected (1.0 = on cadence); None before anything was due."""
        return None if self.expected_per_pair <= 0 else self.held_per_pair / self.expected_per_pair


@dataclass(frozen=True)
class Stalled:
    pair_id: int
    mentor_id: str
    mentee_id: str
    days: int


@dataclass(frozen=True)
class CheckpointOutcome:
    checkpoint: str
    answers: int
    people: int  # different people among the answers
    shares: dict[str, float] | None  # progress -> share of answers; None: not enough answers
    changes: tuple[str, ...] | None  # the leaders' changes, sorted; None: not enough given


@dataclass(frozen=True)
class ItemOutcome:
    """One side's agreement items at one checkpoint: how many were answered each way."""

    side: str  # leader / junior
    checkpoint: str
    answers: int  # item answers
    people: int  # different people who gave them
    counts: dict[str, int] | None  # progress -> item answers; None: not enough people
    shares: dict[str, float] | None  # progress -> share of item answers; None: likewise


@dataclass(frozen=True)
class Summary:
    start: datetime
    end: datetime
    min_responses: int
    signed_up: int
    waiting: int
    introducing: int
    active_pairs: int
    paused_pairs: int
    stalled_pairs: int
    ended_pairs: int
    sessions_in_period: int
    sessions_total: int
    cadence: Cadence
    pulse: Average
    previous_pulse: Average
    top_topics: tuple[tuple[str, int], ...]  # (topic key, prompts sent), most first
    attention: tuple[Stalled, ...]  # most stalled first
    outcomes: tuple[CheckpointOutcome, ...]
    items: tuple[ItemOutcome, ...] = ()

    @property
    def pulse_change(self) -> float | None:
        """Since the previous period; None unless both periods have a shown average."""
        if self.pulse.value is None or self.previous_pulse.value is None:
            return None
        return self.pulse.value - self.previous_pulse.value


def compute_summary(
    *,
    people: Iterable[PersonFact],
    pairs: Iterable[PairFact],
    sessions: Iterable[tuple[int, date]],
    ratings: Sequence[tuple[str, int]],
    previous_ratings: Sequence[tuple[str, int]],
    topics: Iterable[str],
    outcomes: Iterable[OutcomeFact],
    start: datetime,
    end: datetime,
    now: datetime,
    settings: ProgramSettings,
    items: Iterable[ItemFact] = (),
) -> Summary:
    """Figures for the period [start, end). Session dates count in the period when their day
    falls in [start.date(), end.date()), so pass start and end in the workspace's time zone.
    States (waiting, stalled, days active) are as of `now`. Ratings are (person, rating)."""
    people, pairs, sessions = list(people), list(pairs), list(sessions)
    in_live_pair = {user for p in pairs if p.status in LIVE for user in (p.mentor_id, p.mentee_id)}
    statuses = Counter(p.status for p in pairs)
    stalled = stalled_pairs(pairs, now=now, stall_days=settings.stall_days)
    first_day, last_day = start.date(), end.date()
    return Summary(
        start=start,
        end=end,
        min_responses=settings.min_responses,
        signed_up=sum(1 for p in people if p.status in ("active", "paused")),
        waiting=sum(1 for p in people if p.status == "active" and p.user_id not in in_live_pair),
        introducing=statuses["introducing"] + statuses["intro_failed"],
        active_pairs=statuses["active"],
        paused_pairs=statuses["paused"],
        stalled_pairs=len(stalled),
        ended_pairs=statuses["ended"],
        sessions_in_period=sum(1 for _, day in sessions if first_day <= day < last_day),
        sessions_total=len(sessions),
        cadence=cadence_figures(pairs, sessions, now=now, cadence_days=settings.cadence_days),
        pulse=average(ratings, settings.min_responses),
        previous_pulse=average(previous_ratings, settings.min_responses),
        top_topics=top_topics(topics),
        attention=tuple(stalled),
        outcomes=outcome_figures(outcomes, settings.min_responses),
        items=item_figures(items, settings.min_responses),
    )


def stalled_pairs(pairs: Iterable[PairFact], *, now: datetime, stall_days: int) -> list[Stalled]:
    """Active pairs with no session or message for `stall_days` or more, most stalled first."""
    found = []
    for pair in pairs:
        if pair.status != "active":
            continue
        quiet = now - (pair.last_activity_at or pair.created_at)
        if quiet >= timedelta(days=stall_days):
            found.append(Stalled(pair.id, pair.mentor_id, pair.mentee_id, quiet.days))
    return sorted(found, key=lambda s: (-s.days, s.pair_id))


def cadence_figures(
    pairs: Iterable[PairFact],
    sessions: Iterable[tuple[int, date]],
    *,
    now: datetime,
    cadence_days: int,
) -> Cadence:
    """Introduced pairs only (a pair whose intro never went out could not meet)."""
    counted = [p for p in pairs if p.introduced]
    held = Counter(pair_id for pair_id, _ in sessions)
    if not counted:
        return Cadence(pairs=0, held_per_pair=0.0, expected_per_pair=0.0, cadence_days=cadence_days)
    expected = 0.0
    for pair in counted:
        until = pair.ended_at if pair.ended_at is not None else now
        expected += max(0.0, (until - pair.created_at) / timedelta(days=1)) / cadence_days
    return Cadence(
        pairs=len(counted),
        held_per_pair=sum(held[p.id] for p in counted) / len(counted),
        expected_per_pair=expected / len(counted),
        cadence_days=cadence_days,
    )


def top_topics(topics: Iterable[str], limit: int = TOP_TOPICS) -> tuple[tuple[str, int], ...]:
    counts = Counter(topics)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


def topic_label(key: str) -> str:
    return TOPICS.get(key, key)


def outcome_figures(
    outcomes: Iterable[OutcomeFact], min_responses: int
) -> tuple[CheckpointOutcome, ...]:
    """Per checkpoint that has answers: the progress shares and the leaders' changes, each
    only from at least `min_responses` different people. Changes are sorted, not in answer
    order."""
    by_checkpoint: dict[str, list[OutcomeFact]] = {}
    for answer in outcomes:
        by_checkpoint.setdefault(answer.checkpoint, []).append(answer)
    # One rule for who may be shown what: bot.outcomes, which the outcome check-ins use too.
    every = [answer for answers in by_checkpoint.values() for answer in answers]
    figures = outcomes_kpi.outcome_figures(
        [(a.person, a.checkpoint, a.progress) for a in every], min_responses=min_responses
    )
    found = []
    for checkpoint in sorted(by_checkpoint, key=_checkpoint_order):
        answers = by_checkpoint[checkpoint]
        answered = [a.person for a in answers if a.progress in PROGRESS]
        figure = figures.get(checkpoint)
        shares = (
            {key: figure["shares"][key] for key in PROGRESS} if isinstance(figure, dict) else None
        )
        changes = outcomes_kpi.leader_changes(
            [(a.person, a.change) for a in answers if a.is_leader and a.change],
            min_responses=min_responses,
        )
        found.append(
            CheckpointOutcome(
                checkpoint,
                len(answered),
                people_count(answered),
                shares,
                tuple(changes) if changes else None,
            )
        )
    return tuple(found)


def item_figures(items: Iterable[ItemFact], min_responses: int) -> tuple[ItemOutcome, ...]:
    """Per side (leaders' items first) and checkpoint that has item answers: the counts and
    shares of each answer, only from at least `min_responses` different people on that side
    at that checkpoint (bot.outcomes.item_figures, the one rule)."""
    items = [item for item in items if item.progress in PROGRESS]
    figures = outcomes_kpi.item_figures(
        [(i.person, i.side, i.checkpoint, i.progress) for i in items], min_responses=min_responses
    )
    found = []
    for side in outcomes_kpi.SIDES:
        for checkpoint in CHECKPOINTS:
            answered = [i.person for i in items if (i.side, i.checkpoint) == (side, checkpoint)]
            if not answered:
                continue
            figure = figures[side][checkpoint]
            counts: dict[str, int] | None = None
            shares: dict[str, float] | None = None
            if isinstance(figure, dict):
                counts = {key: figure["counts"][key] for key in PROGRESS}
                shares = {key: figure["shares"][key] for key in PROGRESS}
            found.append(
                ItemOutcome(side, checkpoint, len(answered), people_count(answered), counts, shares)
            )
    return tuple(found)


def _checkpoint_order(name: str) -> tuple[int, str]:
    return (CHECKPOINTS.index(name) if name in CHECKPOINTS else len(CHECKPOINTS), name)


# --- the chart's series ------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekPoint:
    starts: date
    sessions: int
    pulse: Average


def weekly_series(
    *,
    sessions: Iterable[date],
    ratings: Iterable[tuple[datetime, str, int]],
    end: datetime,
    weeks: int,
    min_responses: int,
) -> list[WeekPoint]:
    """`weeks` seven-day buckets ending at `end` (oldest first): sessions held and the pulse
    average of each, from (when, person, rating), hidden like any other under `min_responses`
    different people."""
    starts = [end - timedelta(days=7 * (weeks - n)) for n in range(weeks)]
    sessions, ratings = list(sessions), list(ratings)
    points = []
    for first in starts:
        last = first + timedelta(days=7)
        held = sum(1 for day in sessions if first.date() <= day < last.date())
        values = [(person, rating) for at, person, rating in ratings if first <= at < last]
        points.append(WeekPoint(first.date(), held, average(values, min_responses)))
    return points


# --- when the weekly summary is due --------------------------------------------------------------


def next_summary_at(after: datetime, *, weekday: int, hour: int, tz: str | None) -> datetime:
    """The first `weekday` (0 = Monday) at `hour`:00 in `tz` strictly after `after`."""
    place = zone(tz)
    local = after.astimezone(place)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    for _ in range(3):
        candidate = datetime.combine(day, time(hour), tzinfo=place)
        if candidate > after:
            return candidate.astimezone(after.tzinfo)
        day += timedelta(days=7)
    raise AssertionError("unreachable: a week later is always after")


def period_label(start: datetime, end: datetime) -> str:
    """Like "2 Mar – 8 Mar 2026": the days whose sessions count, [start.date(), end.date())."""
    first = start.date()
    last = max(first, end.date() - timedelta(days=1))
    year = "" if first.year == last.year else f" {first.year}"
    return f"{first.day} {first:%b}{year} – {last.day} {last:%b} {last.year}"


# --- the export -------------------------------------------------------------------------------

EXPORT_HEADER = (
    "mentor",
    "mentor_id",
    "mentee",
    "mentee_id",
    "status",
    "created",
    "ended",
    "sessions_held",
    "survey_responses",
    "cohorts",
)


def export_csv(
    pairs: Iterable[PairFact],
    *,
    sessions_by_pair: Mapping[int, int],
    responses_by_pair: Mapping[int, int],
    names: Mapping[str, str],
    cohorts_by_pair: Mapping[int, Sequence[str]] | None = None,
) -> str:
    """One row per pair, with how many survey responses it had and the cohorts it ran in
    (a pair that continued names each). No goals and no rating of any kind: a pair is two
    people, so its average would point to one of them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    for pair in pairs:
        writer.writerow(
            (
                _cell(names.get(pair.mentor_id, "")),
                pair.mentor_id,
                _cell(names.get(pair.mentee_id, "")),
                pair.mentee_id,
                pair.status,
                pair.created_at.date().isoformat(),
                pair.ended_at.date().isoformat() if pair.ended_at else "",
                sessions_by_pair.get(pair.id, 0),
                responses_by_pair.get(pair.id, 0),
                _cell("; ".join((cohorts_by_pair or {}).get(pair.id, ()))),
            )
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """A name a spreadsheet would run as a formula ("=HYPERLINK(...)") is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
