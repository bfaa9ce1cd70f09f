"""Block Kit for the outcome checkpoints: the private question (one's goal and one's own
learning-agreement items) and a leader's change modal."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.outcomes import CHANGE_MAX, PROGRESS, ItemQuestion
from handlers.core.blocks import clip, context, escape, section

CHANGE_CALLBACK = "outcome_change"
CHANGE_BLOCK = "change"
CHANGE_ACTION = "value"
ITEM_SHOWN = 300  # an agreement item is at most 150 characters; older rows are cut here


class OutcomeActions:
    NOT_YET = "outcome_not_yet"
    SOME = "outcome_some"
    ACHIEVED = "outcome_achieved"
    OPEN_CHANGE = "outcome_change_open"
    ITEM_NOT_YET = "outcome_item_not_yet"
    ITEM_SOME = "outcome_item_some"
    ITEM_ACHIEVED = "outcome_item_achieved"


PROGRESS_ACTIONS = {
    OutcomeActions.NOT_YET: "not_yet",
    OutcomeActions.SOME: "some",
    OutcomeActions.ACHIEVED: "achieved",
}

ITEM_ACTIONS = {
    OutcomeActions.ITEM_NOT_YET: "not_yet",
    OutcomeActions.ITEM_SOME: "some",
    OutcomeActions.ITEM_ACHIEVED: "achieved",
}


def item_value(ref: str, pair_id: int, index: int) -> str:
    """An item button's value: which cohort's checkpoint (`ref`), pair and item it answers."""
    return f"{ref}:{pair_id}:{index}"


def parse_item_value(raw: str | None) -> tuple[str, int, int] | None:
    """(checkpoint ref, pair_id, item_index) from an item button's value; None if malformed."""
    parts = (raw or "").rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    if len(parts[1]) > 12 or len(parts[2]) > 2:
        return None
    return parts[0], int(parts[1]), int(parts[2])


_OPENING = {
    "midpoint": "We're halfway through the reverse-mentoring program. "
    "How is the goal you set yourself going?",
    "end": "The reverse-mentoring program has come to an end. How did your goal go?",
}


def quoted_goal(goal: str | None) -> str:
    if not goal or not goal.strip():
        return "*Your goal:* you didn't write one at signup, so think of what you hoped to get."
    lines = escape(goal.strip()).splitlines()
    return "*The goal you wrote at signup:*\n" + "\n".join(f">{line}" for line in lines)


def question_blocks(
    checkpoint: str,
    *,
    goal: str | None,
    leader: bool,
    ref: str,
    answered: str | None = None,
    items: Sequence[ItemQuestion] = (),
) -> tuple[str, list[Block]]:
    """The private question; `answered` (a progress key) shows the answer given so far, and
    `items` (at most ITEM_QUESTIONS_MAX) are the person's own agreement items, each with its
    buttons and its answer so far."""
    text = _OPENING[checkpoint]
    buttons = [
        ButtonElement(
            action_id=action,
            text=PROGRESS[key],
            value=ref,
            style="primary" if key == answered else None,
        )
        for action, key in PROGRESS_ACTIONS.items()
    ]
    content: list[Block] = [
        section(f":dart: {text}"),
        section(quoted_goal(goal)),
        ActionsBlock(block_id=f"outcome:{checkpoint}", elements=buttons),
    ]
    if answered in PROGRESS:
        content.append(
            context(f"You answered *{PROGRESS[answered]}*. Changed your mind? Press another.")
        )
    content += _item_blocks(ref, items)
    if leader:
        content += [
            section(
                "Is there one thing you now do differently in how you work because of your "
                "pairing? Sharing it is optional."
            ),
            ActionsBlock(
                block_id=f"outcome_change:{checkpoint}",
                elements=[
                    ButtonElement(
                        action_id=OutcomeActions.OPEN_CHANGE,
                        text="Share one change",
                        value=ref,
                    )
                ],
            ),
        ]
    content.append(
        context("Only you get this question. The program team sees answers only as totals.")
    )
    return text, content


def _item_blocks(ref: str, items: Sequence[ItemQuestion]) -> list[Block]:
    """Per pair, a heading; per item, its text (escaped) with the answer so far, and its own
    buttons. Two blocks an item and one a pair: nine items of three pairs make 30 blocks."""
    found: list[Block] = []
    pair_id: int | None = None
    for item in items:
        if item.pair_id != pair_id:
            pair_id = item.pair_id
            found.append(
                section(
                    f"*Your learning agreement with <@{item.partner}>:* how is each thing you "
                    "wanted from it going?"
                )
            )
        line = f"• {escape(clip(item.text, ITEM_SHOWN))}"
        if item.answered in PROGRESS:
            line += f"\n_You answered {PROGRESS[item.answered]}._"
        found.append(section(line))
        found.append(
            ActionsBlock(
                block_id=f"outcome_item:{item_value(ref, item.pair_id, item.index)}",
                elements=[
                    ButtonElement(
                        action_id=action,
                        text=PROGRESS[key],
                        value=item_value(ref, item.pair_id, item.index),
                        style="primary" if key == item.answered else None,
                    )
                    for action, key in ITEM_ACTIONS.items()
                ],
            )
        )
    return found


def change_modal(ref: str, *, current: str | None) -> View:
    return View(
        type="modal",
        callback_id=CHANGE_CALLBACK,
        private_metadata=ref,
        title="One change",
        submit="Share",
        close="Cancel",
        blocks=[
            section(
                "What is one thing you changed in how you work because of your pairing? "
                "The program team sees changes only together with other leaders', without names."
            ),
            InputBlock(
                block_id=CHANGE_BLOCK,
                label="One change",
                optional=True,
                hint=f"Up to {CHANGE_MAX} characters.",
                # No max_length here: a longer text gets a clear error instead of being cut.
                element=PlainTextInputElement(
                    action_id=CHANGE_ACTION,
                    multiline=True,
                    initial_value=current or None,
                    placeholder="e.g. I now ask my team which AI tools they use before deciding",
                ),
            ),
        ],
    )


def change_saved_view(*, shared: bool) -> View:
    text = (
        "Thank you for sharing it. It helps the next leaders see what reverse mentoring can do."
        if shared
        else "Nothing shared, and that's fine. Thank you for taking part."
    )
    return View(type="modal", title="One change", close="Done", blocks=[section(text)])


def change_refused_view() -> View:
    return View(
        type="modal",
        title="One change",
        close="Close",
        blocks=[section("Nothing was saved: this question is for the program's leaders.")],
    )
