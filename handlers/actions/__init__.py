"""Button presses: from the App Home tab and from ephemeral command replies."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.profiles import Status
from handlers import delivery, pairing
from handlers.blocks import Actions
from handlers.deps import Deps
from handlers.home import publish_home
from handlers.views import open_signup_form
from storage import outbox, pairs, participants

log = logging.getLogger(__name__)


def _ids(body: dict) -> tuple[str, str]:
    return body["team"]["id"], body["user"]["id"]


def _channel_of(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _from_message(body: dict) -> bool:
    return (body.get("container") or {}).get("type") == "message" and "response_url" in body


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(Actions.OPEN_SIGNUP)
    async def open_signup(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        await open_signup_form(
            deps, team_id=team_id, user_id=user_id, trigger_id=body["trigger_id"]
        )

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

    @app.action(Actions.PAUSE_KEEP_PAIR)
    @app.action(Actions.PAUSE_RELEASE_PAIR)
    async def pause_from_choice(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        release = action["action_id"] == Actions.PAUSE_RELEASE_PAIR

        def pause(session) -> None:
            now = deps.clock()
            if release:
                pairing.end_pairs_of(
                    session, team_id=team_id, user_id=user_id, reason="participant_paused", now=now
                )
            participants.set_status(
                session=session, team_id=team_id, user_id=user_id, status=Status.PAUSED, now=now
            )

        await deps.db.run(pause)
        text = (
            "Paused, and your partner will be matched with someone new. "
            "Run `/mentor resume` when you're ready to be matched again."
            if release
            else "Paused. Your pair stays; run `/mentor resume` when you're back."
        )
        if _from_message(body):
            await deps.slack.respond(body["response_url"], replace_original=True, text=text)
        if release:
            delivery.kick(deps)
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(Actions.LEAVE_CONFIRM)
    async def leave(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)

        def leave_and_free_partners(session):
            now = deps.clock()
            pairing.end_pairs_of(
                session, team_id=team_id, user_id=user_id, reason="participant_left", now=now
            )
            participants.leave_program(session=session, team_id=team_id, user_id=user_id, now=now)

        await deps.db.run(leave_and_free_partners)
        log.info("participant left the program")
        delivery.kick(deps)
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

    @app.action(Actions.PICK_SESSION_DATE)
    async def pick_session_date(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        channel_id = _channel_of(body)
        picked = _parse_date(action.get("selected_date"))
        today = deps.clock().date()
        if picked is None or picked < today:
            await _tell(deps, body, "Pick a date from today onwards for your session.")
            return

        def set_date(session) -> bool:
            pair = _pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel_id)
            if pair is None:
                return False
            now = deps.clock()
            pairs.set_next_session(session=session, pair=pair, on=picked, now=now)
            outbox.enqueue(
                session=session,
                team_id=team_id,
                key=f"session_set:{pair.id}:{picked.isoformat()}",
                kind="session_set",
                pair_id=pair.id,
                payload={"date": picked.isoformat()},
                now=now,
            )
            return True

        if await deps.db.run(set_date):
            delivery.kick(deps)
        else:
            await _tell(deps, body, "Only the two people in this pair can set its sessions.")

    @app.action(Actions.REQUEST_REMATCH)
    async def request_rematch(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        channel_id = _channel_of(body)

        def end(session) -> bool:
            pair = _pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel_id)
            if pair is None:
                return False
            now = deps.clock()
            pairs.end_pair(session=session, pair=pair, reason="rematch_requested", now=now)
            delivery.alert_admins(
                session,
                deps,
                team_id=team_id,
                key=f"rematch:{pair.id}",
                text=f"The pair of <@{pair.mentor_id}> and <@{pair.mentee_id}> asked for a "
                "different match. Both are back in the pool for the next `/mentor admin match`.",
                now=now,
            )
            return True

        if await deps.db.run(end):
            await _tell(deps, body, "Done: you're back in the pool and we'll find you a new match.")
            delivery.kick(deps)
        else:
            await _tell(deps, body, "This pairing has already ended.")


def _parse_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _pair_in_channel(session, *, team_id: str, user_id: str, channel: str | None):
    """The live pair whose group DM this is, if the clicker belongs to it."""
    for pair in pairs.live_pairs_of(session=session, team_id=team_id, user_id=user_id):
        if channel is not None and pair.dm_channel_id == channel:
            return pair
    return None


async def _tell(deps: Deps, body: dict, text: str) -> None:
    """An ephemeral note to whoever clicked, in the conversation they clicked in."""
    if "response_url" in body:
        await deps.slack.respond(
            body["response_url"], response_type="ephemeral", replace_original=False, text=text
        )
