"""Sends what the outbox holds. Slack calls happen outside database transactions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot import cadence
from handlers import blocks
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from storage import outbox, pairs, participants, program, rhythm
from storage.models import OutboxMessage, Pair

log = logging.getLogger(__name__)

BATCH = 50
# The gateway already waits out Retry-After within this; past it the row waits for a tick.
CALL_BUDGET_SECONDS = 60.0
MAX_RETRY_DELAY = timedelta(hours=1)
METADATA_EVENT = "reverse_mentor_message"
_MAYBE_POSTED = frozenset({"timeout", "connection_error", "internal_error", "fatal_error"})


def kick(deps: Deps) -> None:
    """Deliver now instead of waiting for the next tick."""
    deps.spawn(deliver_due(deps))


async def deliver_due(deps: Deps) -> int:
    """Send every due message once; returns how many were sent. One drain at a time."""
    sent = 0
    async with deps.outbox_lock:
        await _settle_in_doubt(deps)
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
        draft = await _draft(deps, message)
        if draft is None:
            await deps.db.run(lambda s: outbox.mark_skipped(session=s, message_id=message.id))
            return 0
        await deps.db.run(
            lambda s: outbox.mark_sending(
                session=s, message_id=message.id, channel_id=draft.channel
            )
        )
        posted = await deps.slack.call(
            "chat.postMessage",
            channel=draft.channel,
            text=draft.text,
            blocks=draft.blocks,
            metadata=metadata_for(message),
            unfurl_links=False,
            budget=CALL_BUDGET_SECONDS,
        )
    except Exception as exc:
        await _failed(deps, message, exc)
        return 0
    ts = posted.get("ts")
    await deps.db.run(lambda s: _after_sent(s, deps, message, draft.channel, ts, deps.clock()))
    await _follow_up(deps, message, draft.channel, ts)
    return 1


async def _follow_up(deps: Deps, message: OutboxMessage, channel: str, ts: str) -> None:
    kind = deps.outbox_kinds.get(message.kind)
    if kind is None or kind.follow_up is None:
        return
    try:
        await kind.follow_up(deps, message, channel, ts)
    except Exception:
        # The message itself went out; a missing extra (say, a seeded reaction) is logged.
        log.exception("follow-up of a %s message failed", message.kind)


async def _failed(deps: Deps, message: OutboxMessage, exc: Exception) -> None:
    if not isinstance(exc, SlackCallError):
        # A bug in one message must not hold up the rest: it waits and is retried.
        log.exception("sending a %s message raised", message.kind)
    error = exc.error if isinstance(exc, SlackCallError) else type(exc).__name__
    now = deps.clock()
    if isinstance(exc, SlackCallError) and not exc.transient:
        await deps.db.run(lambda s: _fail_permanently(s, deps, message, error, now=now))
        log.warning("%s message failed for good: %s", message.kind, error)
        return
    delay = min(MAX_RETRY_DELAY, timedelta(minutes=2**message.attempts))
    # A timeout or a 5xx may still have posted it: such a row stays "sending" and is
    # checked against the channel before any resend. A 429 or a refusal did not post.
    doubt = error in _MAYBE_POSTED or error.startswith("http_5")
    await deps.db.run(
        lambda s: outbox.mark_retry(
            session=s, message_id=message.id, error=error, not_before=now + delay, in_doubt=doubt
        )
    )
    log.warning("%s message will be retried: %s", message.kind, error)


def _allowed_at(
    session, message: OutboxMessage, now: datetime, admin_dm_tz: str | None
) -> datetime:
    """Messages to people wait for their working hours; the admin channel hears at once."""
    settings = program.get_program_settings(session=session, team_id=message.team_id)
    if message.kind == "admin_alert":
        if admin_dm_tz is None:
            return now
        return cadence.next_send_time(now, (admin_dm_tz,), leader_tz=admin_dm_tz, settings=settings)
    if "user" in message.payload:  # a private message to one person
        person = participants.get_participant(
            session=session, team_id=message.team_id, user_id=message.payload["user"]
        )
        tz = person.timezone if person else None
        return cadence.next_send_time(now, (tz,), leader_tz=tz, settings=settings)
    if message.pair_id is None:  # workspace-wide (the admin summary): a channel, at once
        return now
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
    channel = program.get_program_settings(session=session, team_id=team_id).admin_channel
    channel = channel or settings.admin_channel
    recipients = [channel] if channel else sorted(settings.admins)
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


@dataclass(frozen=True)
class Draft:
    """What a message says and where it goes."""

    channel: str
    text: str
    blocks: list | None = None


@dataclass(frozen=True)
class Kind:
    """How a feature's own outbox kind is drafted and what follows its sending.

    `draft(deps, message)` returns a Draft or None (moot); `after_sent(session, message,
    channel, ts, now)` runs in the transaction that records the send (also when a crash
    check finds the message went out); `follow_up(deps, message, channel, ts)` runs after,
    outside any transaction (e.g. seeding reactions), and must be safe to repeat."""

    draft: Callable[[Deps, OutboxMessage], Awaitable[Draft | None]]
    after_sent: Callable[..., None] | None = None
    follow_up: Callable[[Deps, OutboxMessage, str, str], Awaitable[None]] | None = None


def register_kind(deps: Deps, name: str, kind: Kind) -> None:
    """Called from a listener package's register(): its messages go through this outbox."""
    deps.outbox_kinds[name] = kind


async def _draft(deps: Deps, message: OutboxMessage) -> Draft | None:
    """What to post where; None when the message has become moot (nothing is sent)."""
    if message.kind in deps.outbox_kinds:
        return await deps.outbox_kinds[message.kind].draft(deps, message)
    if message.kind == "admin_alert":
        channel = await open_if_person(deps, message.payload["channel"])
        return Draft(channel=channel, text=message.payload["text"])
    pair = await deps.db.run(
        lambda s: pairs.get_pair(session=s, team_id=message.team_id, pair_id=message.pair_id)
    )
    if pair is None:
        return None
    if message.kind == "fit_survey":
        if pair.status == "ended":
            return None
        user_id = message.payload["user"]
        text, content = blocks.fit_survey_blocks(pair, user_id=user_id)
        return Draft(channel=await open_if_person(deps, user_id), text=text, blocks=content)
    if message.kind == "intro":
        return await _draft_intro(deps, pair)
    if pair.dm_channel_id is None:
        return None  # never introduced: nothing to follow up on
    if message.kind in _RHYTHM_KINDS and pair.status != "active":
        return None  # paused or ended since this was decided: a paused pair gets nothing
    text, content = _render_for_pair(deps, message, pair)
    return Draft(channel=pair.dm_channel_id, text=text, blocks=content)


async def open_if_person(deps: Deps, channel: str) -> str:
    """A person's DM channel, opened first so the outbox knows where to look after a crash."""
    if channel[:1] not in ("U", "W"):
        return channel
    opened = await deps.slack.call("conversations.open", users=channel, budget=CALL_BUDGET_SECONDS)
    return opened["channel"]["id"]


async def _draft_intro(deps: Deps, pair: Pair) -> Draft | None:
    def load(session):
        mentor = participants.get_participant(
            session=session, team_id=pair.team_id, user_id=pair.mentor_id
        )
        mentee = participants.get_participant(
            session=session, team_id=pair.team_id, user_id=pair.mentee_id
        )
        return mentor, mentee

    mentor, mentee = await deps.db.run(load)
    if pair.status == "ended" or mentor is None or mentee is None:
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
    return Draft(
        channel=channel_id,
        text=f"Meet your reverse-mentoring pair: <@{pair.mentor_id}> and <@{pair.mentee_id}>",
        blocks=blocks.intro_blocks(pair, mentor=mentor, mentee=mentee),
    )


def _after_sent(
    session, deps: Deps, message: OutboxMessage, channel: str, ts: str, now: datetime
) -> None:
    """Bookkeeping that belongs to a message having gone out (also after a crash check)."""
    outbox.mark_sent(session=session, message_id=message.id, channel_id=channel, ts=ts, now=now)
    kind = deps.outbox_kinds.get(message.kind)
    if kind is not None and kind.after_sent is not None:
        kind.after_sent(session, message, channel, ts, now)
    if message.kind == "intro" and message.pair_id is not None:
        live = pairs.mark_introduced(
            session=session, pair_id=message.pair_id, channel_id=channel, ts=ts, now=now
        )
        if live is not None:
            settings = program.get_program_settings(session=session, team_id=live.team_id)
            rhythm.start_rhythm(session=session, pair=live, settings=settings, now=now)


_RHYTHM_KINDS = frozenset({"prompt", "checkin", "nudge", "session_set"})


def _render_for_pair(deps: Deps, message: OutboxMessage, pair: Pair) -> tuple[str, list]:
    payload = message.payload
    session_day = date.fromisoformat(payload["session"]) if "session" in payload else None
    match message.kind:
        case "prompt":
            prompt = next((p for p in deps.prompts if p.id == payload["prompt"]), None)
            if prompt is None:  # removed from the library since: any other will do
                prompt = deps.prompts[(pair.id or 0) % len(deps.prompts)]
            return blocks.prompt_blocks(prompt, session_day=session_day)
        case "checkin":
            return blocks.checkin_blocks(pair, session_day=session_day)
        case "nudge":
            return blocks.nudge_blocks(pair, days=payload["days"])
        case _:
            return blocks.pair_message(message.kind, pair, payload)


def metadata_for(message: OutboxMessage) -> dict:
    """Slack keeps this with the message, so after a crash we can ask whether it went out."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_key": message.key}}


async def _settle_in_doubt(deps: Deps) -> None:
    """Messages we were posting when the process died: look in the channel before resending."""
    doubtful = await deps.db.run(lambda s: outbox.in_doubt(session=s, now=deps.clock()))
    for message in doubtful:
        try:
            found = await _find_posted(deps, message)
        except SlackCallError as exc:
            log.warning("could not check a %s message after a crash: %s", message.kind, exc.error)
            continue  # still in doubt; the next drain asks again
        if found is not None:
            await deps.db.run(
                lambda s, m=message, ts=found: _after_sent(
                    s, deps, m, m.channel_id, ts, deps.clock()
                )
            )
            await _follow_up(deps, message, message.channel_id, found)
        else:
            await deps.db.run(
                lambda s, m=message: outbox.back_to_pending(session=s, message_id=m.id)
            )


async def _find_posted(deps: Deps, message: OutboxMessage) -> str | None:
    oldest = message.created_at.timestamp() - 60
    history = await deps.slack.call(
        "conversations.history",
        channel=message.channel_id,
        oldest=f"{oldest:.6f}",
        include_all_metadata=True,
        limit=200,
        budget=CALL_BUDGET_SECONDS,
    )
    for posted in history.get("messages") or []:
        payload = (posted.get("metadata") or {}).get("event_payload") or {}
        if payload.get("outbox_key") == message.key:
            return posted.get("ts")
    return None
