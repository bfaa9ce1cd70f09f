"""The cohort: when a program starts and ends, and when its two outcome checkpoints fall.

A program runs from `program_start` to `program_end`. An admin who sets only a start gets
the usual six months: read the end through `program_end()` everywhere, never the raw field.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from bot.cadence import ProgramSettings, last_working_day, next_working_day, zone

DEFAULT_MONTHS = 6
CHECKPOINTS = ("midpoint", "end")


def months_later(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 August + 6 -> 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_end(start: date) -> date:
    return months_later(start, DEFAULT_MONTHS)


def program_end(settings: ProgramSettings) -> date | None:
    """The program's last day: as set, else six months after the start; None without a start."""
    if settings.program_end is not None:
        return settings.program_end
    if settings.program_start is None:
        return None
    return default_end(settings.program_start)


def cohort_key(settings: ProgramSettings) -> str:
    """What tells one cohort from the next where something happens once per cohort (a
    person's preparation guide): its start date, or "program" while no start is set. New
    program dates make a new cohort."""
    return settings.program_start.isoformat() if settings.program_start else "program"


def cohort_dates(settings: ProgramSettings) -> tuple[date, date] | None:
    """(start, end) of a usable cohort; None when no start is set or the end is not after it."""
    start, end = settings.program_start, program_end(settings)
    if start is None or end is None or end <= start:
        return None
    return start, end


def midpoint_date(start: date, end: date) -> date:
    return start + timedelta(days=(end - start).days // 2)


def checkpoint_moments(settings: ProgramSettings) -> dict[str, datetime]:
    """When each checkpoint falls: the start of the working day, in the workspace's zone, on
    the midpoint and on the end date. Either may fall on a day off in the workspace's working
    week: the midpoint then moves to the next working day, the end to the last working day
    before it (the program still ends by its end date, never before its start). Empty when
    the cohort has no usable dates."""
    dates = cohort_dates(settings)
    if dates is None:
        return {}
    start, end = dates
    tz = zone(settings.timezone)
    opening = time(settings.work_start_hour)
    midpoint = next_working_day(midpoint_date(start, end), settings)
    last = max(last_working_day(end, settings), start)
    return {
        "midpoint": datetime.combine(midpoint, opening, tzinfo=tz),
        "end": datetime.combine(last, opening, tzinfo=tz),
    }


def due_checkpoint(
    settings: ProgramSettings, now: datetime, *, midpoint_decided: bool, end_decided: bool
) -> str | None:
    """The checkpoint to decide now, if any. Once the end is due it wins: a midpoint missed
    (the bot was down, or the dates were set late) is not asked on the same day as the end."""
    moments = checkpoint_moments(settings)
    if not moments:
        return None
    if not end_decided and now >= moments["end"]:
        return "end"
    if not end_decided and not midpoint_decided and now >= moments["midpoint"]:
        return "midpoint"
    return None


def surprise_end(
    new: ProgramSettings,
    old: ProgramSettings,
    *,
    now: datetime,
    end_decided: bool,
    live_pairs: int,
) -> tuple[str, str] | None:
    """(field, why) when saving `new` would end the program at the next tick: its end
    checkpoint has already come. None when it has not, or when the end was decided before and
    this save keeps the same end date (a finished program's other settings stay editable)."""
    end_moment = checkpoint_moments(new).get("end")
    if end_moment is None or end_moment > now:
        return None
    if end_decided and program_end(new) == program_end(old):
        return None
    if live_pairs == 0:
        consequence = "would end the program now"
    elif live_pairs == 1:
        consequence = "would end the program now and close its 1 live pair"
    else:
        consequence = f"would end the program now and close all {live_pairs} live pairs"
    when = f"{end_moment:%H:%M} {new.timezone}"
    if new.program_end is not None:
        return (
            "program_end",
            f"The program ends on {new.program_end.isoformat()} at {when}, which has passed: "
            f"saving {consequence}; pick a later date.",
        )
    return (
        "program_start",
        f"With no end date the program ends six months after this start, on "
        f"{end_moment.date().isoformat()} at {when}, which has passed: saving {consequence}; "
        "pick a later date, or set an end date.",
    )
