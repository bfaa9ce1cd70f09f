"""The `/mentor` help: what each sub-command does, for participants and for admins."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.commands import ADMIN_COMMANDS, PARTICIPANT_COMMANDS, CommandSpec, ParsedCommand
from handlers.core.blocks import context, escape, section


def _command_lines(specs: tuple[CommandSpec, ...]) -> str:
    return "\n".join(f"`{spec.usage}`: {spec.summary}" for spec in specs)


def help_blocks(parsed: ParsedCommand) -> list[Block]:
    blocks: list[Block] = []
    if parsed.unknown:
        shown = escape(parsed.unknown[:60])
        blocks.append(section(f"I don't know `{shown}`. Here's what I can do:"))
    else:
        blocks.append(
            section(
                "*Reverse Mentor* pairs junior colleagues with senior leaders: juniors share "
                "digital trends, AI and what younger colleagues expect; leaders share career "
                "perspective back."
            )
        )
    blocks.append(section(_command_lines(PARTICIPANT_COMMANDS)))
    blocks.append(context("Running the program? See `/mentor admin help`."))
    return blocks


def direct_message_help_blocks() -> list[Block]:
    """The answer to anything typed in a DM with the bot, which has no conversation to offer."""
    return [
        section("I can't answer messages, and I don't keep them. Here's what `/mentor` does:"),
        *help_blocks(ParsedCommand("help")),
    ]


def admin_help_blocks(parsed: ParsedCommand) -> list[Block]:
    blocks: list[Block] = []
    if parsed.unknown:
        shown = escape(parsed.unknown[:60])
        blocks.append(section(f"I don't know the admin command `{shown}`."))
    blocks.append(section("*Admin commands*\n" + _command_lines(ADMIN_COMMANDS)))
    return blocks


def admin_refused_blocks(*, many_workspaces: bool = False) -> list[Block]:
    ask = (
        "ask a workspace admin to add you under Program admins in `/mentor admin settings`."
        if many_workspaces
        else "ask whoever installed the bot to add you to MENTOR_ADMINS."
    )
    return [
        section(
            "Admin commands are for the program's admins, so I didn't change anything. "
            f"If you run the program, {ask}"
        )
    ]
