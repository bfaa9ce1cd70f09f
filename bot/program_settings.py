"""Validating a workspace's program settings as an admin enters them (the settings modal).

Pure: the modal's answers come in as plain strings (or None when a field is empty) keyed by
the ProgramSettings field name, and go out as a ProgramSettings or as one sentence per field
that is wrong, ready to be shown next to that field.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import available_timezones

from bot import cohort
from bot.cadence import MONDAY_TO_FRIDAY, ProgramSettings


@dataclass(frozen=True)
class Bound:
    label: str
    low: int
    high: int
    unit: str


# Every whole-number setting with the range an admin may choose from.
BOUNDS: dict[str, Bound] = {
    "cadence_days": Bound("Sessions every", 7, 60, "days"),
    "prompt_lead_hours": Bound("Prompt before a session", 1, 168, "hours"),
    "stall_days": Bound("A pair has stalled after", 8, 90, "days"),
    "escalate_after_days": Bound("Tell the admins after the nudge", 1, 30, "days"),
    "pulse_cadence_days": Bound("Pulse survey every", 7, 60, "days"),
    "pulse_close_days": Bound("A pulse survey closes after", 1, 14, "days"),
    "summary_weekday": Bound("Weekly summary on", 0, 6, ""),
    "summary_hour": Bound("Weekly summary at", 0, 23, ""),
    "min_responses": Bound("Fewest answers for an average", 2, 50, "answers"),
}
FIELDS: tuple[str, ...] = (
    "program_start",
    "program_end",
    "working_days",
    "cadence_days",
    "prompt_lead_hours",
    "stall_days",
    "escalate_after_days",
    "pulse_cadence_days",
    "pulse_close_days",
    "summary_weekday",
    "summary_hour",
    "timezone",
    "min_responses",
    "admin_channel",
    "program_admins",
    "send_guides",
)
MAX_PROGRAM_ADMINS = 20
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Offered in the modal's time zone menu (a menu holds 100 options at most); any other IANA
# zone a workspace already uses is offered too.
COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Athens",
    "Europe/Bucharest",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Riyadh",
    "Asia/Jerusalem",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Manila",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Phoenix",
    "America/Denver",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Halifax",
    "America/Buenos_Aires",
    "America/Sao_Paulo",
)


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    """An IANA zone name exactly as the tz database spells it ("Europe/London")."""
    return name in _known_zones()


def is_channel_id(value: str) -> bool:
    """A public ("C…") or private ("G…") channel ID, as a conversation picker returns it."""
    return len(value) >= 3 and value[0] in "CG" and value.isalnum() and value.isupper()


_USER_ID = re.compile(r"[UW][A-Z0-9]+")


def parse_user_ids(text: str | None) -> tuple[str, ...]:
    """ "U1,W2" (as stored, and as the form's people picker is read) as user IDs in order,
    each once; anything that is not a user ID is left out."""
    found: list[str] = []
    for part in (text or "").split(","):
        part = part.strip()
        if _USER_ID.fullmatch(part) and part not in found:
            found.append(part)
    return tuple(found)


def validate_settings(
    raw: dict[str, str | None],
) -> tuple[ProgramSettings | None, dict[str, str]]:
    """(settings, {}) when every field is valid, else (None, {field: what to fix})."""
    errors: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, bound in BOUNDS.items():
        value = _whole_number((raw.get(name) or "").strip())
        if value is None or not bound.low <= value <= bound.high:
            errors[name] = _range_text(name, bound)
        else:
            numbers[name] = value
    # Relations between fields, checked once both sides are valid on their own.
    cadence, stall = numbers.get("cadence_days"), numbers.get("stall_days")
    if cadence is not None and stall is not None and stall <= cadence:
        errors["stall_days"] = (
            f"Make this longer than the time between sessions ({cadence} days), "
            "or every pair would be nudged between two sessions."
        )
    pulse, closes = numbers.get("pulse_cadence_days"), numbers.get("pulse_close_days")
    if pulse is not None and closes is not None and closes >= pulse:
        errors["pulse_close_days"] = (
            f"Make this shorter than the time between pulse surveys ({pulse} days), "
            "so each survey closes before the next one opens."
        )

    start, start_ok = _date(raw.get("program_start"))
    end, end_ok = _date(raw.get("program_end"))
    if not start_ok:
        errors["program_start"] = "Pick a date from the calendar."
    if not end_ok:
        errors["program_end"] = "Pick a date from the calendar."
    elif end is not None and start_ok and start is None:
        errors["program_end"] = "Set a start date too, or clear the end date."
    elif end is not None and start is not None and end <= start:
        errors["program_end"] = "The program must end after it starts."

    timezone = (raw.get("timezone") or "").strip()
    if not is_timezone(timezone):
        errors["timezone"] = "Choose a time zone from the list."

    channel = (raw.get("admin_channel") or "").strip() or None
    if channel is not None and not is_channel_id(channel):
        errors["admin_channel"] = "Choose a channel from the list, or leave this empty."

    admins_text = raw.get("program_admins") or ""
    program_admins = parse_user_ids(admins_text)
    listed = [part for part in admins_text.split(",") if part.strip()]
    if len(program_admins) != len(set(part.strip() for part in listed)):
        errors["program_admins"] = "Choose people from the list, or leave this empty."
    elif len(program_admins) > MAX_PROGRAM_ADMINS:
        errors["program_admins"] = f"Choose at most {MAX_PROGRAM_ADMINS} people."

    guides = (raw.get("send_guides") or "").strip()
    if guides not in ("on", "off"):
        errors["send_guides"] = "Choose whether to send the preparation guides."

    working_days = parse_weekdays(raw.get("working_days"))
    if working_days is None:
        errors["working_days"] = "Choose at least one working day."
    summary_day = numbers.get("summary_weekday")
    if working_days and summary_day is not None and summary_day not in working_days:
        # The admins read it at work: a summary on a day off would wait for the next week.
        errors["summary_weekday"] = (
            f"Choose one of the working days ({describe_weekdays(working_days)})."
        )

    if errors:
        return None, errors
    return (
        ProgramSettings(
            program_start=start,
            program_end=end,
            timezone=timezone,
            admin_channel=channel,
            working_days=working_days or MONDAY_TO_FRIDAY,
            program_admins=program_admins,
            send_guides=guides == "on",
            **numbers,
        ),
        {},
    )


def parse_weekdays(text: str | None) -> tuple[int, ...] | None:
    """ "6,0,1,2,3" (weekday numbers, 0 = Monday, as the form and the database hold them) as
    a sorted tuple; None when empty or when anything in it is not a day of the week."""
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not parts or not all(part in ("0", "1", "2", "3", "4", "5", "6") for part in parts):
        return None
    return tuple(sorted({int(part) for part in parts}))


def weekdays_text(days: tuple[int, ...]) -> str:
    return ",".join(str(day) for day in days)


def describe_weekdays(days: tuple[int, ...]) -> str:
    """ "Monday to Friday", "Sunday to Thursday", "Monday, Wednesday and Friday"."""
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return "every day"
    # A run of days in a row, going round the week (Sunday to Thursday wraps).
    first = next((d for d in chosen if (d - 1) % 7 not in chosen), None)
    if first is not None and len(chosen) > 2:
        run = [(first + n) % 7 for n in range(len(chosen))]
        if set(run) == set(chosen):
            return f"{WEEKDAYS[run[0]]} to {WEEKDAYS[run[-1]]}"
    names = [WEEKDAYS[d] for d in chosen]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def raw_from_settings(settings: ProgramSettings) -> dict[str, str | None]:
    """The modal's answers that would reproduce `settings` (its initial values)."""
    raw: dict[str, str | None] = {name: str(getattr(settings, name)) for name in BOUNDS}
    raw["program_start"] = settings.program_start.isoformat() if settings.program_start else None
    raw["program_end"] = settings.program_end.isoformat() if settings.program_end else None
    raw["timezone"] = settings.timezone
    raw["admin_channel"] = settings.admin_channel
    raw["working_days"] = weekdays_text(settings.working_days)
    raw["program_admins"] = ",".join(settings.program_admins) or None
    raw["send_guides"] = "on" if settings.send_guides else "off"
    return raw


def describe_settings(settings: ProgramSettings) -> list[tuple[str, str]]:
    """(label, value) lines for a confirmation, in the modal's order (the admin channel,
    a Slack reference, is left to the caller)."""

    def day(value: date | None) -> str:
        return value.isoformat() if value else "not set"

    def amount(name: str) -> str:
        bound = BOUNDS[name]
        return f"{getattr(settings, name)} {bound.unit}".strip()

    end_shown = day(cohort.program_end(settings))
    if settings.program_end is None and settings.program_start is not None:
        end_shown += " (six months after the start)"

    return [
        ("Program start", day(settings.program_start)),
        ("Program end", end_shown),
        ("Working days", describe_weekdays(settings.working_days)),
        (BOUNDS["cadence_days"].label, amount("cadence_days")),
        (BOUNDS["prompt_lead_hours"].label, amount("prompt_lead_hours")),
        (BOUNDS["stall_days"].label, amount("stall_days")),
        (BOUNDS["escalate_after_days"].label, amount("escalate_after_days")),
        (BOUNDS["pulse_cadence_days"].label, amount("pulse_cadence_days")),
        (BOUNDS["pulse_close_days"].label, amount("pulse_close_days")),
        (
            "Weekly summary",
            f"{WEEKDAYS[settings.summary_weekday]}s at {settings.summary_hour:02d}:00 "
            f"({settings.timezone})",
        ),
        (BOUNDS["min_responses"].label, amount("min_responses")),
        (
            "Preparation guides",
            "sent before each person's first session" if settings.send_guides else "not sent",
        ),
    ]


def _whole_number(text: str) -> int | None:
    if not text or not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    return int(text)


def _range_text(name: str, bound: Bound) -> str:
    if name == "summary_weekday":
        return "Choose a day of the week."
    if name == "summary_hour":
        return "Choose an hour of the day."
    return f"Enter a whole number from {bound.low} to {bound.high}."


def _date(text: str | None) -> tuple[date | None, bool]:
    """(the date or None when empty, whether the text was acceptable)."""
    if not text or not text.strip():
        return None, True
    try:
        return date.fromisoformat(text.strip()), True
    except ValueError:
        return None, False
