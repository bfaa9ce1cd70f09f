"""Block Kit for a pair's learning agreement: the button that opens the form, the form, the
confirmation in the pair's group DM and the reminder. What people typed is escaped and capped
where it is shown."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, InputBlock
from slack_sdk.models.blocks.block_elements import PlainTextInputElement
from slack_sdk.models.views import View

from bot.agreement import ITEM_MAX, ITEMS_MAX, JUNIOR, LEADER, as_text
from handlers.core.blocks import INPUT_ACTION, clip, escape, section

CALLBACK = "learning_agreement"
FIELD_MAX = ITEMS_MAX * (ITEM_MAX + 1) + 200  # Slack's own cap: room for a line too many


class AgreementActions:
    OPEN = "open_agreement"


def open_button(pair_id: int, *, agreed: bool = False) -> ButtonElement:
    return ButtonElement(
        action_id=AgreementActions.OPEN,
        text="Change what you agreed" if agreed else "Agree what you each want",
        value=str(pair_id),
    )


def agreement_modal(
    pair_id: int, *, leader_items: Sequence[str], junior_items: Sequence[str], saved: bool
) -> View:
    """The form, pre-filled: the saved agreement, or the leader's suggestion before one."""
    intro = (
        "What you two agreed. Either of you can change it; only you two see it."
        if saved
        else "Agree what you each want from the pairing: one to three things each, one per "
        "line. Only you two see it. The leader's side starts from their signup goal and "
        "the topics you share: change it freely."
    )
    return View(
        type="modal",
        callback_id=CALLBACK,
        private_metadata=str(pair_id),
        title="Learning agreement",
        submit="Save",
        close="Cancel",
        blocks=[
            section(intro),
            _field(
                LEADER,
                "The leader wants to learn",
                "e.g. How my team really uses AI tools",
                leader_items,
            ),
            _field(
                JUNIOR,
                "The mentor wants to gain",
                "e.g. How strategy decisions get made",
                junior_items,
            ),
        ],
    )


def _field(block_id: str, label: str, placeholder: str, items: Sequence[str]) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        hint=f"One to {ITEMS_MAX} things, one per line, up to {ITEM_MAX} characters each.",
        element=PlainTextInputElement(
            action_id=INPUT_ACTION,
            multiline=True,
            max_length=FIELD_MAX,
            placeholder=placeholder,
            initial_value=as_text(items) or None,
        ),
    )


def _list(items: Sequence[str]) -> str:
    return "\n".join(f"• {escape(clip(item, ITEM_MAX))}" for item in items[:ITEMS_MAX])


def saved_blocks(
    pair_id: int,
    *,
    saved_by: str,
    leader_id: str,
    junior_id: str,
    leader_items: Sequence[str],
    junior_items: Sequence[str],
) -> tuple[str, list[Block]]:
    """The confirmation in the pair's group DM, listing what was agreed."""
    text = f"<@{saved_by}> saved your learning agreement."
    body = (
        f":handshake: {text}\n"
        f"*<@{leader_id}> wants to learn:*\n{_list(leader_items)}\n"
        f"*<@{junior_id}> wants to gain:*\n{_list(junior_items)}"
    )
    return text, [
        section(body),
        ActionsBlock(block_id=f"agreement_{pair_id}", elements=[open_button(pair_id, agreed=True)]),
    ]


def reminder_blocks(pair_id: int) -> tuple[str, list[Block]]:
    text = (
        "Two sessions in: a good moment to write down what you each want from the pairing. "
        "It takes a minute, and only you two see it."
    )
    return text, [
        section(f":seedling: {text}"),
        ActionsBlock(block_id=f"agreement_{pair_id}", elements=[open_button(pair_id)]),
    ]
