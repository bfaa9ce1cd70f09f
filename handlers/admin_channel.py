"""Ask Slack what a channel is, and whether it may be the admin channel (bot/admin_channel)."""

from __future__ import annotations

from bot.admin_channel import ChannelProblem, admin_channel_problem
from handlers.slack_api import SlackCallError, SlackGateway


async def check_admin_channel(
    slack: SlackGateway, channel_id: str, *, budget: float, setting: str | None = None
) -> ChannelProblem | None:
    """None when `channel_id` is a private, unarchived channel the bot is in."""
    try:
        data = await slack.call("conversations.info", channel=channel_id, budget=budget)
    except SlackCallError as exc:
        return admin_channel_problem(error=exc.error, transient=exc.transient, setting=setting)
    channel = data.get("channel") or {}
    return admin_channel_problem(
        is_private=channel.get("is_private"),
        is_archived=channel.get("is_archived"),
        is_member=channel.get("is_member"),
        setting=setting,
    )
