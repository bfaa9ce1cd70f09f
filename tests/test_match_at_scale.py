"""The admin's match reply for any number of people, and never stuck on "Matching…"."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.profiles import Profile, Role
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.fake_slack import validate_blocks, validate_view
from handlers.home.blocks import HomeActions
from handlers.pairing import use_cases as pairing
from storage import participants

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seed(bot, people: list[tuple[str, Role, int]], *, far: frozenset[str] = frozenset()) -> None:
    """Sign people up in London, or in Kiritimati (UTC+14: no working hour shared with
    London) for those in `far`."""

    def save(session) -> None:
        for user_id, role, level in people:
            profile = Profile(
                role=role,
                level=level,
                department=f"Dept {level}",
                manager_id=None,
                topics=("ai", "hybrid"),
                goals="Learn from each other.",
                capacity=1,
            )
            participants.save_profile(
                session=session,
                team_id=TEAM_ID,
                user_id=user_id,
                profile=profile,
                timezone="Pacific/Kiritimati" if user_id in far else "Europe/London",
                title="A title",
                now=NOW,
            )

    bot.runtime.deps.db.run_sync(save)


def five_hundred_waiting() -> list[tuple[str, Role, int]]:
    """460 who can be paired, and 40 nobody can take: 20 juniors at the top level (no leader
    above them) and 20 who would mentor or be mentored but share no working hour with anyone
    (the longest reason: one for each side)."""
    people = [(f"UY{n:03d}", Role.EITHER, 3) for n in range(20)]
    people += [(f"UJ{n:03d}", Role.JUNIOR, 1 + n % 2) for n in range(230)]
    people += [(f"UL{n:03d}", Role.LEADER, 5 + n % 2) for n in range(230)]
    people += [(f"UX{n:03d}", Role.JUNIOR, 6) for n in range(20)]
    return people


FAR = frozenset(f"UY{n:03d}" for n in range(20))


async def test_the_preview_renders_for_500_waiting_with_40_unmatchable(bot, slack):
    seed(bot, five_hundred_waiting(), far=FAR)
    status, body = await bot.command("admin match preview", user="UADMIN")
    assert status == 200 and "Working out" in body["text"]
    [answer] = slack.calls_to("response_url")
    shown = answer.params["blocks"]
    assert validate_blocks(shown) == []
    text = str(shown)
    assert "Proposed 230 pairs" in text and "…and 210 more pairs." in text
    assert "*Not matched this time* (40)" in text
    assert "and 14 more" in text  # 20 for each reason, six named

    # The same from the Home tab, in a modal of at most 100 blocks.
    await bot.click(HomeActions.ADMIN_PREVIEW, user="UADMIN")
    [update] = slack.calls_to("views.update")
    assert validate_view(update.params["view"]) == []
    assert "*Not matched this time* (40)" in str(update.params["view"]["blocks"])


async def test_a_match_that_fails_says_so_instead_of_staying_on_matching(
    bot, slack, monkeypatch, caplog
):
    async def broken(deps, *, team_id):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(pairing, "propose", broken)
    await bot.command("admin match", user="UADMIN")
    [answer] = slack.calls_to("response_url")
    assert answer.params["text"].startswith("Something went wrong while matching.")
    assert "Nothing was changed" in answer.params["text"]
    assert answer.params["replace_original"] in (True, "true")
    # The failure is logged (an error, so the fixture's no-errors check is told it is expected).
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "matching failed"
    ]
    caplog.clear()


async def test_a_match_reply_slack_refuses_falls_back_to_plain_text(bot, slack):
    seed(bot, [("UJ1", Role.JUNIOR, 1), ("UL1", Role.LEADER, 6)])
    slack.fail_next("response_url", status=400, error="invalid_blocks")
    await bot.command("admin match", user="UADMIN")
    refused, plain = slack.calls_to("response_url")
    assert "blocks" in refused.params and "blocks" not in plain.params
    assert plain.params["text"].startswith("Matched 1 pairs.")
    assert "1 new pairs were made" in plain.params["text"]
