"""The `/mentor` grammar: one slash command whose text names a sub-command."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    admin: bool = False


PARTICIPANT_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("signup", "/mentor signup", "Join the program, or edit your profile"),
    CommandSpec("status", "/mentor status", "See your profile and your pairing"),
    CommandSpec("met", "/mentor met", "Log a session you held with your pair today"),
    CommandSpec("prompt", "/mentor prompt", "Get a conversation prompt for your next session"),
    CommandSpec("pause", "/mentor pause", "Take a break: no matches or reminders until you resume"),
    CommandSpec("resume", "/mentor resume", "Come back after a pause"),
    CommandSpec("leave", "/mentor leave", "Leave the program and delete your profile details"),
    CommandSpec("help", "/mentor help", "Show this list"),
)

ADMIN_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "cohort",
        "/mentor admin cohort",
        "List the cohorts; `new`, `edit` or `close` one (dates, its own rhythm, signups)",
        admin=True,
    ),
    CommandSpec(
        "match",
        "/mentor admin match preview [COHORT]",
        "See the best pairs for everyone waiting, and why; nothing is sent",
        admin=True,
    ),
    CommandSpec(
        "match",
        "/mentor admin match [COHORT]",
        "Pair everyone waiting (in the cohort open for signups, or the one named) and "
        "introduce each new pair",
        admin=True,
    ),
    CommandSpec(
        "unpair",
        "/mentor admin unpair @mentor @mentee",
        "End a pair; both are told kindly and go back to the pool",
        admin=True,
    ),
    CommandSpec(
        "participants",
        "/mentor admin participants",
        "Count who has signed up, by role and status",
        admin=True,
    ),
    CommandSpec(
        "summary",
        "/mentor admin summary",
        "Post the program summary (figures and a chart) to the admin channel now",
        admin=True,
    ),
    CommandSpec(
        "export",
        "/mentor admin export",
        "Get a CSV of every pair (status, dates, sessions, survey counts) in your DMs",
        admin=True,
    ),
    CommandSpec(
        "settings",
        "/mentor admin settings",
        "Change the program's dates, rhythm, pulse surveys, summary time and admin channel",
        admin=True,
    ),
    CommandSpec("help", "/mentor admin help", "Show the admin commands", admin=True),
)


@dataclass(frozen=True)
class ParsedCommand:
    """`name` is a known sub-command or "help"; `unknown` keeps what was not understood."""

    name: str
    admin: bool = False
    args: tuple[str, ...] = ()
    unknown: str | None = None


def parse_command(text: str | None) -> ParsedCommand:
    words = (text or "").split()
    if not words:
        return ParsedCommand("help")
    head, rest = words[0].lower(), tuple(words[1:])
    if head == "admin":
        if not rest:
            return ParsedCommand("help", admin=True)
        sub, sub_args = rest[0].lower(), rest[1:]
        if _known(ADMIN_COMMANDS, sub):
            return ParsedCommand(sub, admin=True, args=sub_args)
        return ParsedCommand("help", admin=True, unknown=" ".join(rest))
    if _known(PARTICIPANT_COMMANDS, head):
        return ParsedCommand(head, args=rest)
    return ParsedCommand("help", unknown=" ".join(words))


def _known(specs: tuple[CommandSpec, ...], name: str) -> bool:
    return any(spec.name == name for spec in specs)


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|^([UW][A-Z0-9]+)$")


def mentioned_users(args: tuple[str, ...]) -> list[str]:
    """User IDs from `<@U123|name>` mentions (or bare IDs), in order, without repeats."""
    found = []
    for word in args:
        hit = _MENTION.search(word)
        if hit:
            found.append(hit.group(1) or hit.group(2))
    return list(dict.fromkeys(found))
