"""When the bot cannot post in the admin channel: the admins are told how to fix it (a DM and
the Home tab), what was for the channel waits, and it goes out once the channel works."""

# Fixtures come from the summary tests: their names are parameters here.
# ruff: noqa: F811
from __future__ import annotations

from sqlmodel import select

from handlers.devkit.driver import TEAM_ID
from storage.models import OutboxMessage, WorkspaceSchedule
from tests.test_summary import (
    at,
    program_bot,  # noqa: F401  (fixture)
    run_tick,
    save_settings,
)

BROKEN = "GADMIN01"


def summaries_in(bot, channel: str) -> list[dict]:
    """The summaries Slack holds in `channel` (refused posts are not there)."""
    return [
        message
        for (where, _), message in sorted(bot.slack.messages.items(), key=lambda kv: kv[0][1])
        if where == channel and "program summary" in message["text"].lower()
    ]


def dms_to(bot, user: str) -> list[str]:
    dm = bot.slack.conversation_id(user)
    return [
        c.params["text"]
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == dm
    ]


def problem(bot) -> str | None:
    row = bot.runtime.deps.db.run_sync(lambda s: s.get(WorkspaceSchedule, TEAM_ID))
    return row.admin_channel_problem if row else None


async def home_text(bot, user: str) -> str:
    await bot.event(
        {"type": "app_home_opened", "user": user, "tab": "home"},
        event_id=f"EvH{user}{len(bot.slack.calls)}",
    )
    [view] = [c for c in bot.slack.calls_to("views.publish") if c.params["user_id"] == user][-1:]
    return str(view.params["view"]["blocks"])


async def summary_due_in_a_broken_channel(bot, clock, **channel) -> None:
    """The admin channel is BROKEN (as `channel` says), and the weekly summary falls due."""
    bot.slack.add_channel(BROKEN, name="mentor-admins", is_private=True, **channel)
    save_settings(bot, admin_channel=BROKEN, timezone="Europe/London")
    await run_tick(bot)  # plans the weekly summary for Monday 9 March, 09:00
    clock.now = at("2026-03-09 09:00")
    await run_tick(bot)


async def test_a_channel_the_bot_is_not_in_is_reported_and_its_summary_waits(program_bot, clock):
    bot = program_bot
    await summary_due_in_a_broken_channel(bot, clock, bot_is_member=False)

    assert summaries_in(bot, BROKEN) == []
    assert problem(bot) == "channel_not_found"
    [told] = [t for t in dms_to(bot, "UADMIN") if "admin channel" in t]
    assert f"/invite @Reverse Mentor` in <#{BROKEN}>" in told and "nothing is lost" in told
    assert f"<#{BROKEN}>" in await home_text(bot, "UADMIN")
    [held] = bot.runtime.deps.db.run_sync(
        lambda s: [m for m in s.exec(select(OutboxMessage)).all() if m.kind == "admin_summary"]
    )
    assert held.status == "pending" and held.last_error == "channel_not_found"

    # Ticking on tells nobody twice and loses nothing.
    for minutes in (1, 30):
        clock.advance(minutes=minutes)
        await run_tick(bot)
    assert len([t for t in dms_to(bot, "UADMIN") if "admin channel" in t]) == 1

    # An admin invites the bot: Slack says it joined, and the summary goes out at once.
    bot.slack.channels[BROKEN]["is_member"] = True
    clock.advance(minutes=2)
    joined = {"type": "member_joined_channel", "user": "UBOT", "channel": BROKEN, "team": TEAM_ID}
    assert await bot.event(joined, event_id="EvJoin1") == 200
    [posted] = summaries_in(bot, BROKEN)
    assert "Weekly program summary" in posted["text"]
    assert problem(bot) is None
    assert f"<#{BROKEN}>" not in await home_text(bot, "UADMIN")
    shared = [m for (where, _), m in bot.slack.messages.items() if m.get("files")]
    assert len(shared) == 1 and shared[0]["files"][0]["name"].endswith(".png")  # its chart


async def test_someone_else_joining_the_channel_changes_nothing(program_bot, clock):
    bot = program_bot
    await summary_due_in_a_broken_channel(bot, clock, bot_is_member=False)
    assert problem(bot) == "channel_not_found"
    clock.advance(minutes=2)
    joined = {"type": "member_joined_channel", "user": "UJ1", "channel": BROKEN, "team": TEAM_ID}
    await bot.event(joined, event_id="EvJoin2")
    assert problem(bot) == "channel_not_found" and summaries_in(bot, BROKEN) == []
    # Not taken for the bot's own joining: no new attempt, so no second warning either.
    assert len([t for t in dms_to(bot, "UADMIN") if "admin channel" in t]) == 1


async def test_an_archived_admin_channel_says_to_unarchive_or_choose_another(program_bot, clock):
    bot = program_bot
    await summary_due_in_a_broken_channel(bot, clock, is_archived=True)
    [told] = [t for t in dms_to(bot, "UADMIN") if "admin channel" in t]
    assert "archived" in told and "/mentor admin settings" in told
    assert problem(bot) == "is_archived"
