"""A learning agreement's messages, both in the pair's group DM (only its two people are in
it): the confirmation of a save, sent at once, listing what was agreed as it stands; and the
reminder, in the pair's working hours, dropped if they agreed meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.agreement import blocks
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.rhythm.messages import pause_unreachable_pair
from storage import agreements, pairs
from storage import outbox as rows
from storage.models import LearningAgreement, OutboxMessage, Pair


async def draft_saved(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    def load(session: Session) -> tuple[Pair | None, LearningAgreement | None]:
        pair = pairs.get_pair(
            session=session, team_id=message.team_id, pair_id=message.pair_id or 0
        )
        if pair is None:
            return None, None
        row = agreements.agreement_of(
            session=session, team_id=message.team_id, pair_id=message.pair_id or 0
        )
        return pair, row

    pair, row = await deps.db.read(load)
    if pair is None or row is None or pair.dm_channel_id is None or pair.status == "ended":
        return None  # ended, or forgotten with someone who left
    text, content = blocks.saved_blocks(
        pair.id or 0,
        saved_by=message.payload["user"],
        leader_id=pair.mentee_id,
        junior_id=pair.mentor_id,
        leader_items=row.leader_items,
        junior_items=row.junior_items,
    )
    return outbox.Draft(channel=pair.dm_channel_id, text=text, blocks=content)


def saved_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    if rows.has_later_key(
        session=session,
        team_id=message.team_id,
        key=message.key,
        prefix=f"agreement_saved:{message.pair_id}:",
    ):
        return "a later save replaces it"
    return None


async def draft_reminder(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    pair = await deps.db.read(
        lambda s: pairs.get_pair(session=s, team_id=message.team_id, pair_id=message.pair_id or 0)
    )
    if pair is None or pair.dm_channel_id is None or pair.status != "active":
        return None
    text, content = blocks.reminder_blocks(pair.id or 0)
    return outbox.Draft(channel=pair.dm_channel_id, text=text, blocks=content)


def reminder_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    if agreements.agreement_of(
        session=session, team_id=message.team_id, pair_id=message.pair_id or 0
    ):
        return "the pair has agreed since"
    return None


SAVED = outbox.Kind(
    draft=draft_saved,
    stale=saved_stale,
    valid_for=timedelta(days=2),  # an answer to what one of them just did: at once
    on_failed=pause_unreachable_pair,
)
REMINDER = outbox.Kind(
    draft=draft_reminder,
    stale=reminder_stale,
    valid_for=timedelta(days=14),
    to_pair=True,  # waits for the pair's working hours
    on_failed=pause_unreachable_pair,
)
