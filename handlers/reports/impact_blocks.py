"""A cohort's impact report as a post in the admin channel: a header with the cohort and its
dates, one part per group of figures with this cohort and the previous one side by side (two
columns of section fields), the pulse week by week and the leaders' changes.

Built from the same ImpactReport as the sponsor's HTML page (impact_file.py). Whatever people
wrote (cohort names, the leaders' changes) is escaped and capped, so the post stays within
Slack's limits (50 blocks, 3,000 characters a section, 10 fields of 2,000) for any data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.impact import NONE_SHOWN, NOT_ENOUGH, PULSE, Figure, ImpactReport, PulseWeek
from handlers.core.blocks import SECTION_MAX, clip, escape

MAX_BLOCKS = 50
HEADER_MAX = 150  # Slack's limit for a header's plain text
FIELD_MAX = 1900  # Slack allows 2,000 characters a field
FIELDS_MAX = 10  # fields per section: five figures, two columns each
NAME_SHOWN = 60  # a cohort's name where it labels a column
CHANGE_MAX = 280
CHANGE_SECTIONS_MAX = 6
WEEKS_SHOWN = 30  # a six-month cohort has 27 weeks
FALLBACK_NAME = 100


def day_text(day: date) -> str:
    """ "4 March 2026": a calendar date, the same for every reader."""
    return f"{day.day} {day:%B} {day.year}"


def period_text(report: ImpactReport) -> str:
    return f"{day_text(report.starts_on)} – {day_text(report.ends_on)}"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_MAX]))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text[:SECTION_MAX])])


def _field(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:FIELD_MAX])


def _previous_label(report: ImpactReport) -> str:
    if report.previous_cohort is None:
        return "_No previous cohort_"
    return f"_{escape(clip(report.previous_cohort, NAME_SHOWN))}_"


def _comparison(report: ImpactReport, figures: Sequence[Figure]) -> list[Block]:
    """Two columns per figure: this cohort's value under its label, the previous cohort's
    beside it; five figures to a section (Slack's ten fields)."""
    previous = _previous_label(report)
    fields = []
    for figure in figures:
        fields.append(_field(f"*{figure.label}*\n{figure.value}"))
        fields.append(_field(f"{previous}\n{figure.previous}"))
    return [
        SectionBlock(fields=fields[start : start + FIELDS_MAX])
        for start in range(0, len(fields), FIELDS_MAX)
    ]


def _week_line(weeks: Sequence[PulseWeek]) -> str:
    shown = [f"{w.week}: {NONE_SHOWN if w.value is None else w.text}" for w in weeks]
    if len(shown) > WEEKS_SHOWN:
        shown = [*shown[:WEEKS_SHOWN], f"…and {len(shown) - WEEKS_SHOWN} more weeks"]
    return " · ".join(shown)


def _weeks_section(report: ImpactReport) -> SectionBlock | None:
    if not report.pulse_weeks:
        return None
    lines = [
        f"*Pulse week by week* ({NONE_SHOWN}: fewer than {report.min_responses} different "
        "people rated that week)",
        f"This cohort: {_week_line(report.pulse_weeks)}",
    ]
    if report.previous_pulse_weeks and report.previous_cohort is not None:
        lines.append(
            f"{escape(clip(report.previous_cohort, NAME_SHOWN))}: "
            f"{_week_line(report.previous_pulse_weeks)}"
        )
    return _section("\n".join(lines))


def _change_sections(report: ImpactReport) -> list[Block]:
    heading = (
        "*What leaders will change* (anonymous, in an order that says nothing of who wrote it)"
    )
    if report.changes is None:
        return [
            _section(
                f"{heading}\n{NOT_ENOUGH.capitalize()}: shown once at least "
                f"{report.min_responses} different leaders shared one."
            )
        ]
    found: list[Block] = []
    chunk = [heading]
    for change in report.changes:
        item = f"• {escape(clip(change, CHANGE_MAX))}"
        if len("\n".join([*chunk, item])) > SECTION_MAX:
            found.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(item)
    found.append(_section("\n".join(chunk)))
    if len(found) > CHANGE_SECTIONS_MAX:
        dropped = len(found) - CHANGE_SECTIONS_MAX
        found = found[:CHANGE_SECTIONS_MAX]
        found.append(_context(f"…and {dropped} more sections of changes, in the full report."))
    return found


def impact_blocks(report: ImpactReport) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for the admin channel: at most 50 blocks, people's text escaped
    and capped."""
    title = clip(f"Impact report: {report.cohort}", HEADER_MAX)
    compared = (
        f" · compared with {escape(clip(report.previous_cohort, NAME_SHOWN))}"
        if report.previous_cohort is not None
        else " · the first cohort, nothing to compare with"
    )
    content: list[Block] = [
        HeaderBlock(text=title),
        _context(
            f"{period_text(report)}{compared}. Every figure from people's answers (pulse, "
            f"goals, agreements, changes) needs at least {report.min_responses} different "
            f'people; below that it reads "{NOT_ENOUGH}" (and {NONE_SHOWN} for the '
            "previous cohort), so none can point to one person."
        ),
    ]
    for group, figures in report.groups:
        content.append(DividerBlock())
        content.append(_section(f"*{group}*"))
        content.extend(_comparison(report, figures))
        if group == PULSE and (weeks := _weeks_section(report)) is not None:
            content.append(weeks)
    content.append(DividerBlock())
    content.extend(_change_sections(report))
    match = report.figure("match_rate").value
    pulse = report.figure("pulse_average").value
    text = (
        f"Impact report: {escape(clip(report.cohort, FALLBACK_NAME))} ({period_text(report)}): "
        f"match rate {match}, pulse {pulse}"
    )
    return text, content[:MAX_BLOCKS]
