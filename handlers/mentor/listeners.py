"""`/mentor` and its sub-commands, in one dispatch table: each sub-command is answered by its
feature's listener. Anything else gets the help, and so does a message typed to the bot."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.commands import ParsedCommand, parse_command
from handlers.cohorts import listeners as cohorts
from handlers.core import inbox
from handlers.core.deps import Deps
from handlers.core.mentor import MentorCommand, TimelyAck, answer_in_time
from handlers.core.slack import SlackCallError
from handlers.mentor import blocks
from handlers.pairing import listeners as pairing
from handlers.profile import listeners as profile
from handlers.reports import listeners as reports
from handlers.rhythm import listeners as rhythm
from handlers.settings import listeners as settings

log = logging.getLogger(__name__)

Handler = Callable[[MentorCommand], Awaitable[None]]

# `/mentor <name>`, for everyone (bot/commands.py has the grammar and the help lines).
PARTICIPANT_COMMANDS: dict[str, Handler] = {
    "signup": profile.signup,
    "status": profile.status,
    "pause": profile.pause,
    "resume": profile.resume,
    "leave": profile.leave,
    "met": rhythm.met,
    "prompt": rhythm.prompt,
}
# `/mentor admin <name>`, for the program's admins only.
ADMIN_COMMANDS: dict[str, Handler] = {
    "cohort": cohorts.cohort,
    "match": pairing.match,
    "unpair": pairing.unpair,
    "participants": profile.participants,
    "settings": settings.settings,
    "summary": reports.summary,
    "export": reports.export,
}


def register(app: AsyncApp, deps: Deps) -> None:
    """Registered before the rhythm's: Bolt runs only the first listener that matches an
    event, and a message in a DM with the bot is this feature's."""

    @app.command("/mentor")
    async def mentor(ack: AsyncAck, body: dict) -> None:
        parsed = parse_command(body.get("text"))
        response_url = body.get("response_url", "")
        timely = TimelyAck(ack, deps, response_url)
        command = MentorCommand(
            ack=timely,
            deps=deps,
            parsed=parsed,
            team_id=body["team_id"],
            user_id=body["user_id"],
            response_url=response_url,
            trigger_id=body.get("trigger_id", ""),
        )
        await answer_in_time(deps, timely, lambda: _dispatch(command, parsed))

    async def _dispatch(command: MentorCommand, parsed: ParsedCommand) -> None:
        if not parsed.admin:
            handler = PARTICIPANT_COMMANDS.get(parsed.name)
            if handler is None:
                await command.reply(blocks.help_blocks(parsed), "Reverse Mentor commands")
            else:
                await handler(command)
            return
        if not await deps.is_admin(team_id=command.team_id, user_id=command.user_id):
            await command.reply(
                blocks.admin_refused_blocks(many_workspaces=deps.settings.oauth),
                "Admin commands are for program admins",
            )
            return
        admin_handler = ADMIN_COMMANDS.get(parsed.name)
        if admin_handler is None:
            await command.reply(blocks.admin_help_blocks(parsed), "Reverse Mentor admin commands")
        else:
            await admin_handler(command)

    @app.event("message", matchers=[_in_a_dm_with_the_bot])
    async def direct_message(event: dict, body: dict, context: AsyncBoltContext) -> None:
        # A person's own new message only (not edits, files, joins or any bot's posts). Its
        # text is never read, stored or logged: whatever it says, the answer is the help.
        if event.get("subtype") is not None or event.get("bot_id"):
            return
        # Answered once: only by whoever marks this event applied (a retry finds it done).
        if not await inbox.apply_received(deps, body=body, event=event, context=context):
            return
        channel_id, thread_ts = event.get("channel"), event.get("thread_ts")
        if not all(isinstance(v, str) and v for v in (event.get("user"), channel_id)):
            return
        # Extra Web API arguments, typed like SlackGateway.call's **params (a dict[str, str]
        # could, to mypy, be filling its `budget: float | None`).
        thread: dict[str, Any] = (
            {"thread_ts": thread_ts} if isinstance(thread_ts, str) and thread_ts else {}
        )
        try:
            await deps.slack.call(
                "chat.postMessage",
                team_id=body["team_id"],
                channel=channel_id,
                text="What I can do: type /mentor help",
                blocks=blocks.direct_message_help_blocks(),
                **thread,
            )
        except SlackCallError as exc:
            log.warning("could not answer a direct message: %s", exc.error)


async def _in_a_dm_with_the_bot(event: dict) -> bool:
    return event.get("channel_type") == "im"
