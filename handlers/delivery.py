"""Sends what the outbox holds. Slack calls happen outside database transactions."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from bot import cadence
from handlers import blocks
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from storage import outbox, pairs, participants, program, rhythm
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 50
# The gateway already waits out Retry-After within this; past it the row waits for a tick.
CALL_BUDGET_SECONDS = 60.0
MAX_RETRY_DELAY = timedelta(hours=1)


def kick(deps: Deps) -> None:
    """Deliver now instead of waiting for the next tick."""
    deps.spawn(deliver_due(deps))


async def deliver_due(deps: Deps) -> int:
    """Send every due message once; returns how many were sent. One drain at a time."""
    sent = 0
    async with deps.outbox_lock:
        # Sending can decide new messages (an admin alert for a failed intro): drain until empty.
        # Anything that failed was pushed into the future, so this ends.
        while batch := await _due_batch(deps):
            for message in batch:
                sent += await _deliver(deps, message)
    return sent


async def _due_batch(deps: Deps) -> list[OutboxMessage]:
    now = deps.clock()
    return await deps.db.run(lambda s: outbox.due_messages(session=s, now=now, limit=BATCH))


async def _deliver(deps: Deps, message: OutboxMessage) -> int:
    sender = _SENDERS[message.kind]
    now = deps.clock()
    admin_dm_tz = None
    if message.kind == "admin_alert" and message.payload["channel"][:1] in ("U", "W"):
        admin = await deps.user_info(team_id=message.team_id, user_id=message.payload["channel"])
        admin_dm_tz = (admin or {}).get("tz") or "UTC"
    allowed_at = await deps.db.run(lambda s: _allowed_at(s, message, now, admin_dm_tz))
    if allowed_at > now:
        await deps.db.run(
            lambda s: outbox.defer(session=s, message_id=message.id, not_before=allowed_at)
        )
        return 0
    try:
        sent = await sender(deps, message)
    except Exception as exc:
        # A bug in one message must not hold up the rest: it waits and is retried like an outage.
        transient = not isinstance(exc, SlackCallError) or exc.transient
        error = exc.error if isinstance(exc, SlackCallError) else type(exc).__name__
        now = deps.clock()
        if not isinstance(exc, SlackCallError):
            log.exception("sending a %s message raised", message.kind)
        if transient:
            delay = min(MAX_RETRY_DELAY, timedelta(minutes=2**message.attempts))
            await deps.db.run(
                lambda s: outbox.mark_retry(
                    session=s, message_id=message.id, error=error, not_before=now + delay
                )
            )
            log.warning("%s message will be retried: %s", message.kind, error)
            return 0
        await deps.db.run(lambda s: _fail_permanently(s, deps, message, error, now=now))
        log.warning("%s message failed for good: %s", message.kind, error)
        return 0
    if sent is None:
        await deps.db.run(lambda s: outbox.mark_skipped(session=s, message_id=message.id))
        return 0
    channel_id, ts = sent
    await deps.db.run(
        lambda s: outbox.mark_sent(
            session=s, message_id=message.id, channel_id=channel_id, ts=ts, now=deps.clock()
        )
    )
    return 1


def _allowed_at(
    session, message: OutboxMessage, now: datetime, admin_dm_tz: str | None
) -> datetime:
    """Messages to people wait for their working hours; the admin channel hears at once."""
    settings = program.get_program_settings(session=session, team_id=message.team_id)
    if message.kind == "admin_alert":
        if admin_dm_tz is None:
            return now
        return cadence.next_send_time(now, (admin_dm_tz,), leader_tz=admin_dm_tz, settings=settings)
    if message.kind == "fit_survey":
        person = participants.get_participant(
            session=session, team_id=message.team_id, user_id=message.payload["user"]
        )
        tz = person.timezone if person else None
        return cadence.next_send_time(now, (tz,), leader_tz=tz, settings=settings)
    pair = pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id)
    if pair is None:
        return now
    mentor_tz, leader_tz = rhythm.pair_timezones(session=session, pair=pair)
    return cadence.next_send_time(
        now, (mentor_tz, leader_tz), leader_tz=leader_tz, settings=settings
    )


def _fail_permanently(session, deps: Deps, message: OutboxMessage, error: str, *, now) -> None:
    outbox.mark_failed(session=session, message_id=message.id, error=error)
    if message.kind not in ("intro", "admin_alert") and message.pair_id is not None:
        # Slack will not take messages for this pair (a channel or account is gone): stop
        # its rhythm rather than retry forever, and let the admins decide.
        pair = pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id)
        if pair is not None and pair.status == "active":
            rhythm.pause_pair(session=session, pair=pair, reason="delivery_failed", now=now)
            alert_admins(
                session,
                deps,
                team_id=message.team_id,
                key=f"delivery_failed:{pair.id}",
                text=(
                    f"I couldn't reach the pair of <@{pair.mentor_id}> and <@{pair.mentee_id}> "
                    f"(Slack said `{error}`), so I've paused their reminders. "
                    f"`/mentor admin unpair <@{pair.mentor_id}> <@{pair.mentee_id}>` "
                    "returns both to the pool."
                ),
                now=now,
            )
    if message.kind == "intro" and message.pair_id is not None:
        pair = pairs.mark_intro_failed(session=session, pair_id=message.pair_id, now=now)
        if pair is not None:
            alert_admins(
                session,
                deps,
                team_id=message.team_id,
                key=f"intro_failed:{pair.id}",
                text=(
                    f"I couldn't introduce <@{pair.mentor_id}> and <@{pair.mentee_id}> "
                    f"(Slack said `{error}`). They stay paired but on hold; "
                    f"`/mentor admin unpair <@{pair.mentor_id}> <@{pair.mentee_id}>` "
                    "returns both to the pool."
                ),
                now=now,
            )


def alert_admins(session, deps: Deps, *, team_id: str, key: str, text: str, now) -> None:
    """Decide to tell the admins: in the admin channel, else a DM to each configured admin."""
    settings = deps.settings
    recipients = [settings.admin_channel] if settings.admin_channel else sorted(settings.admins)
    if not recipients:
        log.warning("no MENTOR_ADMIN_CHANNEL or MENTOR_ADMINS: an admin alert has nowhere to go")
    for recipient in recipients:
        outbox.enqueue(
            session=session,
            team_id=team_id,
            key=f"{key}:{recipient}",
            kind="admin_alert",
            payload={"channel": recipient, "text": text},
            now=now,
        )


async def _send_intro(deps: Deps, message: OutboxMessage) -> tuple[str, str] | None:
    def load(session):
        pair = pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id)
        if pair is None:
            return None, None, None
        mentor = participants.get_participant(
            session=session, team_id=message.team_id, user_id=pair.mentor_id
        )
        mentee = participants.get_participant(
            session=session, team_id=message.team_id, user_id=pair.mentee_id
        )
        return pair, mentor, mentee

    pair, mentor, mentee = await deps.db.run(load)
    if pair is None or pair.status == "ended" or mentor is None or mentee is None:
        return None  # ended before we got to it: nothing to introduce
    channel_id = pair.dm_channel_id
    if channel_id is None:
        opened = await deps.slack.call(
            "conversations.open",
            users=f"{pair.mentor_id},{pair.mentee_id}",
            budget=CALL_BUDGET_SECONDS,
        )
        channel_id = opened["channel"]["id"]
        await deps.db.run(
            lambda s: pairs.remember_channel(
                session=s, pair_id=pair.id, channel_id=channel_id, now=deps.clock()
            )
        )
    posted = await deps.slack.call(
        "chat.postMessage",
        channel=channel_id,
        text=f"Meet your reverse-mentoring pair: <@{pair.mentor_id}> and <@{pair.mentee_id}>",
        blocks=blocks.intro_blocks(pair, mentor=mentor, mentee=mentee),
        unfurl_links=False,
        budget=CALL_BUDGET_SECONDS,
    )
    ts = posted.get("ts")

    def introduced(session) -> None:
        now = deps.clock()
        live = pairs.mark_introduced(
            session=session, pair_id=pair.id, channel_id=channel_id, ts=ts, now=now
        )
        if live is not None:
            settings = program.get_program_settings(session=session, team_id=live.team_id)
            rhythm.start_rhythm(session=session, pair=live, settings=settings, now=now)

    await deps.db.run(introduced)
    return channel_id, ts


async def _send_to_pair(deps: Deps, message: OutboxMessage) -> tuple[str, str] | None:
    pair = await deps.db.run(
        lambda s: pairs.get_pair(session=s, team_id=message.team_id, pair_id=message.pair_id)
    )
    if pair is None or pair.dm_channel_id is None:
        return None
    if message.kind in _RHYTHM_KINDS and pair.status != "active":
        return None  # paused or ended since this was decided: a paused pair gets nothing
    text, content = _render_for_pair(deps, message, pair)
    posted = await deps.slack.call(
        "chat.postMessage",
        channel=pair.dm_channel_id,
        text=text,
        blocks=content,
        budget=CALL_BUDGET_SECONDS,
    )
    return pair.dm_channel_id, posted.get("ts")


_RHYTHM_KINDS = frozenset({"prompt", "checkin", "nudge", "session_set"})


def _render_for_pair(deps: Deps, message: OutboxMessage, pair) -> tuple[str, list]:
    payload = message.payload
    session_day = date.fromisoformat(payload["session"]) if "session" in payload else None
    match message.kind:
        case "prompt":
            prompt = next((p for p in deps.prompts if p.id == payload["prompt"]), None)
            if prompt is None:  # removed from the library since: any other will do
                prompt = deps.prompts[pair.id % len(deps.prompts)]
            return blocks.prompt_blocks(prompt, session_day=session_day)
        case "checkin":
            return blocks.checkin_blocks(pair, session_day=session_day)
        case "nudge":
            return blocks.nudge_blocks(pair, days=payload["days"])
        case _:
            return blocks.pair_message(message.kind, pair, payload)


async def _send_fit_survey(deps: Deps, message: OutboxMessage) -> tuple[str, str] | None:
    pair = await deps.db.run(
        lambda s: pairs.get_pair(session=s, team_id=message.team_id, pair_id=message.pair_id)
    )
    if pair is None or pair.status == "ended":
        return None
    user_id = message.payload["user"]
    text, content = blocks.fit_survey_blocks(pair, user_id=user_id)
    posted = await deps.slack.call(
        "chat.postMessage", channel=user_id, text=text, blocks=content, budget=CALL_BUDGET_SECONDS
    )
    return posted.get("channel"), posted.get("ts")


async def _send_admin_alert(deps: Deps, message: OutboxMessage) -> tuple[str, str] | None:
    channel = message.payload["channel"]
    posted = await deps.slack.call(
        "chat.postMessage",
        channel=channel,
        text=message.payload["text"],
        unfurl_links=False,
        budget=CALL_BUDGET_SECONDS,
    )
    return posted.get("channel", channel), posted.get("ts")


_SENDERS = {
    "intro": _send_intro,
    "pair_ended": _send_to_pair,
    "session_set": _send_to_pair,
    "prompt": _send_to_pair,
    "checkin": _send_to_pair,
    "nudge": _send_to_pair,
    "fit_survey": _send_fit_survey,
    "admin_alert": _send_admin_alert,
}
