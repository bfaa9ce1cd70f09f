"""Cohorts' messages: a pair's continue-or-close choice in its group DM (in the pair's
working hours, dropped once answered), and the offer to carry over, to one person."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.profiles import Status
from handlers.cohorts import blocks
from handlers.cohorts.use_cases import still_choosing
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.rhythm.messages import pause_unreachable_pair
from storage import cohorts, pairs, participants
from storage.models import Cohort, OutboxMessage, Pair


async def draft_choice(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    def load(session: Session) -> tuple[Pair | None, Cohort | None, Cohort | None]:
        pair = pairs.get_pair(
            session=session, team_id=message.team_id, pair_id=message.pair_id or 0
        )
        ended = cohorts.get_cohort(
            session=session, team_id=message.team_id, cohort_id=message.payload["cohort"]
        )
        following = cohorts.next_cohort(session=session, cohort=ended) if ended else None
        return pair, ended, following

    pair, ended, following = await deps.db.read(load)
    if pair is None or pair.dm_channel_id is None or ended is None or following is None:
        return None
    text, content = blocks.choice_blocks(
        pair.id or 0, cohort=ended.name, next_cohort=following.name, ends_on=ended.ends_on
    )
    return outbox.Draft(channel=pair.dm_channel_id, text=text, blocks=content)


def choice_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    if not still_choosing(session, team_id=message.team_id, pair_id=message.pair_id or 0):
        return "the pair has chosen, or ended"
    return None


async def draft_carry_over(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    def load(session: Session) -> tuple[Cohort | None, Cohort | None]:
        ended = cohorts.get_cohort(
            session=session, team_id=message.team_id, cohort_id=message.payload["from"]
        )
        target = cohorts.get_cohort(
            session=session, team_id=message.team_id, cohort_id=message.payload["to"]
        )
        return ended, target

    ended, target = await deps.db.read(load)
    if ended is None or target is None:
        return None
    text, content = blocks.carry_over_blocks(
        target.id or 0,
        cohort=target.name,
        ended=ended.name,
        had_pair=bool(message.payload.get("had_pair")),
    )
    channel = await outbox.open_if_person(deps, message.payload["user"], team_id=message.team_id)
    return outbox.Draft(channel=channel, text=text, blocks=content)


def carry_over_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    person = participants.get_participant(
        session=session, team_id=message.team_id, user_id=message.payload["user"]
    )
    if person is None or person.status == Status.LEFT:
        return "the person has left"
    if person.cohort_id == message.payload["to"]:
        return "the person is in that cohort already"
    target = cohorts.get_cohort(
        session=session, team_id=message.team_id, cohort_id=message.payload["to"]
    )
    if target is None or (target.signups_open is False and target.status != "running"):
        return "that cohort has ended"
    return None


CHOICE = outbox.Kind(
    draft=draft_choice,
    stale=choice_stale,
    valid_for=timedelta(days=14),
    to_pair=True,  # waits for the pair's working hours
    on_failed=pause_unreachable_pair,
)
CARRY_OVER = outbox.Kind(
    draft=draft_carry_over,
    stale=carry_over_stale,
    valid_for=timedelta(days=14),
    recipient=outbox.to_person("user"),  # waits for the person's working hours
)
