"""Outcomes' message: the private question at a checkpoint, with the person's own goal and
their own learning-agreement items."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.profiles import Status
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.outcomes import blocks
from handlers.outcomes.use_cases import Question, question_of
from storage import outcomes, participants
from storage.models import OutboxMessage


async def draft_question(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    user_id = message.payload["user"]
    checkpoint = message.payload["checkpoint"]

    def load(session: Session) -> Question | None:
        person = participants.get_participant(
            session=session, team_id=message.team_id, user_id=user_id
        )
        if person is None or person.status == Status.LEFT:
            return None  # left since: nothing to ask
        leader = bool(message.payload.get("leader"))
        return question_of(session, person=person, checkpoint=checkpoint, leader=leader)

    question = await deps.db.run(load)
    if question is None:
        return None
    text, content = blocks.question_blocks(
        checkpoint,
        goal=question.goal,
        leader=question.leader,
        answered=question.answered,
        items=question.items,
    )
    channel = await outbox.open_if_person(deps, user_id, team_id=message.team_id)
    return outbox.Draft(channel=channel, text=text, blocks=content)


def question_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    """The midpoint question is moot once the end has been asked."""
    if message.payload.get("checkpoint") != "midpoint":
        return None
    _, end_decided = outcomes.decided_flags(session=session, team_id=message.team_id)
    return "the end checkpoint has come" if end_decided else None


QUESTION = outbox.Kind(
    draft=draft_question,
    stale=question_stale,
    valid_for=timedelta(days=14),
    recipient=outbox.to_person("user"),
)
