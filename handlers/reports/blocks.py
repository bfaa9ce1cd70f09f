"""The program summary as admins read it, within a message's 50 blocks, people's own words
escaped and every figure under the minimum number of people shown as "not enough"."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import summary as figures
from bot.summary import NOT_ENOUGH, PROGRESS, PROGRESS_LABELS, Summary
from handlers.core.blocks import SECTION_MAX, clip, escape

MAX_BLOCKS = 50
ATTENTION_SHOWN = 15
CHANGE_MAX = 280
CHANGE_SECTIONS_MAX = 6


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_MAX]))


def _fields(*pairs: tuple[str, object]) -> SectionBlock:
    return SectionBlock(fields=[MarkdownTextObject(text=f"*{k}*\n{v}") for k, v in pairs])


def _pulse_line(report: Summary, noun: str) -> str:
    mean = report.pulse
    if mean.value is None:
        have = "no responses" if mean.count == 0 else _from_people(mean.count, mean.people)
        return (
            f"{NOT_ENOUGH.capitalize()} {noun} ({have}; an average needs at least "
            f"{report.min_responses} different people)."
        )
    line = f"{mean.shown()} out of 5 from {_from_people(mean.count, mean.people)} {noun}"
    change = report.pulse_change
    if change is not None:
        line += f" ({change:+.1f} since the week before)"
    return line + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _from_people(answers: int, people: int, noun: str = "response") -> str:
    """ "3 responses by 1 person": people are what the minimum counts."""
    return f"{_count(answers, noun)} by {people} {'person' if people == 1 else 'people'}"


def _cadence_line(report: Summary) -> str:
    cadence = report.cadence
    if cadence.pairs == 0:
        return "No pair has been introduced yet."
    line = (
        f"{cadence.held_per_pair:.1f} per pair against {cadence.expected_per_pair:.1f} expected "
        f"(one every {cadence.cadence_days} days)"
    )
    if cadence.pace is not None:
        line += f": {round(cadence.pace * 100)}% of the cadence"
    return line + "."


def _outcome_lines(report: Summary) -> list[str]:
    lines = []
    for outcome in report.outcomes:
        name = outcome.checkpoint.capitalize()
        answered = _from_people(outcome.answers, outcome.people, "answer")
        if outcome.shares is None:
            lines.append(
                f"{name}: {NOT_ENOUGH} ({answered}; at least {report.min_responses} "
                "different people needed)"
            )
        else:
            shares = " · ".join(
                f"{round(outcome.shares[key] * 100)}% {PROGRESS_LABELS[key]}" for key in PROGRESS
            )
            lines.append(f"{name} ({answered}): {shares}")
    return lines


SIDE_NAMES = {"leader": "Leaders' things to learn", "junior": "Junior mentors' things to gain"}


def _item_lines(report: Summary) -> list[str]:
    """Learning-agreement items by answer, leaders' and juniors' apart, per checkpoint."""
    lines = []
    for item in report.items:
        name = f"{SIDE_NAMES.get(item.side, item.side)}, {item.checkpoint}"
        answered = _from_people(item.answers, item.people, "item answer")
        if item.counts is None or item.shares is None:
            lines.append(
                f"{name}: {NOT_ENOUGH} ({answered}; at least {report.min_responses} "
                "different people needed)"
            )
            continue
        shares = " · ".join(
            f"{item.counts[key]} {PROGRESS_LABELS[key]} ({round(item.shares[key] * 100)}%)"
            for key in PROGRESS
        )
        lines.append(f"{name} ({answered}): {shares}")
    return lines


def _change_sections(report: Summary) -> list[Block]:
    found: list[Block] = []
    for outcome in report.outcomes:
        if not outcome.changes:
            continue
        heading = f"*What leaders will change ({outcome.checkpoint}, anonymous)*"
        items = [f"• {escape(clip(change, CHANGE_MAX))}" for change in outcome.changes]
        chunk: list[str] = [heading]
        for item in items:
            if len("\n".join([*chunk, item])) > SECTION_MAX:
                found.append(_section("\n".join(chunk)))
                chunk = []
            chunk.append(item)
        found.append(_section("\n".join(chunk)))
    if len(found) > CHANGE_SECTIONS_MAX:
        dropped = len(found) - CHANGE_SECTIONS_MAX
        found = found[:CHANGE_SECTIONS_MAX]
        found.append(_context(f"…and {dropped} more sections of changes not shown."))
    return found


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def summary_blocks(report: Summary, *, title: str, final: bool = False) -> tuple[str, list]:
    """(fallback text, blocks): within 50 blocks; people's own text is escaped."""
    noun = "in the program" if final else "this week"
    label = figures.period_label(report.start, report.end)
    content: list[Block] = [
        HeaderBlock(text=title),
        _context(
            f"{label} · from the bot's own records: sign-ups, pairs, logged sessions, pulse "
            f"answers and outcome answers. Every average and share needs answers from at least "
            f"{report.min_responses} different people, so none can point to one person."
        ),
        _fields(("Signed up", report.signed_up), ("Waiting for a pair", report.waiting)),
        _fields(
            ("Active pairs", report.active_pairs),
            ("Paused", report.paused_pairs),
            ("Stalled", report.stalled_pairs),
            ("Ended", report.ended_pairs),
            *((("Being introduced", report.introducing),) if report.introducing else ()),
        ),
        DividerBlock(),
        _section(
            f"*Sessions*\n{report.sessions_in_period} held {noun} · {report.sessions_total} in "
            f"total\n{_cadence_line(report)}"
        ),
        _section(f"*Pulse*\n{_pulse_line(report, noun)}"),
    ]
    if report.top_topics:
        topics = " · ".join(f"{figures.topic_label(t)} ({n})" for t, n in report.top_topics)
        content.append(_section(f"*Most discussed* (prompts sent {noun})\n{topics}"))
    else:
        content.append(_section(f"*Most discussed*\nNo prompts went out {noun}."))
    if report.attention:
        lines = [
            f"• <@{s.mentor_id}> and <@{s.mentee_id}>: {s.days} days without a session or message"
            for s in report.attention[:ATTENTION_SHOWN]
        ]
        if len(report.attention) > ATTENTION_SHOWN:
            lines.append(f"…and {len(report.attention) - ATTENTION_SHOWN} more.")
        content.append(_section("*Needing attention*\n" + "\n".join(lines)))
    else:
        content.append(_section("*Needing attention*\nNo stalled pairs."))
    outcome_lines = _outcome_lines(report)
    item_lines = _item_lines(report)
    if outcome_lines or item_lines:
        content.append(DividerBlock())
    if outcome_lines:
        content.append(_section("*Outcomes*\n" + "\n".join(outcome_lines)))
        content.extend(_change_sections(report))
    if item_lines:
        content.append(_section("*Learning agreement items*\n" + "\n".join(item_lines)))
    text = (
        f"{title}: {_count(report.active_pairs, 'active pair')}, "
        f"{_count(report.sessions_in_period, 'session')} {noun}, pulse {report.pulse.shown()}"
    )
    return text, content[:MAX_BLOCKS]
