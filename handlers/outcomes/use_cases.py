"""Objectives and outcomes: the cohort's midpoint and end checkpoints.

Each tick compares the clock with every workspace's cohort dates. A checkpoint is decided
once, in one transaction with its schedule stamp (`WorkspaceSchedule.*_decided_at`) and its
outbox rows (`outcome:{checkpoint}:{user_id}`): every active participant who has taken part
in a pair is asked privately how their goal went, and how each of their own items of their
pairs' learning agreements went (a leader the things to learn, a junior mentor the things to
gain); at the end every live pair is also thanked and closed, and the final summary is posted.
Answers are stored, never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel import Session

from bot import cohort
from bot.outcomes import CHECKPOINTS, AgreedPair, ItemQuestion, item_questions
from bot.profiles import Status
from handlers.core.deps import Deps
from handlers.pairing.use_cases import end_pair
from handlers.reports.use_cases import KIND as SUMMARY_KIND
from storage import outbox as rows
from storage import outcomes, pairs, participants, program
from storage.models import Participant, saved_id

log = logging.getLogger(__name__)

QUESTION_KIND = "outcome_question"


def _asked_person(
    session: Session, *, team_id: str, user_id: str, checkpoint: str
) -> Participant | None:
    """The participant, if this checkpoint has been decided and they are still in the program."""
    if checkpoint not in CHECKPOINTS:
        return None
    midpoint_done, end_done = outcomes.decided_flags(session=session, team_id=team_id)
    if not (midpoint_done if checkpoint == "midpoint" else end_done):
        return None
    person = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
    if person is None or person.status == Status.LEFT:
        return None
    return person


@dataclass(frozen=True)
class Question:
    """What someone's checkpoint question shows: their goal and answer, their own agreement
    items with their answers, and whether they are offered to share one change."""

    goal: str | None
    leader: bool
    answered: str | None
    items: tuple[ItemQuestion, ...]


def _item_questions(
    session: Session, *, team_id: str, user_id: str, checkpoint: str
) -> list[ItemQuestion]:
    """The agreement items a checkpoint asks `user_id` about, from their pairs' agreements as
    they are now (bot.outcomes.item_questions decides which), with their answers so far."""
    agreed = [
        AgreedPair(
            pair_id=saved_id(pair),
            mentor_id=pair.mentor_id,
            mentee_id=pair.mentee_id,
            live=pair.status in pairs.LIVE,
            end_reason=pair.end_reason,
            introduced=pair.dm_channel_id is not None,
            leader_items=tuple(agreement.leader_items),
            junior_items=tuple(agreement.junior_items),
        )
        for pair, agreement in outcomes.agreed_pairs_of(
            session=session, team_id=team_id, user_id=user_id
        )
    ]
    answers = outcomes.item_answers_of(
        session=session, team_id=team_id, user_id=user_id, checkpoint=checkpoint
    )
    return item_questions(user_id, agreed, answers)


def question_of(
    session: Session, *, person: Participant, checkpoint: str, leader: bool
) -> Question:
    """The question as `person` should see it now (read-only)."""
    row = outcomes.answer_of(
        session=session, team_id=person.team_id, user_id=person.user_id, checkpoint=checkpoint
    )
    items = _item_questions(
        session, team_id=person.team_id, user_id=person.user_id, checkpoint=checkpoint
    )
    return Question(person.goals, leader, row.progress if row else None, tuple(items))


def _may_share_change(session: Session, team_id: str, user_id: str, checkpoint: str) -> bool:
    person = _asked_person(session, team_id=team_id, user_id=user_id, checkpoint=checkpoint)
    return person is not None and outcomes.is_leader_in(
        session=session, team_id=team_id, user_id=user_id
    )


async def record_progress(
    deps: Deps, *, team_id: str, user_id: str, checkpoint: str, progress: str
) -> Question | None:
    """Someone's answer about their own goal (a later press replaces it): returns their
    question to show again, or None if they were not asked."""

    def record(session: Session) -> Question | None:
        person = _asked_person(session, team_id=team_id, user_id=user_id, checkpoint=checkpoint)
        if person is None:
            return None
        outcomes.record_progress(
            session=session,
            team_id=team_id,
            user_id=user_id,
            checkpoint=checkpoint,
            progress=progress,
            now=deps.clock(),
        )
        leader = outcomes.is_leader_in(session=session, team_id=team_id, user_id=user_id)
        return question_of(session, person=person, checkpoint=checkpoint, leader=leader)

    recorded = await deps.db.run(record)
    if recorded is not None:
        log.info("outcome progress recorded at the %s", checkpoint)
    return recorded


async def record_item_progress(
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    checkpoint: str,
    pair_id: int,
    item_index: int,
    progress: str,
) -> Question | None:
    """Someone's answer about one of their own agreement items (a later press replaces it):
    returns their question to show again, or None (nothing stored) unless the checkpoint
    asked them and the item is one it asks them about: their own side of the agreement of a
    pair they are in, as the agreement is now."""

    def record(session: Session) -> Question | None:
        person = _asked_person(session, team_id=team_id, user_id=user_id, checkpoint=checkpoint)
        if person is None:
            return None
        asked = _item_questions(session, team_id=team_id, user_id=user_id, checkpoint=checkpoint)
        if not any(q.pair_id == pair_id and q.index == item_index for q in asked):
            return None
        outcomes.record_item_progress(
            session=session,
            team_id=team_id,
            pair_id=pair_id,
            user_id=user_id,
            checkpoint=checkpoint,
            item_index=item_index,
            progress=progress,
            now=deps.clock(),
        )
        leader = outcomes.is_leader_in(session=session, team_id=team_id, user_id=user_id)
        return question_of(session, person=person, checkpoint=checkpoint, leader=leader)

    recorded = await deps.db.run(record)
    if recorded is not None:
        log.info("agreement item progress recorded at the %s", checkpoint)
    return recorded


async def current_change(deps: Deps, *, team_id: str, user_id: str, checkpoint: str) -> str | None:
    """The change a leader shared so far ("" if none), or None if they may not share one."""

    def current(session: Session) -> str | None:
        if not _may_share_change(session, team_id, user_id, checkpoint):
            return None
        row = outcomes.answer_of(
            session=session, team_id=team_id, user_id=user_id, checkpoint=checkpoint
        )
        return (row.change if row else None) or ""

    return await deps.db.run(current)


async def save_change(
    deps: Deps, *, team_id: str, user_id: str, checkpoint: str, change: str | None
) -> bool:
    """Store (or clear) a leader's one change; False if they may not share one."""

    def save(session: Session) -> bool:
        if not _may_share_change(session, team_id, user_id, checkpoint):
            return False
        outcomes.record_change(
            session=session,
            team_id=team_id,
            user_id=user_id,
            checkpoint=checkpoint,
            change=change,
            now=deps.clock(),
        )
        return True

    saved = await deps.db.run(save)
    if saved:
        log.info("a leader's change %s at the %s", "shared" if change else "cleared", checkpoint)
    return saved


async def decide_checkpoints(deps: Deps) -> int:
    """Decide whatever checkpoint has come, per workspace; returns how many were decided."""
    teams = await deps.db.run(lambda s: program.workspaces(session=s))
    decided = 0
    for team_id in teams:
        now = deps.clock()
        checkpoint = await deps.db.run(partial(_decide, team_id=team_id, now=now))
        if checkpoint is None:
            continue
        decided += 1
    return decided


def _decide(session: Session, team_id: str, now: datetime) -> str | None:
    settings = program.get_program_settings(session=session, team_id=team_id)
    if not cohort.checkpoint_moments(settings):
        return None  # no cohort dates: nothing to write
    midpoint_done, end_done = outcomes.decided_flags(session=session, team_id=team_id)
    checkpoint = cohort.due_checkpoint(
        settings, now, midpoint_decided=midpoint_done, end_decided=end_done
    )
    if checkpoint is None:
        return None
    schedule = program.schedule_of(session=session, team_id=team_id)
    outcomes.mark_decided(session=session, schedule=schedule, checkpoint=checkpoint, now=now)
    closed = 0
    if checkpoint == "end":
        # A midpoint not asked by now is skipped: one question on the last day is enough.
        outcomes.mark_decided(session=session, schedule=schedule, checkpoint="midpoint", now=now)
        for pair in pairs.live_pairs(session=session, team_id=team_id):
            closed += end_pair(session, pair=pair, reason="program_ended", now=now)
        # The final summary goes through the outbox like the weekly one: once, and retried.
        rows.enqueue(
            session=session,
            team_id=team_id,
            key=f"summary:{team_id}:final",
            kind=SUMMARY_KIND,
            payload={"end": now.isoformat(), "final": True},
            now=now,
        )
    people = outcomes.checkpoint_people(session=session, team_id=team_id)
    for user_id, leader in people:
        rows.enqueue(
            session=session,
            team_id=team_id,
            key=f"outcome:{checkpoint}:{user_id}",
            kind=QUESTION_KIND,
            payload={"user": user_id, "checkpoint": checkpoint, "leader": leader},
            now=now,
        )
    log.info(
        "outcome checkpoint %s decided: %d people asked, %d pairs closed",
        checkpoint,
        len(people),
        closed,
    )
    return checkpoint
