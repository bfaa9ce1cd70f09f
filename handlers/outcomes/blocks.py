"""Block Kit for the outcome checkpoints: the private question and a leader's change modal."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.outcomes import CHANGE_MAX, PROGRESS
from handlers.core.blocks import context, escape, section

CHANGE_CALLBACK = "outcome_change"
CHANGE_BLOCK = "change"
CHANGE_ACTION = "value"


class OutcomeActions:
    NOT_YET = "outcome_not_yet"
    SOME = "outcome_some"
    ACHIEVED = "outcome_achieved"
    OPEN_CHANGE = "outcome_change_open"


PROGRESS_ACTIONS = {
    OutcomeActions.NOT_YET: "not_yet",
    OutcomeActions.SOME: "some",
    OutcomeActions.ACHIEVED: "achieved",
}

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
) -> tuple[str, list[Block]]:
    """The private question; `ref` is the cohort's checkpoint its buttons carry (see
    bot.outcomes.checkpoint_ref); `answered` (a progress key) shows the answer so far."""
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
