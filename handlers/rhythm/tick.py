"""The tick's decisions for the rhythm: which prompts, check-ins, nudges and escalations are
due now.

Each decision is made in one transaction with the outbox row it creates (unique key: pair,
kind, period) and with clearing the due time that triggered it, so overlapping ticks or a
restart decide nothing twice. Sending is the outbox's job, outside any transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlmodel import Session

from bot import cadence
from bot.introductions import shared_topics
from bot.prompts import Prompt, choose_prompt
from handlers.core import outbox
from handlers.core.deps import Deps
from storage import outbox as rows
from storage import participants, program, rhythm
from storage.models import Pair, saved_id

log = logging.getLogger(__name__)

BATCH = 200


async def decide_due(deps: Deps) -> int:
    """Turn everything due into outbox rows; returns how many decisions were made. Every
    column's batch is decided in one transaction (prompts first, then check-ins, nudges and
    escalations); a column with a full batch goes on in the next."""
    decided = 0
    columns = COLUMNS
    while columns:
        now = deps.clock()
        counts = await deps.db.run(partial(_decide_batches, deps=deps, columns=columns, now=now))
        decided += sum(counts)
        columns = tuple(c for c, count in zip(columns, counts, strict=True) if count >= BATCH)
    return decided


def next_due(session: Session, _deps: Deps, _now: datetime) -> datetime | None:
    """When `decide_due` could next decide anything: the earliest due time of an active pair."""
    return rhythm.earliest_due(session=session, columns=tuple(c for c, _ in COLUMNS))


Decide = Callable[[Session, Deps, Pair, datetime], None]


def _decide_batches(
    session: Session, deps: Deps, columns: tuple[tuple[str, Decide], ...], now: datetime
) -> list[int]:
    """Each column's batch, in order. One probe first says which columns have anything
    due; it holds until a decision changes pairs (a check-in schedules the next session),
    after which every later column is read anyway."""
    due = rhythm.due_columns(session=session, columns=[c for c, _ in columns], now=now)
    counts: list[int] = []
    for column, decide in columns:
        if column not in due and not any(counts):
            counts.append(0)
            continue
        counts.append(_decide_batch(session, deps, column, decide, now))
    return counts


def _decide_batch(session: Session, deps: Deps, column: str, decide: Decide, now: datetime) -> int:
    due = rhythm.due_pairs(session=session, column=column, now=now, limit=BATCH)
    for pair in due:
        setattr(pair, column, None)  # this period is decided, whatever happens below
        session.add(pair)
        decide(session, deps, pair, now)
    return len(due)


def _decide(
    session: Session, pair: Pair, kind: str, period: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Decide this pair's `kind` message for `period` (once: the key is unique), due at the
    pair's next shared working moment."""
    return rows.enqueue(
        session=session,
        team_id=pair.team_id,
        key=f"{kind}:{pair.id}:{period}",
        kind=kind,
        pair_id=pair.id,
        payload=payload,
        now=now,
        not_before=_send_after(session, pair, now),
    )


def _send_after(session: Session, pair: Pair, now: datetime) -> datetime:
    mentor_tz, leader_tz = rhythm.pair_timezones(session=session, pair=pair)
    settings = program.get_program_settings(
        session=session, team_id=pair.team_id, cohort_id=pair.cohort_id
    )
    return cadence.next_send_time(
        now, (mentor_tz, leader_tz), leader_tz=leader_tz, settings=settings
    )


def _decide_prompt(session: Session, deps: Deps, pair: Pair, now: datetime) -> None:
    if pair.next_session_on is None:
        return
    day = pair.next_session_on.isoformat()
    prompt = _pick_prompt(session, deps, pair)
    if prompt is None:
        return
    if _decide(session, pair, "prompt", day, {"prompt": prompt.id, "session": day}, now):
        rhythm.remember_prompt(session=session, pair=pair, prompt_id=prompt.id, now=now)


def _pick_prompt(session: Session, deps: Deps, pair: Pair) -> Prompt | None:
    mentor = participants.get_participant(
        session=session, team_id=pair.team_id, user_id=pair.mentor_id
    )
    mentee = participants.get_participant(
        session=session, team_id=pair.team_id, user_id=pair.mentee_id
    )
    topics = shared_topics(mentor.topics if mentor else [], mentee.topics if mentee else [])
    return choose_prompt(
        deps.prompts,
        topics=topics,
        history=rhythm.prompt_history(session=session, pair_id=saved_id(pair)),
        salt=pair.id or 0,
    )


def _decide_checkin(session: Session, deps: Deps, pair: Pair, now: datetime) -> None:
    day = pair.next_session_on
    if day is None:
        return
    _decide(session, pair, "checkin", day.isoformat(), {"session": day.isoformat()}, now)
    # Keep the rhythm going even if nobody answers: the cadence proposes the next date,
    # and the check-in's buttons can still log, move or skip it.
    settings = program.get_program_settings(
        session=session, team_id=pair.team_id, cohort_id=pair.cohort_id
    )
    rhythm.schedule_after(session=session, pair=pair, day=day, settings=settings, now=now)


def _decide_nudge(session: Session, deps: Deps, pair: Pair, now: datetime) -> None:
    since = pair.last_activity_at or pair.created_at
    days = cadence.days_between(since, now)
    _decide(session, pair, "nudge", since.date().isoformat(), {"days": days}, now)
    settings = program.get_program_settings(
        session=session, team_id=pair.team_id, cohort_id=pair.cohort_id
    )
    pair.nudged_at = now
    pair.escalate_due_at = cadence.escalate_due_at(now, settings)


def _decide_escalation(session: Session, deps: Deps, pair: Pair, now: datetime) -> None:
    since = pair.last_activity_at or pair.created_at
    days = cadence.days_between(since, now)
    outbox.alert_admins(
        session,
        deps,
        team_id=pair.team_id,
        key=f"stalled:{pair.id}:{since.date().isoformat()}",
        text=(
            f"The pair of <@{pair.mentor_id}> and <@{pair.mentee_id}> has stalled: "
            f"no session or message for {days} days, and a nudge didn't help."
        ),
        now=now,
    )


# The due columns in the order they are decided.
COLUMNS: tuple[tuple[str, Decide], ...] = (
    ("prompt_due_at", _decide_prompt),
    ("checkin_due_at", _decide_checkin),
    ("stall_due_at", _decide_nudge),
    ("escalate_due_at", _decide_escalation),
)
