"""Block Kit for a preparation guide: its title, its sections as written in guides.toml, and
a line saying why it came."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, HeaderBlock

from bot.guides import Guide
from handlers.core.blocks import context, section

FOOTER = (
    "You're getting this once, before your first session. Questions about the program? "
    "Ask its admins; `/mentor help` lists what I can do."
)


def guide_blocks(guide: Guide) -> tuple[str, list[Block]]:
    """(notification text, blocks). The sections are the admins' own mrkdwn, sent as written."""
    content: list[Block] = [HeaderBlock(text=guide.title)]
    content.extend(section(text) for text in guide.sections)
    content.append(context(FOOTER))
    return guide.title, content
