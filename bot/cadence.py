"""The program's rhythm: when sessions fall, when prompts, check-ins and nudges are due, and
when a message may reach people (09:00-18:00 on the workspace's working days, Monday to
Friday unless it chose another week, in each person's own time zone)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STEP = timedelta(minutes=15)  # zones differ by quarter hours at most (e.g. Nepal, +05:45)
SEARCH_DAYS = 8  # a week always holds a shared window if one exists at all
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)  # date.weekday() numbers: 0 is Monday


@dataclass(frozen=True)
class ProgramSettings:
    """A workspace's rhythm. Defaults follow what works in practice: fortnightly sessions."""

    cadence_days: int = 14
    prompt_lead_hours: int = 24
    stall_days: int = 21
    escalate_after_days: int = 7  # after the nudge, still nothing: tell the admins
    work_start_hour: int = 9
    work_end_hour: int = 18
    # The cohort: None until an admin sets it (then six months is the usual length).
    program_start: date | None = None
    program_end: date | None = None
    pulse_cadence_days: int = 14  # a pulse for pairs that log no sessions
    pulse_close_days: int = 7
    summary_weekday: int = 0  # Monday
    summary_hour: int = 9
    timezone: str = "UTC"  # the workspace's, for the weekly summary
    min_responses: int = 3  # fewer and an average could reveal one person's rating
    admin_channel: str | None = None  # overrides MENTOR_ADMIN_CHANNEL when set
    # The working week, the same for everyone in the workspace, each on their own calendar.
    working_days: tuple[int, ...] = MONDAY_TO_FRIDAY
    # People named admins of this workspace's program (OAuth mode; its owners and admins
    # always are). User IDs.
    program_admins: tuple[str, ...] = ()
    # A short preparation guide in a DM before each person's first session of a cohort.
    send_guides: bool = True


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, tz: str | None) -> date:
    """The calendar date on the wall in `tz` at `moment`: someone's "today"."""
    return moment.astimezone(zone(tz)).date()


def same_meeting_days(tzs: Sequence[str | None], at: datetime) -> int:
    """How many calendar days apart two dates may be and still name one moment on the pair's
    calendars: 0 for a pair in one zone, 1 when their zones differ (it is Tuesday in Tokyo
    while Monday in Los Angeles), 2 when they are more than 24 hours apart (Kiritimati,
    UTC+14, and Pago Pago, UTC-11). Logs that close are one meeting."""
    offsets = [at.astimezone(zone(tz)).utcoffset() or timedelta(0) for tz in tzs]
    spread = max(offsets, default=timedelta(0)) - min(offsets, default=timedelta(0))
    return math.ceil(spread / timedelta(days=1))


def is_working_day(day: date, settings: ProgramSettings) -> bool:
    return day.weekday() in settings.working_days


def is_working_time(moment: datetime, tz: str | None, settings: ProgramSettings) -> bool:
    local = moment.astimezone(zone(tz))
    return (
        is_working_day(local.date(), settings)
        and settings.work_start_hour <= local.hour < settings.work_end_hour
    )


def next_send_time(
    now: datetime,
    tzs: Sequence[str | None],
    *,
    leader_tz: str | None,
    settings: ProgramSettings,
) -> datetime:
    """The earliest moment from `now` inside everyone's working hours, else the leader's."""
    for group in (tuple(tzs), (leader_tz,)):
        found = _first_window(now, group, settings)
        if found is not None:
            return found
    return now  # unreachable: the leader alone always has a working window within a week


def _first_window(
    now: datetime, tzs: Sequence[str | None], settings: ProgramSettings
) -> datetime | None:
    if all(is_working_time(now, tz, settings) for tz in tzs):
        return now
    # Windows open on quarter hours in every zone, so checking those boundaries is exact.
    candidate = now.replace(second=0, microsecond=0)
    candidate += timedelta(minutes=-(candidate.minute % 15)) + STEP
    end = now + timedelta(days=SEARCH_DAYS)
    while candidate <= end:
        if all(is_working_time(candidate, tz, settings) for tz in tzs):
            return candidate
        candidate += STEP
    return None


def last_send_time_before(
    deadline: datetime,
    tzs: Sequence[str | None],
    *,
    not_before: datetime,
    settings: ProgramSettings,
) -> datetime | None:
    """The latest moment before `deadline` (and not before `not_before`) inside everyone's
    working hours: so a reminder due on a Sunday goes out on the Friday before, not late."""
    candidate = deadline.replace(second=0, microsecond=0)
    candidate -= timedelta(minutes=candidate.minute % 15)
    if candidate >= deadline:
        candidate -= STEP
    while candidate >= not_before:
        if all(is_working_time(candidate, tz, settings) for tz in tzs):
            return candidate
        candidate -= STEP
    return None


def session_start(day: date, leader_tz: str | None, settings: ProgramSettings) -> datetime:
    """Sessions carry a date, not a time: take the start of the leader's working day."""
    local = datetime.combine(day, time(settings.work_start_hour), tzinfo=zone(leader_tz))
    return local.astimezone(UTC)


def session_over(day: date, leader_tz: str | None, settings: ProgramSettings) -> datetime:
    """When a session date has passed: the end of the leader's working day."""
    local = datetime.combine(day, time(settings.work_end_hour), tzinfo=zone(leader_tz))
    return local.astimezone(UTC)


def proposed_session(after: date, settings: ProgramSettings) -> date:
    """The cadence's next date, moved on to a working day."""
    return next_working_day(after + timedelta(days=settings.cadence_days), settings)


def next_working_day(day: date, settings: ProgramSettings) -> date:
    """`day` if it is a working day, else the first one after it."""
    for _ in range(7):
        if is_working_day(day, settings):
            return day
        day += timedelta(days=1)
    return day  # no working day at all: settings never allow it


def last_working_day(day: date, settings: ProgramSettings) -> date:
    """`day` if it is a working day, else the last one before it."""
    for _ in range(7):
        if is_working_day(day, settings):
            return day
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class SessionDues:
    prompt_due_at: datetime | None
    checkin_due_at: datetime


def dues_for_session(
    day: date,
    *,
    now: datetime,
    leader_tz: str | None,
    settings: ProgramSettings,
    mentor_tz: str | None = None,
) -> SessionDues:
    """When to send the prompt before a session (None if too late) and the check-in after.

    The prompt is due `prompt_lead_hours` before the session; if that falls outside the
    pair's working hours (a weekend, a night) it moves earlier, to the last shared working
    moment before it, so it still arrives ahead of the session."""
    start = session_start(day, leader_tz, settings)
    prompt: datetime | None = None
    if start > now:
        target = max(start - timedelta(hours=settings.prompt_lead_hours), now)
        zones = (mentor_tz, leader_tz)
        if all(is_working_time(target, tz, settings) for tz in zones):
            prompt = target
        else:
            earlier = last_send_time_before(target, zones, not_before=now, settings=settings)
            prompt = earlier or target
    return SessionDues(prompt_due_at=prompt, checkin_due_at=session_over(day, leader_tz, settings))


def stall_due_at(last_activity_at: datetime, settings: ProgramSettings) -> datetime:
    return last_activity_at + timedelta(days=settings.stall_days)


def escalate_due_at(nudged_at: datetime, settings: ProgramSettings) -> datetime:
    return nudged_at + timedelta(days=settings.escalate_after_days)


def days_between(earlier: datetime, later: datetime) -> int:
    return max(0, (later - earlier).days)
