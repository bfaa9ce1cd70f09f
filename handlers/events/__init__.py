"""Slack events. Each event ID is applied once, however often Slack delivers it, and an
event whose handler failed is applied later from its record (handlers/inbox.py)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.response import BoltResponse

from handlers import blocks, delivery, inbox, pairing
from handlers.deps import Deps
from handlers.home import publish_home
from handlers.slack_api import SlackCallError
from storage import events, outbox, program

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
    # The bot invited into the admin channel: what waited for it goes out at once.
    "member_joined_channel": frozenset({"channels:read", "groups:read"}),
}
# Messages that people wrote (not edits, joins or the bot's own posts).
_PEOPLE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def register(app: AsyncApp, deps: Deps) -> None:
    inbox.register_applier(deps, "message", _apply_pair_message)
    inbox.register_applier(deps, "member_joined_channel", _apply_joined)
    deps.tick_steps.append(inbox.replay_pending)

    @app.middleware
    async def record_events(req: AsyncBoltRequest, body: dict, next) -> BoltResponse | None:
        event_id, team_id = body.get("event_id"), body.get("team_id")
        if body.get("type") != "event_callback" or not event_id or not team_id:
            return await next()
        event = body.get("event") or {}
        stored = event.get("type") in deps.event_appliers
        state = await deps.db.run(
            lambda s: events.record_event(
                session=s,
                team_id=team_id,
                event_id=event_id,
                event_type=event.get("type"),
                payload=inbox.kept_payload(event, bot_user_id=req.context.bot_user_id)
                if stored
                else None,
                now=deps.clock(),
                done=not stored,
            )
        )
        if state == "done":
            log.info("skipped a repeated delivery of an event")
            return BoltResponse(status=200, body="")
        # "pending": recorded before, never applied (its handler failed): this retry applies it.
        return await next()

    # Before pair_message: Bolt runs only the first listener that matches an event.
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
    async def pair_message(event: dict, body: dict, context: AsyncBoltContext) -> None:
        await inbox.apply_received(deps, body=body, event=event, context=context)

    @app.event("member_joined_channel")
    async def joined(event: dict, body: dict, context: AsyncBoltContext) -> None:
        if await inbox.apply_received(deps, body=body, event=event, context=context):
            delivery.kick(deps)

    @app.event("app_home_opened")
    async def home_opened(event: dict, body: dict) -> None:
        if event.get("tab") != "home":
            return
        await publish_home(deps, team_id=body["team_id"], user_id=event["user"])


def _apply_pair_message(session, deps: Deps, team_id: str, event: dict, now) -> None:
    """A message in a pair's group DM counts as activity: only that it happened, and when;
    the text is never stored or logged."""
    if event.get("channel_type") != "mpim" or event.get("subtype") not in _PEOPLE_SUBTYPES:
        return
    user_id, channel_id = event.get("user"), event.get("channel")
    if not user_id or not channel_id or event.get("bot_id"):
        return
    pairing.note_activity(session, team_id=team_id, channel_id=channel_id, user_id=user_id, at=now)


def _apply_joined(session, deps: Deps, team_id: str, event: dict, now) -> None:
    """The bot joined the admin channel: the problem is fixed, what waited is due now."""
    settings = program.get_program_settings(session=session, team_id=team_id)
    channel = settings.admin_channel or deps.settings.admin_channel
    if not event.get("from_bot") or event.get("channel") != channel:
        return
    if program.clear_admin_channel_problem(session=session, team_id=team_id):
        outbox.retry_now(session=session, team_id=team_id, kinds=delivery.ADMIN_KINDS, now=now)


async def _in_a_dm_with_the_bot(event: dict) -> bool:
    return event.get("channel_type") == "im"
