"""Slack events. Each event ID is applied once, however often Slack delivers it."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.response import BoltResponse

from handlers import blocks, pairing
from handlers.deps import Deps
from handlers.home import publish_home
from handlers.slack_api import SlackCallError
from storage import events

log = logging.getLogger(__name__)

# The bot events manifest.yml subscribes to, with the scopes each needs
# (tests/test_manifest_scopes.py keeps the two equal).
SUBSCRIPTIONS: dict[str, frozenset[str]] = {
    "app_home_opened": frozenset(),
    "message.mpim": frozenset({"mpim:history"}),  # activity in a pair's group DM
    "message.im": frozenset({"im:history"}),  # someone writing to the bot gets the help text
    # Ratings on pulse surveys (handlers/pulse): only reactions on the survey messages count.
    "reaction_added": frozenset({"reactions:read"}),
    "reaction_removed": frozenset({"reactions:read"}),
}
# Messages that people wrote (not edits, joins or the bot's own posts).
_PEOPLE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def register(app: AsyncApp, deps: Deps) -> None:
    @app.middleware
    async def skip_repeated_events(req: AsyncBoltRequest, body: dict, next) -> BoltResponse | None:
        event_id, team_id = body.get("event_id"), body.get("team_id")
        if body.get("type") != "event_callback" or not event_id or not team_id:
            return await next()
        first_time = await deps.db.run(
            lambda s: events.claim_event(
                session=s, team_id=team_id, event_id=event_id, now=deps.clock()
            )
        )
        if not first_time:
            log.info("skipped a repeated delivery of an event")
            return BoltResponse(status=200, body="")
        return await next()

    # Before pair_message: Bolt runs only the first listener that matches an event.
    @app.event("message", matchers=[_in_a_dm_with_the_bot])
    async def direct_message(event: dict) -> None:
        # A person's own new message only (not edits, files, joins or any bot's posts). Its
        # text is never read, stored or logged: whatever it says, the answer is the help.
        if event.get("subtype") is not None or event.get("bot_id"):
            return
        channel_id, thread_ts = event.get("channel"), event.get("thread_ts")
        if not all(isinstance(v, str) and v for v in (event.get("user"), channel_id)):
            return
        thread = {"thread_ts": thread_ts} if isinstance(thread_ts, str) and thread_ts else {}
        try:
            await deps.slack.call(
                "chat.postMessage",
                channel=channel_id,
                text="What I can do: type /mentor help",
                blocks=blocks.direct_message_help_blocks(),
                **thread,
            )
        except SlackCallError as exc:
            log.warning("could not answer a direct message: %s", exc.error)

    @app.event("message")
    async def pair_message(event: dict, body: dict) -> None:
        # Only that it happened, and when: the text is never stored or logged.
        if event.get("channel_type") != "mpim" or event.get("subtype") not in _PEOPLE_SUBTYPES:
            return
        user_id, channel_id = event.get("user"), event.get("channel")
        if not user_id or not channel_id or event.get("bot_id"):
            return
        await deps.db.run(
            lambda s: pairing.note_activity(
                s, team_id=body["team_id"], channel_id=channel_id, user_id=user_id, at=deps.clock()
            )
        )

    @app.event("app_home_opened")
    async def home_opened(event: dict, body: dict) -> None:
        if event.get("tab") != "home":
            return
        await publish_home(deps, team_id=body["team_id"], user_id=event["user"])


async def _in_a_dm_with_the_bot(event: dict) -> bool:
    return event.get("channel_type") == "im"
