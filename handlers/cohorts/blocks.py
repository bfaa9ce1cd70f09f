"""Block Kit for cohorts: the admins' list, a pair's continue-or-close choice at a cohort's
end, and the offer to carry over to the next cohort's pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.cadence import ProgramSettings
from bot.cohort import NAME_MAX, CohortFacts, program_end
from handlers.core.blocks import (
    INPUT_ACTION,
    SECTION_MAX,
    clip,
    context,
    date_text,
    escape,
    option,
    section,
)

LISTED = 20  # cohorts shown in a list (a workspace runs a few a year); the newest first


class CohortActions:
    CONTINUE = "cohort_continue"
    CLOSE = "cohort_close_pair"
    JOIN = "cohort_carry_over_join"
    DECLINE = "cohort_carry_over_decline"
    NEW = "cohort_home_new"  # on an admin's Home tab
    EDIT = "cohort_home_edit"


@dataclass(frozen=True)
class CohortLine:
    """One cohort as the admins see it."""

    cohort_id: int
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


def carry_over_blocks(
    cohort_id: int, *, cohort: str, ended: str, had_pair: bool = False
) -> tuple[str, list[Block]]:
    """To someone without a pair when their cohort ended (or was closed): one who never
    found one in it, or whose pairing ended with it."""
    if had_pair:
        opening = f"*{escape(ended)}* is over, and so is your pairing in it."
    else:
        opening = f"*{escape(ended)}* has ended before we could find you a pair; sorry about that."
    text = (
        f"{opening} Would you like to join the pool of *{escape(cohort)}*, the next cohort? "
        "You'd be matched with someone new."
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


FORM_CALLBACK = "cohort_form"
HOME_SHOWN = 5  # the newest cohorts on an admin's Home tab
# The form's fields, in order: block ids are the CohortFacts fields they set.
_OWN_LABELS = {
    "cadence_days": "Sessions every (days)",
    "stall_days": "A pair has stalled after (days)",
    "escalate_after_days": "Tell the admins after the nudge (days)",
    "pulse_cadence_days": "Pulse survey every (days)",
}


def cohort_home_blocks(lines: Sequence[CohortLine]) -> list[Block]:
    """The admins' Home part for cohorts: the newest few, each with an Edit button, and a
    button for a new one."""
    content: list[Block] = [section(f"*Cohorts* ({len(lines)})")]
    for line in list(reversed(lines))[:HOME_SHOWN]:
        content.append(
            SectionBlock(
                text=MarkdownTextObject(text=clip(cohort_line(line), SECTION_MAX)),
                accessory=ButtonElement(
                    action_id=CohortActions.EDIT, text="Edit", value=str(line.cohort_id)
                ),
            )
        )
    if len(lines) > HOME_SHOWN:
        content.append(context(f"The {HOME_SHOWN} newest; `/mentor admin cohort list` has all."))
    content.append(
        ActionsBlock(
            block_id="home_cohorts",
            elements=[ButtonElement(action_id=CohortActions.NEW, text="New cohort")],
        )
    )
    return content


def cohort_modal(
    cohort_id: int | None,
    facts: CohortFacts | None,
    *,
    workspace: ProgramSettings,
    signups_open: bool = True,
    closable: bool = False,
) -> View:
    """A new cohort (`cohort_id` None) or an existing one's form, pre-filled. A rhythm field
    left empty follows the workspace's settings (shown in its hint)."""
    content: list[Block] = [
        InputBlock(
            block_id="name",
            label="Name",
            hint="For example Pilot, Spring 2027 or EMEA 2027.",
            element=PlainTextInputElement(
                action_id=INPUT_ACTION,
                initial_value=facts.name if facts else None,
                max_length=NAME_MAX,
            ),
        ),
        _day("starts_on", "Start", facts.starts_on if facts else None, "Its first day."),
        _day(
            "ends_on",
            "End",
            facts.ends_on if facts else None,
            "Optional; six months after the start if not set.",
        ),
    ]
    for field, label in _OWN_LABELS.items():
        own = getattr(facts, field) if facts else None
        content.append(
            InputBlock(
                block_id=field,
                label=label,
                optional=True,
                hint=f"Empty: the workspace's {getattr(workspace, field)} days.",
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    initial_value=str(own) if own is not None else None,
                    max_length=3,
                ),
            )
        )
    if cohort_id is not None:
        content.append(
            InputBlock(
                block_id="signups_open",
                label="New signups",
                element=RadioButtonsElement(
                    action_id=INPUT_ACTION,
                    options=[
                        option("open", "Join this cohort (the newest open one takes them)"),
                        option("closed", "Don't join this cohort"),
                    ],
                    initial_option=option(
                        "open" if signups_open else "closed",
                        "Join this cohort (the newest open one takes them)"
                        if signups_open
                        else "Don't join this cohort",
                    ),
                ),
            )
        )
    if closable:
        content.append(
            InputBlock(
                block_id="close",
                label="Close",
                optional=True,
                element=CheckboxesElement(
                    action_id=INPUT_ACTION,
                    options=[
                        option(
                            "close",
                            "Close this cohort now: its live pairs are thanked and ended",
                        )
                    ],
                ),
            )
        )
    return View(
        type="modal",
        callback_id=FORM_CALLBACK,
        private_metadata=str(cohort_id) if cohort_id is not None else "",
        title="New cohort" if cohort_id is None else "Edit cohort",
        submit="Save",
        close="Cancel",
        blocks=content,
    )


def _day(field: str, label: str, value: date | None, hint: str) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=label,
        hint=hint,
        optional=True,
        element=DatePickerElement(
            action_id=INPUT_ACTION,
            placeholder="Not set",
            initial_date=value.isoformat() if value else None,
        ),
    )


def saved_view(text: str) -> View:
    return View(type="modal", title="Cohorts", close="Done", blocks=[section(text)])
