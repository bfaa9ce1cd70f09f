"""The pair's rhythm in the database: sessions held, next dates, activity and what is due.

Every change here recomputes the pair's indexed *_due_at columns with bot.cadence, so the
scheduler's tick finds what is due with an index range scan instead of reading every pair.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Integer, bindparam, exists
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from bot import cadence
from bot.cadence import ProgramSettings
from storage import participants, pulse
from storage.memo import recall, remember
from storage.models import FitAnswer, HeldSession, Pair, PromptSent, UTCDateTime, saved_id
from storage.sql import insert_new

DUE_COLUMNS = (
    "prompt_due_at",
    "checkin_due_at",
    "stall_due_at",
    "escalate_due_at",
    "pulse_due_at",
)


def leader_timezone(*, session: Session, pair: Pair) -> str | None:
    leader = participants.get_participant(
        session=session, team_id=pair.team_id, user_id=pair.mentee_id
    )
    return leader.timezone if leader is not None else None


def leader_today(*, session: Session, pair: Pair, now: datetime) -> date:
    """The pair's "today" for the cadence: the leader's, as sessions are anchored on the
    leader's working day (cadence.session_start)."""
    return cadence.local_date(now, leader_timezone(session=session, pair=pair))


def clear_dues(pair: Pair) -> None:
    """Out of the due indexes: nothing is due for a pair that is paused or over."""
    for column in DUE_COLUMNS:
        setattr(pair, column, None)


def pair_timezones(*, session: Session, pair: Pair) -> tuple[str | None, str | None]:
    """(mentor's, leader's) time zones."""
    mentor = participants.get_participant(
        session=session, team_id=pair.team_id, user_id=pair.mentor_id
    )
    return (mentor.timezone if mentor else None), leader_timezone(session=session, pair=pair)


def schedule_session(
    *, session: Session, pair: Pair, day: date, settings: ProgramSettings, now: datetime
) -> None:
    """Set the next session date, with its prompt before and check-in after."""
    mentor_tz, leader_tz = pair_timezones(session=session, pair=pair)
    dues = cadence.dues_for_session(
        day, now=now, leader_tz=leader_tz, mentor_tz=mentor_tz, settings=settings
    )
    pair.next_session_on = day
    pair.prompt_due_at = dues.prompt_due_at
    pair.checkin_due_at = dues.checkin_due_at
    pair.updated_at = now
    session.add(pair)


def schedule_after(
    *, session: Session, pair: Pair, day: date, settings: ProgramSettings, now: datetime
) -> None:
    """The next session a cadence after `day` (or after today, if `day` has passed)."""
    next_day = cadence.proposed_session(
        max(day, leader_today(session=session, pair=pair, now=now)), settings
    )
    schedule_session(session=session, pair=pair, day=next_day, settings=settings, now=now)


def record_activity(
    *, session: Session, pair: Pair, at: datetime, settings: ProgramSettings
) -> None:
    """A session or a message: the stall clock starts again and any escalation is off."""
    if pair.last_activity_at is not None and pair.last_activity_at >= at:
        return
    pair.last_activity_at = at
    pair.stall_due_at = cadence.stall_due_at(at, settings)
    pair.escalate_due_at = None
    pair.nudged_at = None
    session.add(pair)


def start_rhythm(*, session: Session, pair: Pair, settings: ProgramSettings, now: datetime) -> None:
    """Right after the introduction: a first date from the cadence unless one was picked."""
    record_activity(session=session, pair=pair, at=now, settings=settings)
    pulse.start_cadence(pair=pair, settings=settings, now=now)  # the first pulse's due time
    if pair.next_session_on is None:
        day = cadence.proposed_session(leader_today(session=session, pair=pair, now=now), settings)
        schedule_session(session=session, pair=pair, day=day, settings=settings, now=now)


def insert_held_session(
    *, session: Session, pair: Pair, held_on: date, logged_by: str, now: datetime
) -> bool:
    """Record a session the pair held on `held_on`; False if that date was logged already."""
    return insert_new(
        session,
        HeldSession,
        team_id=pair.team_id,
        pair_id=pair.id,
        held_on=held_on,
        logged_by=logged_by,
        logged_at=now,
    )


def logged_near(*, session: Session, pair: Pair, day: date, window: timedelta) -> bool:
    """Whether the pair logged a session within `window` of `day`."""
    return (
        session.exec(
            select(HeldSession.id).where(
                HeldSession.pair_id == pair.id,
                col(HeldSession.held_on) >= day - window,
                col(HeldSession.held_on) <= day + window,
            )
        ).first()
        is not None
    )


def session_logged_since(*, session: Session, pair_id: int, day: date) -> bool:
    """Whether the pair logged a session on `day` or after."""
    return recall(
        session,
        ("logged_since", pair_id, day),
        lambda: (
            session.exec(
                select(HeldSession.id).where(
                    HeldSession.pair_id == pair_id, col(HeldSession.held_on) >= day
                )
            ).first()
            is not None
        ),
    )


def remember_sessions_logged(*, session: Session, pair_days: set[tuple[int, date]]) -> None:
    """`session_logged_since` for each (pair, day), read in one statement (storage/memo.py)."""
    if not pair_days:
        return
    pair_ids = sorted({pair_id for pair_id, _ in pair_days})
    latest: dict[int, date] = {
        pair_id: held_on
        for pair_id, held_on in session.exec(
            select(HeldSession.pair_id, func.max(HeldSession.held_on))
            .where(col(HeldSession.pair_id).in_(pair_ids))
            .group_by(col(HeldSession.pair_id))
        )
    }
    for pair_id, day in pair_days:
        last = latest.get(pair_id)
        remember(session, ("logged_since", pair_id, day), last is not None and last >= day)


def sessions_held(*, session: Session, pair_id: int) -> int:
    return len(session.exec(select(HeldSession.id).where(HeldSession.pair_id == pair_id)).all())


def prompt_history(*, session: Session, pair_id: int) -> list[str]:
    return list(
        session.exec(
            select(PromptSent.prompt_id)
            .where(PromptSent.pair_id == pair_id)
            .order_by(col(PromptSent.id))
        ).all()
    )


def remember_prompt(*, session: Session, pair: Pair, prompt_id: str, now: datetime) -> None:
    session.add(
        PromptSent(team_id=pair.team_id, pair_id=saved_id(pair), prompt_id=prompt_id, sent_at=now)
    )


def record_fit(
    *, session: Session, pair: Pair, user_id: str, good_fit: bool, now: datetime
) -> bool:
    """Store someone's private answer; the first answer counts, a second press changes nothing."""
    return insert_new(
        session,
        FitAnswer,
        team_id=pair.team_id,
        pair_id=pair.id,
        user_id=user_id,
        good_fit=good_fit,
        answered_at=now,
    )


def due_pairs(*, session: Session, column: str, now: datetime, limit: int = 200) -> list[Pair]:
    """Active pairs whose `column` time has come, oldest first, read through its index."""
    return list(
        session.exec(_due_pairs_statement(column), params={"now": now, "limit": limit}).all()
    )


@cache
def _due_pairs_statement(column: str) -> SelectOfScalar[Pair]:
    """Built once per column: every tick asks."""
    due = col(getattr(Pair, column))
    return (
        select(Pair)
        .where(due <= bindparam("now", type_=UTCDateTime()), Pair.status == "active")
        .order_by(due, col(Pair.id))
        .limit(bindparam("limit", type_=Integer))
    )


def due_columns(*, session: Session, columns: list[str], now: datetime) -> set[str]:
    """Which of these due columns have an active pair whose time has come, in one statement
    (one index probe each): most ticks find none, and need not ask column by column."""
    probes = [
        exists(
            select(Pair.id).where(col(getattr(Pair, column)) <= now, Pair.status == "active")
        ).label(column)
        for column in columns
    ]
    row = session.execute(select(*probes)).one()
    return {column for column, due in zip(columns, row, strict=True) if due}


def earliest_due(*, session: Session, columns: tuple[str, ...]) -> datetime | None:
    """The earliest of these due columns over active pairs (None: none is set), in one
    statement (one index probe each)."""
    row = session.execute(_earliest_due_statement(columns)).one()
    return min((moment for moment in row if moment is not None), default=None)


@cache
def _earliest_due_statement(columns: tuple[str, ...]) -> Any:
    """Built once per set of columns: the demo and every tick probe ask it often."""
    firsts = [
        select(due)
        .where(due.is_not(None), Pair.status == "active")
        .order_by(due)
        .limit(1)
        .scalar_subquery()
        for due in (col(getattr(Pair, column)) for column in columns)
    ]
    return select(*firsts)


def pause_pair(*, session: Session, pair: Pair, reason: str, now: datetime) -> None:
    """Nothing is due for a paused pair; its due times are recomputed when it resumes."""
    if pair.status != "active":
        return
    pair.status, pair.paused_reason, pair.updated_at = "paused", reason, now
    clear_dues(pair)
    session.add(pair)


def resume_pair(*, session: Session, pair: Pair, settings: ProgramSettings, now: datetime) -> None:
    if pair.status != "paused":
        return
    pair.status, pair.paused_reason = "active", None
    pair.last_activity_at = None  # the stall clock starts from the resume, not the pause
    record_activity(session=session, pair=pair, at=now, settings=settings)
    pulse.start_cadence(pair=pair, settings=settings, now=now)  # cleared by the pause
    day, today = pair.next_session_on, leader_today(session=session, pair=pair, now=now)
    if day is None or day <= today:
        day = cadence.proposed_session(today, settings)
    schedule_session(session=session, pair=pair, day=day, settings=settings, now=now)


def retime_pairs(
    *,
    session: Session,
    team_id: str,
    settings_of: Callable[[int | None], ProgramSettings],
    now: datetime,
    after_id: int = 0,
    limit: int = 500,
) -> int | None:
    """After the workspace's (or a cohort's) settings change: recompute what is still pending
    for its active pairs (the next prompt, the stall nudge, the escalation) from the settings
    of each pair's cohort (`settings_of(cohort_id)`), one batch of pairs by id. Returns the
    last pair id done, or None when there were no more."""
    batch = list(
        session.exec(
            select(Pair)
            .where(Pair.team_id == team_id, Pair.status == "active", col(Pair.id) > after_id)
            .order_by(col(Pair.id))
            .limit(limit)
        ).all()
    )
    for pair in batch:
        settings = settings_of(pair.cohort_id)
        if pair.stall_due_at is not None and pair.last_activity_at is not None:
            pair.stall_due_at = cadence.stall_due_at(pair.last_activity_at, settings)
        if pair.escalate_due_at is not None and pair.nudged_at is not None:
            pair.escalate_due_at = cadence.escalate_due_at(pair.nudged_at, settings)
        if pair.prompt_due_at is not None and pair.next_session_on is not None:
            mentor_tz, leader_tz = pair_timezones(session=session, pair=pair)
            pair.prompt_due_at = cadence.dues_for_session(
                pair.next_session_on,
                now=now,
                leader_tz=leader_tz,
                mentor_tz=mentor_tz,
                settings=settings,
            ).prompt_due_at
        session.add(pair)
    return batch[-1].id if batch else None
