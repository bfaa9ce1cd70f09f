"""Outcomes' message: the private question at a checkpoint, with the person's own goal and
their own learning-agreement items."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.outcomes import checkpoint_ref
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.outcomes import blocks
from handlers.outcomes.use_cases import Question, asked_now, question_of
from storage import outcomes, participants
from storage.models import OutboxMessage, Participant


async def draft_question(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    user_id = message.payload["user"]
    checkpoint = message.payload["checkpoint"]

    def load(session: Session) -> Question | None:
        person = participants.get_participant(
            session=session, team_id=message.team_id, user_id=user_id
        )
        cohort_id = _cohort_of(message, person)
        ref = checkpoint if cohort_id is None else checkpoint_ref(cohort_id, checkpoint)
        asked = asked_now(session, team_id=message.team_id, user_id=user_id, ref=ref)
        if asked is None:
            return None  # left since: nothing to ask
        return question_of(session, asked=asked, leader=bool(message.payload.get("leader")))

    question = await deps.db.read(load)
    if question is None:
        return None
    text, content = blocks.question_blocks(
        checkpoint,
        goal=question.goal,
        leader=question.leader,
        ref=question.ref,
        answered=question.answered,
        items=question.items,
    )
    channel = await outbox.open_if_person(deps, user_id, team_id=message.team_id)
    return outbox.Draft(channel=channel, text=text, blocks=content)


def question_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    """The midpoint question is moot once the end has been asked."""
    if message.payload.get("checkpoint") != "midpoint":
        return None
    person = participants.get_participant(
        session=session, team_id=message.team_id, user_id=message.payload["user"]
    )
    _, end_decided = outcomes.decided_flags(
        session=session, team_id=message.team_id, cohort_id=_cohort_of(message, person)
    )
    return "the end checkpoint has come" if end_decided else None


def _cohort_of(message: OutboxMessage, person: Participant | None) -> int | None:
    """The question's cohort; one decided before there were cohorts is the person's."""
    cohort = message.payload.get("cohort")
    if isinstance(cohort, int):
        return cohort
    return person.cohort_id if person is not None else None


QUESTION = outbox.Kind(
    draft=draft_question,
    stale=question_stale,
    valid_for=timedelta(days=14),
    recipient=outbox.to_person("user"),
)
