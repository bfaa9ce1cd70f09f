"""Button presses: from the App Home tab and from ephemeral command replies."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.profiles import Status
from handlers import blocks
from handlers.blocks import Actions
from handlers.deps import Deps
from handlers.home import publish_home
from handlers.slack_api import SlackCallError
from storage import participants

log = logging.getLogger(__name__)


def _ids(body: dict) -> tuple[str, str]:
    return body["team"]["id"], body["user"]["id"]


def _from_message(body: dict) -> bool:
    return (body.get("container") or {}).get("type") == "message" and "response_url" in body


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(Actions.OPEN_SIGNUP)
    async def open_signup(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        existing = await deps.db.run(
            lambda s: participants.get_participant(session=s, team_id=team_id, user_id=user_id)
        )
        try:
            await deps.slack.call(
                "views.open",
                trigger_id=body["trigger_id"],
                view=blocks.signup_modal(existing),
                budget=2.0,
            )
        except SlackCallError as exc:
            log.warning("signup form did not open: %s", exc.error)

    @app.action(Actions.PAUSE)
    @app.action(Actions.RESUME)
    async def change_status(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        target = Status.PAUSED if action["action_id"] == Actions.PAUSE else Status.ACTIVE
        await deps.db.run(
            lambda s: participants.set_status(
                session=s, team_id=team_id, user_id=user_id, status=target, now=deps.clock()
            )
        )
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(Actions.LEAVE_CONFIRM)
    async def leave(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        await deps.db.run(
            lambda s: participants.leave_program(
                session=s, team_id=team_id, user_id=user_id, now=deps.clock()
            )
        )
        log.info("participant left the program")
        if _from_message(body):
            await deps.slack.respond(
                body["response_url"],
                replace_original=True,
                text="You've left the program and your profile details were deleted. "
                "Thank you for taking part. You're welcome back any time with `/mentor signup`.",
            )
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(Actions.LEAVE_CANCEL)
    async def stay(ack: AsyncAck, body: dict) -> None:
        await ack()
        if _from_message(body):
            await deps.slack.respond(
                body["response_url"], replace_original=True, text="Great, you're staying."
            )
