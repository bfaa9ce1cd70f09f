"""Block Kit pieces every feature uses: people's own text made safe and short, dates and
instants written so every reader sees the right day, and the smallest building blocks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, Option, SectionBlock

from storage.models import Participant

INPUT_ACTION = "value"  # every form input uses this action_id; the block_id names the field
SECTION_MAX = 2900  # Slack allows 3000 characters in a section's text
TITLE_SHOWN = 80  # job titles come from Slack profiles: any length, capped where shown


def escape(text: str) -> str:
    """Neutralise people's own text in mrkdwn, so it can't mention @channel or fake a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def option(value: str, label: str) -> Option:
    return Option(value=value, label=label)


def who(user_id: str, participant: Participant | None) -> str:
    """A mention, with the person's job title when Slack gave one."""
    title = participant.title if participant is not None else None
    return f"<@{user_id}> ({escape(clip(title, TITLE_SHOWN))})" if title else f"<@{user_id}>"


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_text(day: date) -> str:
    """A calendar date (a session's) as plain text, "Tuesday 8 December 2026". Not Slack's
    <!date^…>: that formats an instant in each reader's zone, so any instant chosen for a
    date shows the day before or after somewhere (UTC-11 or UTC+14)."""
    return f"{_WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def slack_time(moment: datetime) -> str:
    """An instant, shown by Slack in each reader's own zone (the fallback for old clients)."""
    stamp = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_long}}|{fallback}>"
