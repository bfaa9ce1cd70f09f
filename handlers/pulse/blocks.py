"""The pulse survey message: the question, its scale, and buttons that answer it privately."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import pulse
from bot.cadence import ProgramSettings

RATE_ACTION = "pulse_rate_{rating}"
RATE_ACTIONS = re.compile(r"^pulse_rate_[1-5]$")


def survey_blocks(survey_id: int, *, settings: ProgramSettings) -> tuple[str, list[Block]]:
    lowest, highest = pulse.SCALE[0], pulse.SCALE[-1]
    text = (
        f"{pulse.QUESTION} React with :{lowest.emoji}: ({lowest.label}) to "
        f":{highest.emoji}: ({highest.label})."
    )
    days = settings.pulse_close_days
    return text, [
        SectionBlock(text=MarkdownTextObject(text=f":bar_chart: *{pulse.QUESTION}*")),
        ContextBlock(elements=[MarkdownTextObject(text=pulse.scale_text())]),
        ActionsBlock(
            block_id=f"pulse:{survey_id}",
            elements=[
                ButtonElement(
                    action_id=RATE_ACTION.format(rating=point.rating),
                    text=str(point.rating),
                    value=f"{survey_id}:{point.rating}",
                    accessibility_label=f"{point.rating} of {highest.rating}: {point.label}",
                )
                for point in pulse.SCALE
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        "React on this message or press a number; your latest answer counts. "
                        "Your partner can see reactions, the buttons answer privately. "
                        f"Open for {days} day{'s' if days != 1 else ''}."
                    )
                )
            ]
        ),
    ]
