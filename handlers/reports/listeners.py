"""Reports' listeners: the admins' `summary` and `export` sub-commands (the Home tab's buttons
call the same use cases), and the weekly summary's tick step."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from handlers.core import outbox
from handlers.core.blocks import context
from handlers.core.deps import Deps
from handlers.core.mentor import MentorCommand
from handlers.core.slack import SlackCallError
from handlers.reports import impact, messages
from handlers.reports.blocks import MAX_BLOCKS, summary_blocks
from handlers.reports.use_cases import (
    CHART_KIND,
    EXPORT_DELAYED,
    EXPORT_KIND,
    KIND,
    ON_ITS_WAY,
    admin_channel,
    build_summary,
    decide_weekly,
    next_weekly,
    post_summary,
    send_export,
    unposted_answer,
)

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    outbox.register_kind(deps, KIND, messages.SUMMARY)
    outbox.register_kind(deps, CHART_KIND, messages.CHART)
    outbox.register_kind(deps, EXPORT_KIND, messages.EXPORT)
    outbox.register_kind(deps, impact.KIND, impact.REPORT)
    outbox.register_kind(deps, impact.FILE_KIND, impact.FILE)
    deps.tick_steps.append(decide_weekly)
    deps.tick_due[decide_weekly] = next_weekly


async def summary(command: MentorCommand) -> None:
    """`/mentor admin summary`: post now to the admin channel; without one, answer with the
    summary itself."""
    ack, deps, team_id = command.ack, command.deps, command.team_id
    channel = await admin_channel(deps, team_id=team_id)
    now = deps.clock()
    if channel is None:
        report = await build_summary(deps, team_id=team_id, end=now, now=now)
        text, content = summary_blocks(report, title="Program summary")
        note = context("No admin channel is set, so only you see this (and no chart).")
        content = [*content[: MAX_BLOCKS - 1], note]
        await ack(text=text, blocks=content, response_type="ephemeral")
        return
    await ack(text=f"Posting the program summary in <#{channel}>…", response_type="ephemeral")
    posted = await post_summary(deps, team_id=team_id, now=now, channel=channel)
    if posted:
        answer = f"Posted the program summary in <#{channel}>."
    else:
        answer = await unposted_answer(deps, team_id=team_id, channel=channel)
    await _respond(deps, command.response_url, answer)


async def export(command: MentorCommand) -> None:
    """`/mentor admin export`: the pairs CSV in the admin's DM."""
    await command.say("Preparing the pairs export for your DMs…")
    deps = command.deps
    status = await send_export(deps, team_id=command.team_id, user_id=command.user_id)
    if status == "sent":
        answer = "The pairs export is in your DMs with me."
    elif status in ON_ITS_WAY:
        answer = EXPORT_DELAYED
    else:
        answer = "I couldn't send the export just now. Please try again in a minute."
    await _respond(deps, command.response_url, answer)


async def _respond(deps: Deps, response_url: str, text: str) -> None:
    if not response_url:
        return
    try:
        await deps.slack.respond(
            response_url, response_type="ephemeral", replace_original=True, text=text
        )
    except SlackCallError as exc:
        log.warning("could not answer the admin: %s", exc.error)
