"""The guide's message: a DM to one person, in their working hours, dropped if it is no
longer wanted (they left or paused, or the admins turned the guides off since)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.profiles import Status
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.guides import blocks
from storage import participants, program
from storage.models import OutboxMessage


async def draft_guide(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    user_id = message.payload["user"]
    guide = deps.guides[message.payload["audience"]]
    channel = await outbox.open_if_person(deps, user_id, team_id=message.team_id)
    text, content = blocks.guide_blocks(guide)
    return outbox.Draft(channel=channel, text=text, blocks=content)


def guide_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    person = participants.get_participant(
        session=session, team_id=message.team_id, user_id=message.payload["user"]
    )
    if person is None or person.status == Status.LEFT:
        return "the person has left"
    if person.status == Status.PAUSED:
        return "the person is paused"
    if not program.get_program_settings(session=session, team_id=message.team_id).send_guides:
        return "the admins turned the guides off"
    return None


GUIDE = outbox.Kind(
    draft=draft_guide,
    stale=guide_stale,
    # Meant for before the first session: two weeks on (sessions are fortnightly by default)
    # it would arrive after it.
    valid_for=timedelta(days=14),
    recipient=outbox.to_person("user"),  # waits for the person's working hours
)
