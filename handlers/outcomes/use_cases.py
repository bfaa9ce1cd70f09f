"""Objectives and outcomes: the cohort's midpoint and end checkpoints.

Each tick compares the clock with the dates of every running cohort. A cohort's checkpoint
is decided once, in one transaction with its stamp (`Cohort.*_decided_at`) and its outbox
rows (`outcome:{cohort_id}:{checkpoint}:{user_id}`): every active participant who has taken
part in one of the cohort's pairs is asked privately how their goal went, and how each of
their own items of their pairs' learning agreements went (a leader the things to learn, a
junior mentor the things to gain); at the end the cohort ends (handlers/cohorts: its pairs
continue or close), and the final summary and the impact report are decided. Answers are
stored, never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel import Session

from bot import cohort
from bot.cohort import CohortStatus
from bot.outcomes import (
    AgreedPair,
    ItemQuestion,
    checkpoint_ref,
    item_questions,
    parse_checkpoint_ref,
)
from bot.profiles import Status
from handlers.cohorts.use_cases import end_cohort
from handlers.core.deps import Deps
from handlers.reports.impact import decide_impact_report
from handlers.reports.use_cases import KIND as SUMMARY_KIND
from storage import cohorts, outcomes, pairs, participants, program
from storage import outbox as rows
from storage.models import Cohort, Participant, saved_id

log = logging.getLogger(__name__)

QUESTION_KIND = "outcome_question"


@dataclass(frozen=True)
class Asked:
    person: Participant
    cohort_id: int
    checkpoint: str


def _asked_person(session: Session, *, team_id: str, user_id: str, ref: str) -> Asked | None:
    """Who answers, for which cohort's checkpoint (`ref`, as the buttons carry it), if that
    checkpoint has been decided and they are still in the program."""
    cohort_id, checkpoint = parse_checkpoint_ref(ref)
    if checkpoint is None:
        return None
    person = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
    if person is None or person.status == Status.LEFT:
        return None
    cohort_id = cohort_id if cohort_id is not None else person.cohort_id  # an older question
    midpoint_done, end_done = outcomes.decided_flags(
        session=session, team_id=team_id, cohort_id=cohort_id
    )
    if cohort_id is None or not (midpoint_done if checkpoint == "midpoint" else end_done):
        return None
    return Asked(person=person, cohort_id=cohort_id, checkpoint=checkpoint)


def _leader_asked(session: Session, team_id: str, user_id: str, ref: str) -> Asked | None:
    asked = _asked_person(session, team_id=team_id, user_id=user_id, ref=ref)
    if asked is None or not outcomes.is_leader_in(
        session=session, team_id=team_id, user_id=user_id
    ):
        return None
    return asked


@dataclass(frozen=True)
class Question:
    """What someone's checkpoint question shows: their goal and answer, their own agreement
    items with their answers, and whether they are offered to share one change."""

    checkpoint: str
    ref: str  # the cohort's checkpoint, as its buttons carry it
    goal: str | None
    leader: bool
    answered: str | None
    items: tuple[ItemQuestion, ...]


def _item_questions(
    session: Session, *, team_id: str, user_id: str, asked: Asked
) -> list[ItemQuestion]:
    """The agreement items a cohort's checkpoint asks `user_id` about, from the agreements of
    their pairs in that cohort as they are now (bot.outcomes.item_questions decides which),
    with their answers so far."""
    agreed = [
        AgreedPair(
            pair_id=saved_id(pair),
            mentor_id=pair.mentor_id,
            mentee_id=pair.mentee_id,
            # A pair that has moved on to a later cohort is asked about here as it was.
            live=pair.status in pairs.LIVE,
            end_reason=pair.end_reason,
            introduced=pair.dm_channel_id is not None,
            leader_items=tuple(agreement.leader_items),
            junior_items=tuple(agreement.junior_items),
        )
        for pair, agreement in outcomes.agreed_pairs_of(
            session=session, team_id=team_id, cohort_id=asked.cohort_id, user_id=user_id
        )
    ]
    answers = outcomes.item_answers_of(
        session=session,
        team_id=team_id,
        cohort_id=asked.cohort_id,
        user_id=user_id,
        checkpoint=asked.checkpoint,
    )
    return item_questions(user_id, agreed, answers)


def question_of(session: Session, *, asked: Asked, leader: bool) -> Question:
    """The question as the person asked should see it now (read-only)."""
    person = asked.person
    row = outcomes.answer_of(
        session=session,
        team_id=person.team_id,
        cohort_id=asked.cohort_id,
        user_id=person.user_id,
        checkpoint=asked.checkpoint,
    )
    items = _item_questions(session, team_id=person.team_id, user_id=person.user_id, asked=asked)
    return Question(
        checkpoint=asked.checkpoint,
        ref=checkpoint_ref(asked.cohort_id, asked.checkpoint),
        goal=person.goals,
        leader=leader,
        answered=row.progress if row else None,
        items=tuple(items),
    )


def asked_now(session: Session, *, team_id: str, user_id: str, ref: str) -> Asked | None:
    """The person and the cohort's checkpoint of a question (for drafting it)."""
    return _asked_person(session, team_id=team_id, user_id=user_id, ref=ref)


def _shown_again(session: Session, asked: Asked) -> Question:
    """The question as it reads after an answer was recorded."""
    person = asked.person
    leader = outcomes.is_leader_in(session=session, team_id=person.team_id, user_id=person.user_id)
    return question_of(session, asked=asked, leader=leader)


async def record_progress(
    deps: Deps, *, team_id: str, user_id: str, ref: str, progress: str
) -> Question | None:
    """Someone's answer about their own goal (a later press replaces it): returns their
    question to show again, or None if they were not asked."""

    def record(session: Session) -> Question | None:
        asked = _asked_person(session, team_id=team_id, user_id=user_id, ref=ref)
        if asked is None:
            return None
        outcomes.record_progress(
            session=session,
            team_id=team_id,
            cohort_id=asked.cohort_id,
            user_id=user_id,
            checkpoint=asked.checkpoint,
            progress=progress,
            now=deps.clock(),
        )
        return _shown_again(session, asked)

    recorded = await deps.db.run(record)
    if recorded is not None:
        log.info("outcome progress recorded at the %s", recorded.checkpoint)
    return recorded


async def record_item_progress(
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    ref: str,
    pair_id: int,
    item_index: int,
    progress: str,
) -> Question | None:
    """Someone's answer about one of their own agreement items (a later press replaces it):
    returns their question to show again, or None (nothing stored) unless the checkpoint
    asked them and the item is one it asks them about: their own side of the agreement of a
    pair they are in in that cohort, as the agreement is now."""

    def record(session: Session) -> Question | None:
        asked = _asked_person(session, team_id=team_id, user_id=user_id, ref=ref)
        if asked is None:
            return None
        questions = _item_questions(session, team_id=team_id, user_id=user_id, asked=asked)
        if not any(q.pair_id == pair_id and q.index == item_index for q in questions):
            return None
        outcomes.record_item_progress(
            session=session,
            team_id=team_id,
            cohort_id=asked.cohort_id,
            pair_id=pair_id,
            user_id=user_id,
            checkpoint=asked.checkpoint,
            item_index=item_index,
            progress=progress,
            now=deps.clock(),
        )
        return _shown_again(session, asked)

    recorded = await deps.db.run(record)
    if recorded is not None:
        log.info("agreement item progress recorded at the %s", recorded.checkpoint)
    return recorded


async def current_change(deps: Deps, *, team_id: str, user_id: str, ref: str) -> str | None:
    """The change a leader shared so far ("" if none), or None if they may not share one."""

    def current(session: Session) -> str | None:
        asked = _leader_asked(session, team_id, user_id, ref)
        if asked is None:
            return None
        row = outcomes.answer_of(
            session=session,
            team_id=team_id,
            cohort_id=asked.cohort_id,
            user_id=user_id,
            checkpoint=asked.checkpoint,
        )
        return (row.change if row else None) or ""

    return await deps.db.read(current)


async def save_change(
    deps: Deps, *, team_id: str, user_id: str, ref: str, change: str | None
) -> bool:
    """Store (or clear) a leader's one change; False if they may not share one."""

    def save(session: Session) -> str | None:
        asked = _leader_asked(session, team_id, user_id, ref)
        if asked is None:
            return None
        outcomes.record_change(
            session=session,
            team_id=team_id,
            cohort_id=asked.cohort_id,
            user_id=user_id,
            checkpoint=asked.checkpoint,
            change=change,
            now=deps.clock(),
        )
        return asked.checkpoint

    checkpoint = await deps.db.run(save)
    if checkpoint is not None:
        log.info("a leader's change %s at the %s", "shared" if change else "cleared", checkpoint)
    return checkpoint is not None


async def decide_checkpoints(deps: Deps) -> int:
    """Decide whatever checkpoint has come, per running cohort of each workspace; returns
    how many were decided. Which cohorts have one due is read in one transaction (a tick
    usually finds none); each due one is then decided in its own."""
    due = await deps.db.run(partial(_due_cohorts, now=deps.clock()))
    decided = 0
    for team_id, cohort_id in due:
        now = deps.clock()
        checkpoint = await deps.db.run(
            partial(_decide, team_id=team_id, cohort_id=cohort_id, now=now)
        )
        decided += checkpoint is not None
    return decided


def _due_cohorts(session: Session, now: datetime) -> list[tuple[str, int]]:
    return [
        (team_id, saved_id(row))
        for team_id in program.workspaces(session=session)
        for row in cohorts.running_cohorts(session=session, team_id=team_id)
        if _due_checkpoint(session, row, now) is not None
    ]


def next_checkpoint(session: Session, _deps: Deps, _now: datetime) -> datetime | None:
    """When `decide_checkpoints` could next decide one: the earliest moment of a running
    cohort's checkpoint not decided yet (as `cohort.due_checkpoint` reads them; a cohort of
    a workspace with nobody in it only makes it earlier)."""
    moments: list[datetime] = []
    for row in cohorts.running_to_end(session=session):
        settings = program.get_program_settings(
            session=session, team_id=row.team_id, cohort_id=saved_id(row)
        )
        moments.extend(
            moment
            for name, moment in cohort.checkpoint_moments(settings).items()
            if name == "end" or row.midpoint_decided_at is None
        )
    return min(moments, default=None)


def _due_checkpoint(session: Session, row: Cohort, now: datetime) -> str | None:
    settings = program.get_program_settings(
        session=session, team_id=row.team_id, cohort_id=saved_id(row)
    )
    if not cohort.checkpoint_moments(settings):
        return None  # no cohort dates: nothing to write
    return cohort.due_checkpoint(
        settings,
        now,
        midpoint_decided=row.midpoint_decided_at is not None,
        end_decided=row.end_decided_at is not None,
    )


def _decide(session: Session, team_id: str, cohort_id: int, now: datetime) -> str | None:
    row = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=cohort_id)
    if row is None or row.status != CohortStatus.RUNNING:
        return None  # ended or closed since it was read
    checkpoint = _due_checkpoint(session, row, now)
    if checkpoint is None:
        return None
    cohorts.mark_decided(session=session, cohort=row, checkpoint=checkpoint, now=now)
    closed = 0
    if checkpoint == "end":
        # A midpoint not asked by now is skipped: one question on the last day is enough.
        cohorts.mark_decided(session=session, cohort=row, checkpoint="midpoint", now=now)
        closed = end_cohort(session, cohort=row, now=now)
        decide_impact_report(session, cohort=row, now=now)
        # The final summary goes through the outbox like the weekly one: once, and retried.
        rows.enqueue(
            session=session,
            team_id=team_id,
            key=f"summary:{team_id}:final:{cohort_id}",
            kind=SUMMARY_KIND,
            payload={"end": now.isoformat(), "final": True, "cohort": cohort_id},
            now=now,
        )
    people = outcomes.checkpoint_people(session=session, team_id=team_id, cohort_id=cohort_id)
    for user_id, leader in people:
        rows.enqueue(
            session=session,
            team_id=team_id,
            key=f"outcome:{cohort_id}:{checkpoint}:{user_id}",
            kind=QUESTION_KIND,
            payload={
                "user": user_id,
                "checkpoint": checkpoint,
                "cohort": cohort_id,
                "leader": leader,
            },
            now=now,
        )
    log.info(
        "outcome checkpoint %s decided: %d people asked, %d pairs closed",
        checkpoint,
        len(people),
        closed,
    )
    return checkpoint
