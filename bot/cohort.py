"""The cohort: when one run of the program starts and ends, when its two outcome checkpoints
fall, and what an admin may set on it.

A cohort runs from `program_start` to `program_end` of its settings (the workspace's
settings with the cohort's dates and its own rhythm laid over them: `cohort_settings`). An
admin who sets only a start gets the usual six months: read the end through
`program_end()` everywhere, never the raw field.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

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


class CohortStatus(StrEnum):
    RUNNING = "running"  # its pairs meet; checkpoints still to come
    ENDED = "ended"  # its end checkpoint came: its pairs were asked to continue or close
    CLOSED = "closed"  # an admin closed it: nothing more happens in it


# The rhythm a cohort may set for itself; None follows the workspace's settings.
OWN_SETTINGS: dict[str, str] = {
    "cadence": "cadence_days",
    "stall": "stall_days",
    "escalate": "escalate_after_days",
    "pulse": "pulse_cadence_days",
}
NAME_MAX = 40


@dataclass(frozen=True)
class CohortFacts:
    """What a cohort stores, as plain data."""

    name: str
    starts_on: date | None = None
    ends_on: date | None = None
    cadence_days: int | None = None
    stall_days: int | None = None
    escalate_after_days: int | None = None
    pulse_cadence_days: int | None = None


def cohort_settings(workspace: ProgramSettings, cohort: CohortFacts | None) -> ProgramSettings:
    """The settings a cohort's pairs run by: the workspace's, with the cohort's dates and
    whatever rhythm it set for itself."""
    if cohort is None:
        return workspace
    own = {
        field: getattr(cohort, field)
        for field in OWN_SETTINGS.values()
        if getattr(cohort, field) is not None
    }
    return dataclasses.replace(
        workspace, program_start=cohort.starts_on, program_end=cohort.ends_on, **own
    )


@dataclass(frozen=True)
class CohortChange:
    """An admin's new or edited cohort, checked: from `/mentor admin cohort new|edit NAME
    key=value …` or from the Home tab's form."""

    name: str
    values: dict[str, object]  # CohortFacts field (or "signups_open", "new_name") -> value
    errors: dict[str, str] = dataclasses.field(default_factory=dict)  # field -> why

    @property
    def problems(self) -> str:
        return " ".join(dict.fromkeys(self.errors.values()))


_OPTION = re.compile(r"^([a-z_]+)=(.*)$")
_NAME_OK = re.compile(r"^[\w .,'&()/+-]+$")
# `key=` in the command -> the field it sets (and the form's block for it)
OPTION_FIELDS: dict[str, str] = {
    "start": "starts_on",
    "end": "ends_on",
    **OWN_SETTINGS,
    "signups": "signups_open",
    "name": "new_name",
}


def check_name(name: str) -> str | None:
    """Why a cohort name is refused, or None."""
    if not name:
        return "Give the cohort a name, for example `Pilot` or `Spring 2027`."
    if len(name) > NAME_MAX:
        return f"A cohort name has at most {NAME_MAX} characters."
    if not _NAME_OK.match(name):
        return "A cohort name may use letters, digits, spaces and . , ' & ( ) / + -"
    return None


def check_value(
    field: str, raw: str, *, bounds: dict[str, tuple[int, int]]
) -> tuple[object, str | None]:
    """(value, None) or (None, why) for one field of a cohort, given as text."""
    key = next((k for k, f in OPTION_FIELDS.items() if f == field), field)
    if field in ("starts_on", "ends_on"):
        try:
            return date.fromisoformat(raw), None
        except ValueError:
            return None, f"`{key}=` takes a date like 2027-03-01."
    if field in OWN_SETTINGS.values():
        low, high = bounds[field]
        if raw == "default":
            return None, None
        if raw.isdigit() and low <= int(raw) <= high:
            return int(raw), None
        return None, (
            f"`{key}=` takes a number of days from {low} to {high}, "
            "or `default` to follow the workspace's settings."
        )
    if field == "signups_open":
        if raw not in ("open", "closed"):
            return None, "`signups=` is `open` or `closed`."
        return raw == "open", None
    if field == "new_name":
        return raw, check_name(raw)
    return None, f"`{key}=` is not something a cohort has; it has {', '.join(OPTION_FIELDS)}."


def parse_cohort_change(words: list[str], *, bounds: dict[str, tuple[int, int]]) -> CohortChange:
    """`Spring 2027 start=2027-03-01 end=2027-08-31 cadence=21`: the name is every word
    before the first key=value. `bounds` gives each own setting's (low, high) in days."""
    name_words: list[str] = []
    options: list[tuple[str, str]] = []
    for word in words:
        match = _OPTION.match(word)
        if match:
            options.append((match[1], match[2]))
        elif options:
            options[-1] = (options[-1][0], f"{options[-1][1]} {word}")  # name=Two words
        else:
            name_words.append(word)
    name = " ".join(name_words).strip()
    errors: dict[str, str] = {}
    if (problem := check_name(name)) is not None:
        errors["name"] = problem
    values: dict[str, object] = {}
    for key, raw in options:
        field = OPTION_FIELDS.get(key, key)
        value, problem = check_value(field, raw.strip(), bounds=bounds)
        if problem is not None:
            errors[field] = problem
        else:
            values[field] = value
    return CohortChange(name=name, values=values, errors=errors)


def cohort_form_change(
    fields: dict[str, str | None],
    *,
    name_before: str | None,
    bounds: dict[str, tuple[int, int]],
) -> CohortChange:
    """The Home tab's cohort form, checked like the command: a new cohort (`name_before`
    None) takes what is filled in; an edit sets every field, an empty one clearing it (no end
    date, or the workspace's rhythm). Errors are keyed by the form's fields."""
    name = (fields.get("name") or "").strip()
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    if (problem := check_name(name)) is not None:
        errors["name"] = problem
    elif name_before is not None and name != name_before:
        values["new_name"] = name
    for field in ("starts_on", "ends_on", *OWN_SETTINGS.values()):
        raw = (fields.get(field) or "").strip()
        if not raw:
            if name_before is not None:
                values[field] = None
            continue
        value, problem = check_value(field, raw, bounds=bounds)
        if problem is not None:
            errors[field] = problem.replace("`default`", "empty")
        else:
            values[field] = value
    if name_before is not None and fields.get("signups_open") in ("open", "closed"):
        values["signups_open"] = fields["signups_open"] == "open"
    return CohortChange(name=name_before or name, values=values, errors=errors)


def check_dates(starts_on: date | None, ends_on: date | None) -> str | None:
    if ends_on is not None and starts_on is None:
        return "Give the cohort a start (`start=`) before an end."
    if starts_on is not None and ends_on is not None and ends_on <= starts_on:
        return "A cohort ends after it starts."
    return None


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
