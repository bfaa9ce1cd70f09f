"""Oracles for tests about time zones, written with plain zoneinfo arithmetic (never the
product's own helpers): what calendar date a reader sees in a message, what "today" is for
someone, and whether a moment is inside someone's working hours."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot import cohort
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.forms import filled, signup_state
from storage import program
from storage.models import OutboxMessage, Pair, WorkspaceSchedule

AUCKLAND = "Pacific/Auckland"  # +13 in its summer, +12 from the first Sunday of April
KIRITIMATI = "Pacific/Kiritimati"  # +14, no daylight saving
PAGO_PAGO = "Pacific/Pago_Pago"  # -11, no daylight saving
KATHMANDU = "Asia/Kathmandu"  # +05:45
LONDON = "Europe/London"  # +0, +1 from the last Sunday of March to the last of October
TOKYO = "Asia/Tokyo"
LOS_ANGELES = "America/Los_Angeles"

MONDAY_TO_FRIDAY = frozenset({0, 1, 2, 3, 4})
SUNDAY_TO_THURSDAY = frozenset({6, 0, 1, 2, 3})

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January February March April May June July August September October November December"
).split()
_SLACK_DATE = re.compile(r"<!date\^(\d+)\^[^|>]*(?:\|[^>]*)?>")
_PLAIN_DATE = re.compile(
    rf"\b({'|'.join(WEEKDAYS)}) (\d{{1,2}}) ({'|'.join(MONTHS)})(?: (\d{{4}}))?\b"
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def today_in(tz: str, moment: datetime) -> date:
    return local(moment, tz).date()


def working(moment: datetime, tz: str, days: frozenset[int] = MONDAY_TO_FRIDAY) -> bool:
    """09:00-18:00 on one of `days` (0 = Monday), on the wall clock of `tz`."""
    wall = local(moment, tz)
    return wall.weekday() in days and time(9) <= wall.time() < time(18)


def seen_dates(text: str, tz: str, *, now: datetime) -> list[date | None]:
    """Every calendar date a reader in `tz` sees in `text`: Slack's <!date^epoch…> tokens as
    their client renders them (in the reader's zone), and plain "Tuesday 8 December [2026]"
    dates (a missing year is the reader's current year). A plain date whose weekday does not
    match the date is reported as None, so a wrong weekday fails the comparison."""
    found: list[tuple[int, date | None]] = []
    for token in _SLACK_DATE.finditer(text):
        stamp = datetime.fromtimestamp(int(token.group(1)), tz=UTC)
        found.append((token.start(), local(stamp, tz).date()))
    for plain in _PLAIN_DATE.finditer(text):
        weekday, day, month, year = plain.groups()
        year_number = int(year) if year else today_in(tz, now).year
        day_found = date(year_number, MONTHS.index(month) + 1, int(day))
        ok = WEEKDAYS[day_found.weekday()] == weekday
        found.append((plain.start(), day_found if ok else None))
    return [day for _, day in sorted(found, key=lambda item: item[0])]


async def sign_up(bot, user: str, tz: str | None, **answers) -> None:
    if user not in bot.slack.users:
        bot.slack.add_user(user, tz=tz, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


def all_pairs(bot) -> list[Pair]:
    return bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair).order_by(col(Pair.id)))))


def pair_of(bot, mentor: str) -> Pair:
    return next(p for p in all_pairs(bot) if p.mentor_id == mentor)


def posts(bot, channel: str | None = None):
    calls = bot.slack.calls_to("chat.postMessage")
    return [c for c in calls if channel is None or c.params["channel"] == channel]


def message_text(params: dict) -> str:
    """A message's fallback text and every text in its blocks."""
    return f"{params.get('text', '')} {params.get('blocks', '')}"


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


def _next_due(bot, now: datetime) -> datetime | None:
    """The earliest moment after `now` the bot has anything due (what a 60-second tick would
    pick up within a minute)."""

    def load(session) -> list[datetime]:
        moments: list[datetime | None] = []
        for pair in session.exec(select(Pair).where(Pair.status == "active")):
            moments += [
                pair.prompt_due_at,
                pair.checkin_due_at,
                pair.stall_due_at,
                pair.escalate_due_at,
                pair.pulse_due_at,
            ]
        pending = select(OutboxMessage).where(OutboxMessage.status != "sent")
        moments += [m.not_before for m in session.exec(pending)]
        moments += [s.summary_due_at for s in session.exec(select(WorkspaceSchedule))]
        # The cohort checkpoints are not stored: a live bot checks them every minute.
        settings = program.get_program_settings(session=session, team_id=TEAM_ID)
        moments += cohort.checkpoint_moments(settings).values()
        return [m for m in moments if m is not None and m > now]

    later = bot.runtime.deps.db.run_sync(load)
    return min(later, default=None)


async def step(bot, clock, *, most: timedelta = timedelta(hours=1)) -> None:
    """Move the clock to the next moment something is due, or by `most`, and tick there."""
    due = _next_due(bot, clock.now)
    clock.now = min(due, clock.now + most) if due is not None else clock.now + most
    await run_tick(bot)
