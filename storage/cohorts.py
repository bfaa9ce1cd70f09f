"""Cohorts: each run of the program in a workspace, its dates, rhythm and checkpoints."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, bindparam, case
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.cohort import CohortStatus
from bot.profiles import Status
from storage.models import Cohort, CohortMember, Pair, PairCohort, Participant, saved_id

FIRST_COHORT = "Cohort 1"


def get_cohort(*, session: Session, team_id: str, cohort_id: int | None) -> Cohort | None:
    if cohort_id is None:
        return None
    row = session.get(Cohort, cohort_id)
    return row if row is not None and row.team_id == team_id else None


def cohorts_of(*, session: Session, team_id: str) -> list[Cohort]:
    """A workspace's cohorts, oldest first."""
    return list(
        session.exec(select(Cohort).where(Cohort.team_id == team_id).order_by(col(Cohort.id)))
    )


def cohort_named(*, session: Session, team_id: str, name: str) -> Cohort | None:
    """The cohort with this name, compared without case or surrounding spaces."""
    wanted = name.strip().casefold()
    for row in cohorts_of(session=session, team_id=team_id):
        if row.name.casefold() == wanted:
            return row
    return None


def signup_cohort(*, session: Session, team_id: str) -> Cohort | None:
    """The cohort new signups join: the newest running one open for signups (read-only)."""
    return session.exec(
        select(Cohort)
        .where(
            Cohort.team_id == team_id,
            Cohort.status == CohortStatus.RUNNING,
            col(Cohort.signups_open).is_(True),
        )
        .order_by(col(Cohort.id).desc())
    ).first()


def current_cohort(*, session: Session, team_id: str) -> Cohort | None:
    """The cohort the workspace's settings speak of: the one open for signups, else the
    newest running one, else the newest of all (read-only). One statement: the settings
    are read every tick."""
    return session.exec(_CURRENT_COHORT, params={"team_id": team_id}).first()


def _current_cohort_statement() -> SelectOfScalar[Cohort]:
    running = col(Cohort.status) == CohortStatus.RUNNING
    open_for_signups = and_(running, col(Cohort.signups_open).is_(True))
    return (
        select(Cohort)
        .where(Cohort.team_id == bindparam("team_id"))
        .order_by(
            case((open_for_signups, 0), else_=1),
            case((running, 0), else_=1),
            col(Cohort.id).desc(),
        )
        .limit(1)
    )


_CURRENT_COHORT = _current_cohort_statement()  # built once


def create_cohort(
    *,
    session: Session,
    team_id: str,
    name: str,
    now: datetime,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Cohort:
    row = Cohort(team_id=team_id, name=name, starts_on=starts_on, ends_on=ends_on, created_at=now)
    session.add(row)
    session.flush()
    return row


def first_cohort(*, session: Session, team_id: str, now: datetime) -> Cohort:
    """The current cohort, or "Cohort 1" created for a workspace that has none yet: a
    workspace that never named a cohort runs its one program as its first."""
    found = current_cohort(session=session, team_id=team_id)
    if found is not None:
        return found
    return create_cohort(session=session, team_id=team_id, name=FIRST_COHORT, now=now)


def running_cohorts(*, session: Session, team_id: str) -> list[Cohort]:
    return list(
        session.exec(
            select(Cohort)
            .where(Cohort.team_id == team_id, Cohort.status == CohortStatus.RUNNING)
            .order_by(col(Cohort.id))
        )
    )


def running_to_end(*, session: Session) -> list[Cohort]:
    """Every workspace's running cohorts whose end is not decided yet."""
    return list(session.exec(_RUNNING_TO_END))


_RUNNING_TO_END = (
    select(Cohort)
    .where(Cohort.status == CohortStatus.RUNNING, col(Cohort.end_decided_at).is_(None))
    .order_by(col(Cohort.team_id), col(Cohort.id))
)


def next_cohort(*, session: Session, cohort: Cohort) -> Cohort | None:
    """The cohort after this one: the oldest one created after it that is still running."""
    return session.exec(
        select(Cohort)
        .where(
            Cohort.team_id == cohort.team_id,
            Cohort.status == CohortStatus.RUNNING,
            col(Cohort.id) > cohort.id,
        )
        .order_by(col(Cohort.id))
    ).first()


def previous_cohort(*, session: Session, cohort: Cohort) -> Cohort | None:
    return session.exec(
        select(Cohort)
        .where(Cohort.team_id == cohort.team_id, col(Cohort.id) < cohort.id)
        .order_by(col(Cohort.id).desc())
    ).first()


def mark_decided(*, session: Session, cohort: Cohort, checkpoint: str, now: datetime) -> None:
    if checkpoint == "midpoint":
        cohort.midpoint_decided_at = cohort.midpoint_decided_at or now
    else:
        cohort.end_decided_at = cohort.end_decided_at or now
    session.add(cohort)


def members(*, session: Session, cohort_id: int) -> list[Participant]:
    """Active participants in a cohort's pool, in signup order."""
    return list(
        session.exec(
            select(Participant)
            .where(Participant.cohort_id == cohort_id, Participant.status == Status.ACTIVE)
            .order_by(col(Participant.id))
        )
    )


def waiting(*, session: Session, team_id: str) -> list[Participant]:
    """People who signed up while no cohort took signups: they join the next one created."""
    return list(
        session.exec(
            select(Participant)
            .where(
                Participant.team_id == team_id,
                col(Participant.cohort_id).is_(None),
                Participant.status != Status.LEFT,
            )
            .order_by(col(Participant.id))
        )
    )


def pairs_in(*, session: Session, cohort_id: int) -> list[Pair]:
    return list(
        session.exec(select(Pair).where(Pair.cohort_id == cohort_id).order_by(col(Pair.id)))
    )


def join(*, session: Session, person: Participant, cohort_id: int | None, now: datetime) -> None:
    """Put someone in a cohort's pool (None: waiting for one); the cohort remembers them."""
    person.cohort_id = cohort_id
    person.updated_at = now
    session.add(person)
    if cohort_id is not None and session.get(CohortMember, (cohort_id, person.user_id)) is None:
        session.add(
            CohortMember(cohort_id=cohort_id, user_id=person.user_id, team_id=person.team_id)
        )


def move_pair(*, session: Session, pair: Pair, cohort_id: int, now: datetime) -> None:
    """A pair runs in `cohort_id` from now on; the cohorts it ran in before remember it."""
    pair.cohort_id = cohort_id
    pair.updated_at = now
    session.add(pair)
    pair_id = saved_id(pair)
    if session.get(PairCohort, (pair_id, cohort_id)) is None:
        session.add(PairCohort(pair_id=pair_id, cohort_id=cohort_id, team_id=pair.team_id))


def people_ever_in(*, session: Session, cohort_id: int) -> list[str]:
    return list(
        session.exec(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id))
    )


def pairs_ever_in(*, session: Session, cohort_id: int) -> list[Pair]:
    """Every pair that ran in the cohort, those that continued into the next one included."""
    return list(
        session.exec(
            select(Pair)
            .join(PairCohort, col(PairCohort.pair_id) == col(Pair.id))
            .where(PairCohort.cohort_id == cohort_id)
            .order_by(col(Pair.id))
        )
    )


def cohort_names_by_pair(*, session: Session, team_id: str) -> dict[int, list[str]]:
    """pair id -> the names of the cohorts it ran in, oldest first."""
    rows = session.exec(
        select(PairCohort.pair_id, Cohort.name)
        .join(Cohort, col(Cohort.id) == col(PairCohort.cohort_id))
        .where(PairCohort.team_id == team_id)
        .order_by(col(PairCohort.pair_id), col(Cohort.id))
    ).all()
    found: dict[int, list[str]] = {}
    for pair_id, name in rows:
        found.setdefault(pair_id, []).append(name)
    return found
