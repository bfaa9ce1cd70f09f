"""Whose "today": the acting person's, on their own calendar, never UTC's. Someone in Los
Angeles at 20:00 is still on today while UTC is on tomorrow."""

from __future__ import annotations

from datetime import date

from bot import cadence
from bot.program_settings import is_timezone
from handlers.core.deps import Deps
from storage import participants


async def zone_of(deps: Deps, *, team_id: str, user_id: str) -> str | None:
    """The person's stored time zone, else their Slack profile's; None means UTC."""
    person = await deps.db.read(
        lambda s: participants.get_participant(session=s, team_id=team_id, user_id=user_id)
    )
    if person is not None and person.timezone and is_timezone(person.timezone):
        return person.timezone
    profile = await deps.user_info(team_id=team_id, user_id=user_id, budget=1.0)
    tz = (profile or {}).get("tz")
    return tz if isinstance(tz, str) and is_timezone(tz) else None


async def today_for(deps: Deps, *, team_id: str, user_id: str) -> date:
    tz = await zone_of(deps, team_id=team_id, user_id=user_id)
    return cadence.local_date(deps.clock(), tz)
