"""Program settings' listeners: the form's submission, and the admin `settings` sub-command
(the Home tab's Settings button opens the same form)."""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.core.deps import Deps
from handlers.core.interactions import ids
from handlers.core.mentor import MentorCommand
from handlers.settings import blocks, use_cases


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(blocks.SETTINGS_CALLBACK)
    async def settings_submitted(ack: AsyncAck, body: dict) -> None:
        team_id, user_id = ids(body)
        raw = blocks.parse_settings(body["view"]["state"]["values"])
        # Slack is asked about the admin channel while the admin check runs: both within the ack.
        admin, channel_problem = await asyncio.gather(
            deps.is_admin(team_id=team_id, user_id=user_id),
            use_cases.form_channel_problem(deps, raw, team_id=team_id),
        )
        if not admin:
            await ack(response_action="update", view=blocks.settings_refused_view())
            return
        saved, errors = await use_cases.save_settings(
            deps, team_id=team_id, user_id=user_id, raw=raw, channel_problem=channel_problem
        )
        if saved is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack(
            response_action="update",
            view=blocks.settings_saved_view(saved, many_workspaces=deps.settings.oauth),
        )


async def settings(command: MentorCommand) -> None:
    """`/mentor admin settings`: the form, pre-filled."""
    await command.ack()
    if not await use_cases.open_settings_form(
        command.deps, team_id=command.team_id, trigger_id=command.trigger_id
    ):
        await command.deps.slack.respond(
            command.response_url,
            response_type="ephemeral",
            text="Slack took too long to open the settings. "
            "Please run `/mentor admin settings` again.",
        )
