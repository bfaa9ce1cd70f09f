"""When a message may go out: quiet hours (people hear from the bot only in their working
hours), and whether it is still worth sending at all (nothing stale goes out)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import cadence
from bot.cadence import ProgramSettings
from handlers.core.deps import Deps
from handlers.core.outbox.kinds import Kind
from handlers.core.today import zone_of
from storage import pairs, program, rhythm
from storage.models import OutboxMessage


async def recipient_zone(deps: Deps, message: OutboxMessage, kind: Kind) -> str | None:
    """The time zone of the one person a message is for (their profile, else Slack's)."""
    user_id = kind.recipient(message) if kind.recipient is not None else None
    if user_id is None:
        return None
    return await zone_of(deps, team_id=message.team_id, user_id=user_id) or "UTC"


def allowed_at(
    session: Session, message: OutboxMessage, kind: Kind, now: datetime, person_tz: str | None
) -> datetime:
    """The earliest moment it may go: in the working hours of the person it is for, or of
    both people of a pair (else the leader's); a channel hears at once."""
    settings = program.get_program_settings(session=session, team_id=message.team_id)
    if kind.to_pair and message.pair_id is not None:
        pair = pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id)
        if pair is None:
            return now
        mentor_tz, leader_tz = rhythm.pair_timezones(session=session, pair=pair)
        return cadence.next_send_time(
            now, (mentor_tz, leader_tz), leader_tz=leader_tz, settings=settings
        )
    if person_tz is not None:
        return allowed_for_person(settings, now, person_tz)
    return now


def zone_matters(message: OutboxMessage, kind: Kind) -> bool:
    """Whether `allowed_at` asks the recipient's zone (a pair's message asks the pair's)."""
    return kind.recipient is not None and not (kind.to_pair and message.pair_id is not None)


def allowed_for_person(settings: ProgramSettings, now: datetime, person_tz: str) -> datetime:
    """`allowed_at` for a message to one person, given the program's settings."""
    return cadence.next_send_time(now, (person_tz,), leader_tz=person_tz, settings=settings)


def stale_reason(session: Session, message: OutboxMessage, kind: Kind, now: datetime) -> str | None:
    """Why a message is no longer worth sending (it would arrive late or untrue), or None."""
    if kind.valid_for is not None and now - message.created_at > kind.valid_for:
        hours = int(kind.valid_for.total_seconds() // 3600)
        return f"older than {hours // 24} days" if hours >= 24 else f"older than {hours} hours"
    return kind.stale(session, message, now) if kind.stale is not None else None
