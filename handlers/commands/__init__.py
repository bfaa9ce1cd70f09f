"""`/mentor` and its sub-commands. Answers that need only the database go back in the ack."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.commands import ParsedCommand, parse_command
from bot.profiles import Status
from handlers import blocks
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from storage import participants

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/mentor")
    async def mentor(ack: AsyncAck, body: dict) -> None:
        parsed = parse_command(body.get("text"))
        team_id, user_id = body["team_id"], body["user_id"]
        if parsed.admin:
            await _admin(ack, deps, parsed, team_id=team_id, user_id=user_id)
            return
        match parsed.name:
            case "signup":
                await _signup(ack, deps, body, team_id=team_id, user_id=user_id)
            case "status":
                participant = await deps.db.run(
                    lambda s: participants.get_participant(
                        session=s, team_id=team_id, user_id=user_id
                    )
                )
                await _reply(ack, blocks.status_blocks(participant), "Your Reverse Mentor status")
            case "pause" | "resume":
                await _set_status(ack, deps, parsed.name, team_id=team_id, user_id=user_id)
            case "leave":
                participant = await deps.db.run(
                    lambda s: participants.get_participant(
                        session=s, team_id=team_id, user_id=user_id
                    )
                )
                if participant is None or participant.status == Status.LEFT:
                    await _reply(ack, blocks.status_blocks(None), "You're not signed up")
                else:
                    await _reply(ack, blocks.leave_confirm_blocks(), "Leave the program?")
            case _:
                await _reply(ack, blocks.help_blocks(parsed), "Reverse Mentor commands")


async def _reply(ack: AsyncAck, content: list, text: str) -> None:
    await ack(text=text, blocks=content, response_type="ephemeral")


async def _signup(ack: AsyncAck, deps: Deps, body: dict, *, team_id: str, user_id: str) -> None:
    existing = await deps.db.run(
        lambda s: participants.get_participant(session=s, team_id=team_id, user_id=user_id)
    )
    await ack()
    try:
        # The trigger expires 3 s after the command was sent: spend well under that.
        await deps.slack.call(
            "views.open",
            trigger_id=body["trigger_id"],
            view=blocks.signup_modal(existing),
            budget=2.0,
        )
    except SlackCallError as exc:
        log.warning("signup form did not open: %s", exc.error)
        await deps.slack.respond(
            body["response_url"],
            response_type="ephemeral",
            text="Slack took too long to open the signup form. Please run `/mentor signup` again.",
        )


async def _set_status(ack: AsyncAck, deps: Deps, name: str, *, team_id: str, user_id: str):
    target = Status.PAUSED if name == "pause" else Status.ACTIVE
    participant = await deps.db.run(
        lambda s: participants.set_status(
            session=s, team_id=team_id, user_id=user_id, status=target, now=deps.clock()
        )
    )
    if participant is None or participant.status == Status.LEFT:
        text = "You're not signed up yet. Join with `/mentor signup`."
    elif target == Status.PAUSED:
        text = "Paused. You won't be matched or reminded until you run `/mentor resume`."
    else:
        text = "Welcome back! You're active again."
    await ack(text=text, response_type="ephemeral")


async def _admin(
    ack: AsyncAck, deps: Deps, parsed: ParsedCommand, *, team_id: str, user_id: str
) -> None:
    if not await deps.is_admin(team_id=team_id, user_id=user_id):
        await _reply(ack, blocks.admin_refused_blocks(), "Admin commands are for program admins")
        return
    match parsed.name:
        case "participants":
            counts = await deps.db.run(
                lambda s: participants.count_participants(session=s, team_id=team_id)
            )
            await _reply(ack, blocks.participant_counts_blocks(counts), "Participants")
        case _:
            await _reply(ack, blocks.admin_help_blocks(parsed), "Reverse Mentor admin commands")
