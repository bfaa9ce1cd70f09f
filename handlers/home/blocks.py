"""The App Home tab's extra pieces: the admin dashboard, each pair's latest prompt, one's own
pulse ratings, and the small modals the admin buttons answer in. Home views hold 100 blocks
at most: every list shown here is capped, and result modals are trimmed to fit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.profiles import Status
from bot.prompts import Prompt
from handlers.core.blocks import context, escape, section, slack_time
from handlers.profile.blocks import LEAVING, ProfileActions, status_blocks
from storage.models import Pair, Participant

MAX_BLOCKS = 100
MAX_PAIRS_SHOWN = 10  # a pair takes two blocks (the pair and its latest prompt)
MAX_NUMBERS_SHOWN = 20  # ten fields per section, two sections
MAX_RATINGS_SHOWN = 10


class HomeActions:
    ADMIN_PREVIEW = "admin_home_preview"
    ADMIN_SUMMARY = "admin_home_summary"
    ADMIN_EXPORT = "admin_home_export"
    ADMIN_SETTINGS = "admin_home_settings"


def admin_blocks(
    numbers: dict[str, str], *, warning: str | None = None, cohorts: Sequence[Block] = ()
) -> list[Block]:
    """The admin's part of Home: a warning that needs them (if any), headline numbers, the
    admin buttons and the cohorts."""
    shown = list(numbers.items())[:MAX_NUMBERS_SHOWN]
    out: list[Block] = [section("*Program at a glance* (only admins see this part)")]
    if warning:
        out.append(section(warning[:2900]))
    for start in range(0, len(shown), 10):
        fields = [
            MarkdownTextObject(text=f"*{escape(label[:200])}*\n{escape(value[:1000])}")
            for label, value in shown[start : start + 10]
        ]
        out.append(SectionBlock(fields=fields))
    out += [
        ActionsBlock(
            block_id="home_admin",
            elements=[
                ButtonElement(
                    action_id=HomeActions.ADMIN_PREVIEW, text="Preview matches", style="primary"
                ),
                ButtonElement(action_id=HomeActions.ADMIN_SUMMARY, text="Post summary"),
                ButtonElement(action_id=HomeActions.ADMIN_EXPORT, text="Export"),
                ButtonElement(action_id=HomeActions.ADMIN_SETTINGS, text="Settings"),
            ],
        ),
        *cohorts,
        DividerBlock(),
    ]
    return out


def pairs_with_prompts(
    live: Sequence[Pair], pair_sections: Sequence[Block], prompts: dict[int, Prompt]
) -> list[Block]:
    """Each pair's section (as `/mentor status` shows it) followed by its latest prompt."""
    out: list[Block] = []
    for pair, shown in list(zip(live, pair_sections, strict=False))[:MAX_PAIRS_SHOWN]:
        out.append(shown)
        prompt = prompts.get(pair.id or 0)
        if prompt is not None:
            out.append(context(f":speech_balloon: *Latest prompt:* {escape(prompt.question)}"))
    if len(live) > MAX_PAIRS_SHOWN:
        hidden = len(live) - MAX_PAIRS_SHOWN
        out.append(context(f"…and {hidden} more pairs: see `/mentor status`."))
    return out


def _stars(rating: int) -> str:
    rating = max(1, min(5, rating))
    return "★" * rating + "☆" * (5 - rating)


def ratings_blocks(ratings: Sequence[tuple[datetime, int]]) -> list[Block]:
    """Someone's own pulse ratings, newest first; nothing when they have given none."""
    if not ratings:
        return []
    lines = [
        f"{slack_time(when)}: {_stars(rating)} ({rating})"
        for when, rating in ratings[:MAX_RATINGS_SHOWN]
    ]
    return [section("*Your pulse ratings* (only you see these)\n" + "\n".join(lines))]


def result_modal(title: str, content: Sequence[Block] | str) -> View:
    """A modal answering an admin button, within a modal's 100 blocks."""
    blocks = [section(content)] if isinstance(content, str) else list(content)
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], context("…more than fits here.")]
    return View(type="modal", title=title[:24], close="Close", blocks=blocks)


def home_view(
    participant: Participant | None,
    *,
    pairs_section: Sequence[Block] = (),
    admin_section: Sequence[Block] = (),
    extra_section: Sequence[Block] = (),
) -> View:
    """The Home tab: the admin's part first (if any), then the person's own."""
    signed_up = participant is not None and participant.status != Status.LEFT
    blocks: list[Block] = [HeaderBlock(text="Reverse Mentor"), *admin_section]
    if not signed_up:
        blocks += [
            section(
                "Junior colleagues mentor senior leaders on digital trends, AI, social media, "
                "inclusion and hybrid work; leaders share career perspective back. "
                "Sign up and we'll pair you with someone who wants what you have to share."
            ),
            ActionsBlock(
                block_id="home_signup",
                elements=[
                    ButtonElement(
                        action_id=ProfileActions.OPEN_SIGNUP, text="Sign up", style="primary"
                    )
                ],
            ),
        ]
        return View(type="home", blocks=blocks)
    assert participant is not None
    paused = participant.status == Status.PAUSED
    blocks += status_blocks(participant, paired=bool(pairs_section))
    blocks += list(pairs_section)
    blocks += list(extra_section)
    blocks += [
        DividerBlock(),
        ActionsBlock(
            block_id="home_profile",
            elements=[
                ButtonElement(action_id=ProfileActions.OPEN_SIGNUP, text="Edit profile"),
                ButtonElement(action_id=ProfileActions.RESUME, text="Resume", style="primary")
                if paused
                else ButtonElement(action_id=ProfileActions.PAUSE, text="Pause"),
                ButtonElement(
                    action_id=ProfileActions.LEAVE_CONFIRM,
                    text="Leave the program",
                    style="danger",
                    confirm=ConfirmObject(
                        title="Leave the program?",
                        text=LEAVING,
                        confirm="Leave",
                        deny="Stay",
                        style="danger",
                    ),
                ),
            ],
        ),
        context("What you share in your pair stays in your pair."),
    ]
    return View(type="home", blocks=blocks)
