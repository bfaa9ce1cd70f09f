"""Block Kit for cohorts: the admins' list, a pair's continue-or-close choice at a cohort's
end, and the offer to carry over to the next cohort's pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock

from bot.cadence import ProgramSettings
from bot.cohort import program_end
from handlers.core.blocks import clip, context, date_text, escape, section

LISTED = 20  # cohorts shown in a list (a workspace runs a few a year); the newest first


class CohortActions:
    CONTINUE = "cohort_continue"
    CLOSE = "cohort_close_pair"
    JOIN = "cohort_carry_over_join"
    DECLINE = "cohort_carry_over_decline"


@dataclass(frozen=True)
class CohortLine:
    """One cohort as the admins see it."""

    name: str
    status: str
    signups_open: bool  # new signups join it (the newest running cohort open for them)
    settings: ProgramSettings  # the cohort's own: the workspace's with its dates and rhythm
    people: int
    live_pairs: int
    own: tuple[str, ...]  # the rhythm settings it sets for itself, as "cadence 21 days"


def _dates(settings: ProgramSettings) -> str:
    if settings.program_start is None:
        return "no dates yet"
    end = program_end(settings)
    assert end is not None  # a start always has an end (six months by default)
    return f"{date_text(settings.program_start)} to {date_text(end)}"


def cohort_line(line: CohortLine) -> str:
    state = {"running": "running", "ended": "ended", "closed": "closed"}.get(line.status, "")
    if line.status == "running" and line.signups_open:
        state = "running, open for signups"
    own = f" · own rhythm: {', '.join(line.own)}" if line.own else ""
    return (
        f"*{escape(clip(line.name, 60))}* ({state}) · {_dates(line.settings)} · "
        f"{line.people} in its pool, {line.live_pairs} live pairs{own}"
    )


def cohort_list_blocks(lines: Sequence[CohortLine]) -> tuple[str, list[Block]]:
    if not lines:
        text = (
            "No cohort yet: the first one starts with the first signup, "
            "or with `/mentor admin cohort new`."
        )
        return text, [section(text)]
    shown = list(reversed(lines))[:LISTED]
    content: list[Block] = [section(f"*Cohorts* ({len(lines)})")]
    content += [section(cohort_line(line)) for line in shown]
    if len(lines) > LISTED:
        content.append(context(f"The {LISTED} newest are shown."))
    content.append(context(COHORT_HELP))
    return "Cohorts", content


COHORT_HELP = (
    "`/mentor admin cohort new NAME start=YYYY-MM-DD [end=YYYY-MM-DD] [cadence=N] "
    "[stall=N] [escalate=N] [pulse=N]` · `/mentor admin cohort edit NAME key=value …` "
    "(also `name=`, `signups=open|closed`) · `/mentor admin cohort close NAME`"
)


def choice_blocks(
    pair_id: int, *, cohort: str, next_cohort: str, ends_on: date | None
) -> tuple[str, list[Block]]:
    """In the pair's group DM when their cohort ends: carry on into the next, or close."""
    text = (
        f"*{escape(cohort)}* has come to its end. Would you like to carry on together into "
        f"*{escape(next_cohort)}*? Your sessions, agreement and history come with you. Or "
        "close your pairing here, with our thanks. Either of you can choose."
    )
    value = str(pair_id)
    return text, [
        HeaderBlock(text=clip(f"{cohort} is over: what next?", 150)),
        section(text),
        ActionsBlock(
            block_id=f"cohort_choice:{pair_id}",
            elements=[
                ButtonElement(
                    action_id=CohortActions.CONTINUE,
                    text=clip(f"Continue into {next_cohort}", 75),
                    value=value,
                    style="primary",
                ),
                ButtonElement(action_id=CohortActions.CLOSE, text="Close our pairing", value=value),
            ],
        ),
    ]


def carry_over_blocks(cohort_id: int, *, cohort: str, ended: str) -> tuple[str, list[Block]]:
    """To someone who was in no pair when their cohort ended (or was closed)."""
    text = (
        f"*{escape(ended)}* has ended before we could find you a pair; sorry about that. "
        f"Would you like to join the pool of *{escape(cohort)}*, the next cohort? You'd be "
        "matched with someone new."
    )
    value = str(cohort_id)
    return text, [
        section(text),
        ActionsBlock(
            block_id=f"carry_over:{cohort_id}",
            elements=[
                ButtonElement(
                    action_id=CohortActions.JOIN,
                    text=clip(f"Yes, join {cohort}", 75),
                    value=value,
                    style="primary",
                ),
                ButtonElement(action_id=CohortActions.DECLINE, text="No, thanks", value=value),
            ],
        ),
    ]
