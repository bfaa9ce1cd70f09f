"""A cohort's impact report, from plain facts: who took part, how regularly pairs met, the
pulse week by week, how both sides say their goals and agreements went, and what leaders
will change, each beside the same figure for the cohort before.

Privacy rule (bot/privacy.py), the same as the weekly summary's: every figure built from
people's answers (the pulse, goal progress, agreement items, the leaders' changes) needs
answers from at least `min_responses` different people, or it is hidden ("not enough
responses", never a number). Counts of people and pairs (signed up, paired, left, sessions)
are not answers, and are shown as the weekly summary shows them. User ids go in only to be
counted; no figure carries them out.

Rounding is half up, on exact fractions, so a share of 1/8 reads 13% on every machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from bot.outcomes import leader_changes
from bot.privacy import enough_people, people_count

Role = Literal["leader", "junior"]
Progress = Literal["not_yet", "some", "achieved"]

NOT_ENOUGH = "not enough responses"
NONE_SHOWN = "—"  # the previous cohort's figure when there is none, or it is hidden
ROLES: tuple[Role, ...] = ("leader", "junior")
ROLE_LABELS = {"leader": "Leaders", "junior": "Junior mentors"}
PROGRESS: tuple[Progress, ...] = ("achieved", "some", "not_yet")
PROGRESS_LABELS = {"achieved": "goal achieved", "some": "some progress", "not_yet": "not yet"}

# The groups, in the order every rendering shows them.
PARTICIPATION, RHYTHM, PULSE, OUTCOMES = "Participation", "Rhythm", "Pulse", "Outcomes"
GROUPS = (PARTICIPATION, RHYTHM, PULSE, OUTCOMES)

# The shares the chart's bars panel puts side by side (this cohort against the previous one).
CHART_SHARES = (
    "match_rate",
    "sessions_rate",
    "stalled_share",
    "goal_achieved_leader",
    "goal_achieved_junior",
    "agreement_achieved_leader",
    "agreement_achieved_junior",
)


@dataclass(frozen=True)
class CohortFigures:
    """One cohort's plain facts, as gathered from storage. People and pairs are counts; the
    answers carry the user id of whoever gave them, only so that people can be counted.

    - pulse: (user_id, week_start, rating 1-5), a rating counted in the week it was given;
    - goal_progress: (user_id, role, progress) on one's own signup goal, one per person;
    - agreement_items: (user_id, role, progress), one per learning-agreement item;
    - changes: (user_id, text), what a leader will change, empty texts ignored.
    """

    name: str
    starts_on: date
    ends_on: date
    signed_up: int  # people
    paired: int  # people who were in a pair
    left: int  # people who left during the cohort
    continued: int  # pairs that continued into the next cohort
    pairs: int
    sessions_held: int
    sessions_planned: int
    stalled_pairs: int
    pulse: tuple[tuple[str, date, int], ...] = ()
    goal_progress: tuple[tuple[str, Role, Progress], ...] = ()
    agreement_items: tuple[tuple[str, Role, Progress], ...] = ()
    changes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Figure:
    """One figure as shown: its label, this cohort's value and the previous cohort's, as text.

    `hidden` is True when this cohort's value is withheld (fewer than the minimum number of
    people; `value` then reads NOT_ENOUGH). `number` and `previous_number` are the same
    figures for drawing (a share as 0..1, an average as 1..5), None when hidden or undefined,
    so a chart can draw a gap, never a zero."""

    key: str
    label: str
    value: str
    previous: str
    hidden: bool
    number: float | None = None
    previous_number: float | None = None


@dataclass(frozen=True)
class PulseWeek:
    """The pulse average of week `week` of a cohort (1 = the week it starts in; `starts_on` is
    the cohort's start plus 7 days per week before it), None when fewer than the minimum
    number of different people rated that week."""

    week: int
    starts_on: date
    value: float | None
    text: str


@dataclass(frozen=True)
class ImpactReport:
    cohort: str
    starts_on: date
    ends_on: date
    previous_cohort: str | None
    min_responses: int
    participation: tuple[Figure, ...]
    rhythm: tuple[Figure, ...]
    pulse: tuple[Figure, ...]
    outcomes: tuple[Figure, ...]
    pulse_weeks: tuple[PulseWeek, ...]
    previous_pulse_weeks: tuple[PulseWeek, ...]  # empty without a previous cohort
    changes: tuple[str, ...] | None  # the leaders' changes, anonymous; None: too few leaders

    @property
    def groups(self) -> tuple[tuple[str, tuple[Figure, ...]], ...]:
        return (
            (PARTICIPATION, self.participation),
            (RHYTHM, self.rhythm),
            (PULSE, self.pulse),
            (OUTCOMES, self.outcomes),
        )

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(figure for _, group in self.groups for figure in group)

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)


# --- how a value reads ---------------------------------------------------------------------------


def _half_up(value: Fraction, places: int) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent_text(part: int, whole: int) -> str:
    """ "83%": part of whole, rounded half up; "—" when whole is 0 (no share to speak of)."""
    if whole <= 0:
        return NONE_SHOWN
    return f"{_half_up(Fraction(part * 100, whole), 0)}%"


def _mean_text(mean: Fraction) -> str:
    return str(_half_up(mean, 1))


def _change_text(change: Fraction) -> str:
    rounded = _half_up(change, 1)
    if rounded == 0:
        return "0.0"
    return f"+{rounded}" if rounded > 0 else str(rounded)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _people(n: int) -> str:
    return f"{n} person" if n == 1 else f"{n} people"


# --- one cohort's figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    key: str
    group: str
    label: str
    text: str
    hidden: bool = False
    number: float | None = None


def _share(
    key: str, group: str, label: str, part: int, whole: int, detail: str, empty: str = NONE_SHOWN
) -> _Value:
    """ "83% (10 of 12)", or `empty` when there is nothing to take a share of."""
    if whole <= 0:
        return _Value(key, group, label, empty)
    return _Value(key, group, label, f"{percent_text(part, whole)} ({detail})", number=part / whole)


def _hidden(key: str, group: str, label: str) -> _Value:
    return _Value(key, group, label, NOT_ENOUGH, hidden=True)


def _week_of(cohort: CohortFigures, week_start: date) -> int:
    """0 for the week the cohort starts in (a week starting up to six days before it), 1 for
    the next, ...; negative for a week wholly before the cohort."""
    return ((week_start - cohort.starts_on).days + 6) // 7


def pulse_weeks(cohort: CohortFigures, *, min_responses: int) -> tuple[PulseWeek, ...]:
    """Every week of the cohort, from its first to its last (or the last with a rating),
    each with its average or None under the minimum of different people (a week nobody
    rated is None too). Ratings given in a week that ends before the cohort starts, or
    starts after it ends, are not the cohort's and are left out."""
    by_week = _by_week(cohort)
    last = max([(cohort.ends_on - cohort.starts_on).days // 7, 0, *by_week])
    weeks = []
    for week in range(last + 1):
        answers = by_week.get(week, [])
        mean = _mean(answers, min_responses)
        weeks.append(
            PulseWeek(
                week=week + 1,
                starts_on=cohort.starts_on + timedelta(days=7 * week),
                value=None if mean is None else float(mean),
                text=NOT_ENOUGH if mean is None else _mean_text(mean),
            )
        )
    return tuple(weeks)


def _by_week(cohort: CohortFigures) -> dict[int, list[tuple[str, int]]]:
    """(person, rating) answers by week of the cohort (0 = its first)."""
    by_week: dict[int, list[tuple[str, int]]] = {}
    for person, week_start, rating in _in_cohort(cohort):
        by_week.setdefault(_week_of(cohort, week_start), []).append((person, rating))
    return by_week


def _in_cohort(cohort: CohortFigures) -> list[tuple[str, date, int]]:
    return [
        (person, week_start, rating)
        for person, week_start, rating in cohort.pulse
        if _week_of(cohort, week_start) >= 0 and week_start <= cohort.ends_on
    ]


def _mean(answers: Sequence[tuple[str, int]], min_responses: int) -> Fraction | None:
    if not enough_people((person for person, _ in answers), min_responses):
        return None
    return Fraction(sum(rating for _, rating in answers), len(answers))


def _pulse_values(cohort: CohortFigures, min_responses: int) -> list[_Value]:
    answers = [(person, rating) for person, _, rating in _in_cohort(cohort)]
    mean = _mean(answers, min_responses)
    found = []
    if mean is None:
        found.append(_hidden("pulse_average", PULSE, "Pulse average (1–5)"))
    else:
        people = people_count(person for person, _ in answers)
        found.append(
            _Value(
                "pulse_average",
                PULSE,
                "Pulse average (1–5)",
                f"{_mean_text(mean)} ({_count(len(answers), 'rating')} by {_people(people)})",
                number=float(mean),
            )
        )
    # The trend: from the first week with a shown average to the last, each already above
    # the minimum on its own; fewer than two such weeks is no trend.
    shown: list[Fraction] = []
    by_week = _by_week(cohort)
    for week in sorted(by_week):
        week_mean = _mean(by_week[week], min_responses)
        if week_mean is not None:
            shown.append(week_mean)
    label = "Pulse trend (first to last week shown)"
    if len(shown) < 2:
        found.append(_hidden("pulse_trend", PULSE, label))
    else:
        change = shown[-1] - shown[0]
        found.append(
            _Value("pulse_trend", PULSE, label, _change_text(change), number=float(change))
        )
    return found


def _role_answers(
    answers: Iterable[tuple[str, str, str]], role: str
) -> tuple[list[str], list[str]]:
    """(people, progress values) of the answers of `role` with a known progress value."""
    people: list[str] = []
    progress: list[str] = []
    for person, who, value in answers:
        if who == role and value in PROGRESS:
            people.append(person)
            progress.append(value)
    return people, progress


def _outcome_values(cohort: CohortFigures, min_responses: int) -> list[_Value]:
    found = []
    for role in ROLES:
        people, progress = _role_answers(cohort.goal_progress, role)
        shown = enough_people(people, min_responses)
        for key in PROGRESS:
            label = f"{ROLE_LABELS[role]}: {PROGRESS_LABELS[key]}"
            name = f"goal_{key}_{role}"
            if not shown:
                found.append(_hidden(name, OUTCOMES, label))
            else:
                part = sum(1 for value in progress if value == key)
                found.append(
                    _share(
                        name,
                        OUTCOMES,
                        label,
                        part,
                        len(progress),
                        f"{part} of {len(progress)} answers",
                    )
                )
    for role in ROLES:
        people, progress = _role_answers(cohort.agreement_items, role)
        label = f"{ROLE_LABELS[role]}: agreement items achieved"
        name = f"agreement_achieved_{role}"
        if not enough_people(people, min_responses):
            found.append(_hidden(name, OUTCOMES, label))
        else:
            part = sum(1 for value in progress if value == "achieved")
            found.append(
                _share(name, OUTCOMES, label, part, len(progress), f"{part} of {len(progress)}")
            )
    return found


def _values(cohort: CohortFigures, min_responses: int) -> list[_Value]:
    values = [
        _Value("signed_up", PARTICIPATION, "Signed up", str(cohort.signed_up)),
        _Value("paired", PARTICIPATION, "Paired", str(cohort.paired)),
        _share(
            "match_rate",
            PARTICIPATION,
            "Match rate",
            cohort.paired,
            cohort.signed_up,
            f"{cohort.paired} of {cohort.signed_up}",
        ),
        _Value(
            "continued",
            PARTICIPATION,
            "Pairs continuing into the next cohort",
            str(cohort.continued),
        ),
        _Value("left", PARTICIPATION, "Left the program", str(cohort.left)),
        _share(
            "sessions_rate",
            RHYTHM,
            "Sessions held against planned",
            cohort.sessions_held,
            cohort.sessions_planned,
            f"{cohort.sessions_held} of {cohort.sessions_planned} planned",
            empty=f"{cohort.sessions_held} held, none planned",
        ),
        _share(
            "stalled_share",
            RHYTHM,
            "Pairs stalled",
            cohort.stalled_pairs,
            cohort.pairs,
            f"{cohort.stalled_pairs} of {_count(cohort.pairs, 'pair')}",
        ),
    ]
    values += _pulse_values(cohort, min_responses)
    values += _outcome_values(cohort, min_responses)
    changes = leader_changes(list(cohort.changes), min_responses=min_responses)
    if changes is None:
        values.append(_hidden("changes", OUTCOMES, "Leaders who shared a change"))
    else:
        leaders = people_count(person for person, text in cohort.changes if text.strip())
        values.append(_Value("changes", OUTCOMES, "Leaders who shared a change", str(leaders)))
    return values


def impact_report(
    current: CohortFigures, previous: CohortFigures | None, *, min_responses: int
) -> ImpactReport:
    """The report for `current`, each figure beside the same figure for `previous` (NONE_SHOWN
    when there is no previous cohort or its figure is hidden), every figure from answers
    hidden under `min_responses` different people, in either cohort."""
    now = _values(current, min_responses)
    before = {v.key: v for v in _values(previous, min_responses)} if previous else {}
    grouped: dict[str, list[Figure]] = {group: [] for group in GROUPS}
    for value in now:
        old = before.get(value.key)
        grouped[value.group].append(
            Figure(
                key=value.key,
                label=value.label,
                value=value.text,
                previous=NONE_SHOWN if old is None or old.hidden else old.text,
                hidden=value.hidden,
                number=value.number,
                previous_number=None if old is None else old.number,
            )
        )
    changes = leader_changes(list(current.changes), min_responses=min_responses)
    return ImpactReport(
        cohort=current.name,
        starts_on=current.starts_on,
        ends_on=current.ends_on,
        previous_cohort=previous.name if previous else None,
        min_responses=min_responses,
        participation=tuple(grouped[PARTICIPATION]),
        rhythm=tuple(grouped[RHYTHM]),
        pulse=tuple(grouped[PULSE]),
        outcomes=tuple(grouped[OUTCOMES]),
        pulse_weeks=pulse_weeks(current, min_responses=min_responses),
        previous_pulse_weeks=(
            pulse_weeks(previous, min_responses=min_responses) if previous else ()
        ),
        changes=None if changes is None else tuple(changes),
    )
