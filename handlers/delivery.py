"""Sends what the outbox holds. Slack calls happen outside database transactions.

Each message goes: stale? (dropped) -> quiet hours? (later) -> claimed (one sender, with a
lease) -> drafted -> its channel recorded -> posted (or its file shared) -> recorded as sent.
A sender that died or timed out leaves the row "sending": once the lease is over, the next
drain looks for it in the channel's history before sending it again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk.errors import SlackObjectFormationError
from sqlmodel import Session

from bot import cadence
from bot.admin_channel import INVITE
from handlers import blocks
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from storage import outbox, pairs, participants, program, rhythm
from storage.models import OutboxMessage, Pair

log = logging.getLogger(__name__)

BATCH = 50
# A claim lasts this long; every call made under it has a budget well inside it, so a
# sender never posts after another process may have taken its row over.
LEASE = timedelta(minutes=2)
CALL_BUDGET_SECONDS = 60.0
# conversations.history may be paced at one call a minute: one wait fits in this budget.
HISTORY_BUDGET_SECONDS = 90.0
HISTORY_PAGE = 15  # what Slack returns per page to apps outside the Marketplace
HISTORY_MAX_PAGES = 100
MAX_RETRY_DELAY = timedelta(hours=1)
HELD_RETRY_DELAY = timedelta(minutes=10)  # the admin channel is broken until an admin acts
BUG_ATTEMPTS = 8  # an exception of ours (not Slack's answer) this often: the message fails
METADATA_EVENT = "reverse_mentor_message"
_MAYBE_POSTED = frozenset({"timeout", "connection_error", "internal_error", "fatal_error"})
# Slack refuses the message itself: the same payload can never be accepted.
PAYLOAD_ERRORS = frozenset(
    {
        "invalid_payload",
        "invalid_blocks",
        "invalid_arguments",
        "invalid_attachments",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
    }
)
# The admin channel cannot take posts until an admin fixes it (invites the bot, picks
# another channel): such messages wait, and the admins are told how to fix it.
ADMIN_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
ADMIN_KINDS = ("admin_alert", "admin_summary", "summary_chart")  # what waits for that channel


def kick(deps: Deps) -> None:
    """Deliver now instead of waiting for the next tick."""
    deps.spawn(deliver_due(deps))


async def deliver_due(deps: Deps) -> int:
    """Send every due message once; returns how many were sent. One drain at a time per
    process (an optimisation: the claim is what makes each row go out once)."""
    sent = 0
    dropped: Counter[str] = Counter()
    async with deps.outbox_lock:
        await _settle_in_doubt(deps)
        # Sending can decide new messages (an admin alert for a failed intro): drain until empty.
        # Anything that failed was pushed into the future, so this ends.
        while batch := await _due_batch(deps):
            for message in batch:
                sent += await _deliver(deps, message, dropped)
    if dropped:
        shown = ", ".join(f"{n} {kind}" for kind, n in sorted(dropped.items()))
        log.info(
            "dropped %d stale messages instead of sending them late: %s", dropped.total(), shown
        )
    return sent


async def send_now(deps: Deps, *, team_id: str, key: str, kind: str, payload: dict) -> str:
    """Decide a message and send it at once (someone is waiting for it), through the outbox
    like any other; returns its status ("sent", or still "pending"/"sending" when Slack was
    slow and the outbox will finish the job, or "failed")."""
    await deps.db.run(
        lambda s: outbox.enqueue(
            session=s, team_id=team_id, key=key, kind=kind, payload=payload, now=deps.clock()
        )
    )
    return await deliver_now(deps, team_id=team_id, key=key)


async def deliver_now(deps: Deps, *, team_id: str, key: str) -> str:
    """Send one decided message at once (an admin waiting for it); returns its status."""
    message = await deps.db.run(lambda s: outbox.get_message(session=s, team_id=team_id, key=key))
    if message is None:
        return "missing"
    if message.status == "pending":
        await _deliver(deps, message, Counter())
    after = await deps.db.run(lambda s: outbox.get_message(session=s, team_id=team_id, key=key))
    return after.status if after is not None else "missing"


async def _due_batch(deps: Deps) -> list[OutboxMessage]:
    now = deps.clock()
    return await deps.db.run(lambda s: outbox.due_messages(session=s, now=now, limit=BATCH))


# --- one message ------------------------------------------------------------------------------


async def _deliver(deps: Deps, message: OutboxMessage, dropped: Counter[str]) -> int:
    now = deps.clock()
    admin_dm_tz = None
    if message.kind == "admin_alert" and message.payload["channel"][:1] in ("U", "W"):
        admin = await deps.user_info(team_id=message.team_id, user_id=message.payload["channel"])
        admin_dm_tz = (admin or {}).get("tz") or "UTC"
    verdict = await deps.db.run(lambda s: _claim(s, deps, message, now, admin_dm_tz))
    if verdict == "expired":
        dropped[message.kind] += 1
    if verdict != "claimed":
        return 0
    channel: str | None = None
    try:
        draft = await _draft(deps, message)
        if draft is None:
            await deps.db.run(
                lambda s: outbox.mark_skipped(
                    session=s, message_id=message.id, claimant=deps.instance_id
                )
            )
            return 0
        channel = draft.channel
        if draft.file is not None:
            ts = await _share_file(deps, message, draft)
        else:
            ts = await _post(deps, message, draft)
    except Exception as exc:
        await _failed(deps, message, exc, channel=channel)
        return 0
    if ts is None:
        return 0  # the claim was lost before sending: someone else has the row now
    recorded = await deps.db.run(
        lambda s: _after_sent(s, deps, message, draft.channel, ts, deps.clock())
    )
    if recorded:
        await _follow_up(deps, message, draft.channel, ts)
    return 1


def _claim(
    session: Session, deps: Deps, message: OutboxMessage, now: datetime, admin_dm_tz: str | None
) -> str:
    """In one transaction: drop it if stale, defer it to working hours, or claim it."""
    reason = stale_reason(session, deps, message, now)
    if reason is not None:
        if outbox.expire(session=session, message_id=message.id, reason=reason):
            kind = deps.outbox_kinds.get(message.kind)
            if kind is not None and kind.on_expired is not None:
                kind.on_expired(session, message)
            return "expired"
        return "taken"
    allowed_at = _allowed_at(session, message, now, admin_dm_tz)
    if allowed_at > now:
        outbox.defer(session=session, message_id=message.id, not_before=allowed_at)
        return "later"
    claimed = outbox.claim(
        session=session, message_id=message.id, claimant=deps.instance_id, now=now, lease=LEASE
    )
    return "claimed" if claimed else "taken"


async def _start_sending(
    deps: Deps, message: OutboxMessage, channel: str, file_id: str | None = None
) -> bool:
    """Record where it goes (for the crash check) and renew the claim; False: claim lost."""
    started = await deps.db.run(
        lambda s: outbox.start_sending(
            session=s,
            message_id=message.id,
            claimant=deps.instance_id,
            channel_id=channel,
            now=deps.clock(),
            lease=LEASE,
            file_id=file_id,
        )
    )
    if not started:
        log.warning("a %s message was not sent: its claim ran out first", message.kind)
    return started


async def _post(deps: Deps, message: OutboxMessage, draft: Draft) -> str | None:
    if not await _start_sending(deps, message, draft.channel):
        return None
    posted = await deps.slack.call(
        "chat.postMessage",
        channel=draft.channel,
        text=draft.text,
        blocks=draft.blocks,
        metadata=metadata_for(message),
        unfurl_links=False,
        budget=CALL_BUDGET_SECONDS,
    )
    return posted.get("ts") or ""


async def _share_file(deps: Deps, message: OutboxMessage, draft: Draft) -> str | None:
    """Files v2: get an upload URL, POST the bytes, then complete it into the channel. Only
    the last step shares it, and it is never repeated blindly: a timeout leaves the row in
    doubt, and the channel's history is checked for the file before any new attempt."""
    data = draft.file or b""
    step = "getting an upload URL"
    try:
        ticket = await deps.slack.call(
            "files.getUploadURLExternal",
            filename=draft.filename,
            length=len(data),
            budget=CALL_BUDGET_SECONDS,
        )
        step = "uploading"
        await deps.slack.upload(ticket["upload_url"], data, budget=CALL_BUDGET_SECONDS)
        if not await _start_sending(deps, message, draft.channel, file_id=ticket["file_id"]):
            return None
        step = "completing the upload"
        extra = {"initial_comment": draft.text} if draft.text else {}
        await deps.slack.call(
            "files.completeUploadExternal",
            files=[{"id": ticket["file_id"], "title": draft.title or draft.filename}],
            channel_id=draft.channel,
            budget=CALL_BUDGET_SECONDS,
            **extra,
        )
    except (SlackCallError, KeyError, TypeError) as exc:
        error = exc.error if isinstance(exc, SlackCallError) else type(exc).__name__
        log.warning("file upload failed at %s: %s", step, error)
        raise
    return ""


async def _follow_up(deps: Deps, message: OutboxMessage, channel: str, ts: str) -> None:
    kind = deps.outbox_kinds.get(message.kind)
    if kind is None or kind.follow_up is None:
        return
    try:
        await kind.follow_up(deps, message, channel, ts)
    except Exception:
        # The message itself went out; a missing extra (say, a seeded reaction) is logged.
        log.exception("follow-up of a %s message failed", message.kind)


# --- when it fails ----------------------------------------------------------------------------


async def _failed(deps: Deps, message: OutboxMessage, exc: Exception, *, channel: str | None):
    now = deps.clock()
    if isinstance(exc, SlackObjectFormationError):
        # slack_sdk refused to build it (a text over a Block Kit limit): it never will.
        log.warning("a %s message could not be built for Slack: %s", message.kind, exc)
        error, permanent = "invalid_payload", True
    elif isinstance(exc, SlackCallError):
        error, permanent = exc.error, not exc.transient
    else:
        # A bug in one message must not hold up the rest: it waits and is retried, a few times.
        log.exception("sending a %s message raised", message.kind)
        error = type(exc).__name__
        permanent = message.attempts + 1 >= BUG_ATTEMPTS
    content = error in PAYLOAD_ERRORS or not isinstance(exc, SlackCallError)
    if permanent and error in ADMIN_CHANNEL_ERRORS and _to_admin_channel(deps, message, channel):
        await deps.db.run(lambda s: _hold_for_admin_channel(s, deps, message, error, channel, now))
        log.warning("the admin channel refused a %s message: %s", message.kind, error)
        return
    if permanent:
        await deps.db.run(
            lambda s: _fail_permanently(s, deps, message, error, content=content, now=now)
        )
        log.warning("%s message failed for good: %s", message.kind, error)
        return
    delay = min(MAX_RETRY_DELAY, timedelta(minutes=2**message.attempts))
    # A timeout or a 5xx may still have posted it: such a row stays "sending" and is
    # checked against the channel before any resend. A 429 or a refusal did not post.
    doubt = error in _MAYBE_POSTED or error.startswith("http_5")
    await deps.db.run(
        lambda s: outbox.mark_retry(
            session=s,
            message_id=message.id,
            claimant=deps.instance_id,
            error=error,
            not_before=now + delay,
            in_doubt=doubt,
        )
    )
    log.warning("%s message will be retried: %s", message.kind, error)


def _to_admin_channel(deps: Deps, message: OutboxMessage, channel: str | None) -> bool:
    kind = deps.outbox_kinds.get(message.kind)
    if kind is not None and kind.to_admin_channel:
        return True
    return message.kind == "admin_alert" and message.payload["channel"][:1] not in ("U", "W")


def _hold_for_admin_channel(
    session: Session, deps: Deps, message: OutboxMessage, error: str, channel, now: datetime
) -> None:
    """Keep the message until the channel works again, and tell the admins how to fix it
    (once per problem, in a DM, and on their Home tab)."""
    held = min(MAX_RETRY_DELAY, HELD_RETRY_DELAY * 2 ** min(message.attempts, 4))
    outbox.mark_retry(
        session=session,
        message_id=message.id,
        claimant=deps.instance_id,
        error=error,
        not_before=now + held,
    )
    settings = program.get_program_settings(session=session, team_id=message.team_id)
    channel = channel or settings.admin_channel or deps.settings.admin_channel or "?"
    if not program.note_admin_channel_problem(
        session=session, team_id=message.team_id, problem=error, now=now
    ):
        return  # already known and told
    text = admin_channel_fix(channel, error)
    recipients = admin_people(session, deps, team_id=message.team_id)
    if not recipients:
        log.warning("the admin channel is broken and no admin is known to tell (MENTOR_ADMINS)")
    for admin in recipients:
        outbox.enqueue(
            session=session,
            team_id=message.team_id,
            key=f"admin_channel:{channel}:{error}:{now.isoformat()}:{admin}",
            kind="admin_alert",
            payload={"channel": admin, "text": text},
            now=now,
        )


def admin_channel_fix(channel: str, error: str) -> str:
    """What an admin reads when the bot cannot post in the admin channel, and what to do."""
    if error == "is_archived":
        fix = (
            "It has been archived: unarchive it, or choose another private channel in "
            "`/mentor admin settings`."
        )
    else:
        fix = (
            f"Invite me with `{INVITE}` in <#{channel}>, or choose another "
            "private channel in `/mentor admin settings`."
        )
    return (
        f":warning: I can't post in the admin channel <#{channel}> (Slack says `{error}`). "
        f"{fix} Summaries and alerts wait until then; nothing is lost."
    )


def admin_people(session: Session, deps: Deps, *, team_id: str) -> list[str]:
    """Admins the bot can write to directly: MENTOR_ADMINS and whoever last saved the
    workspace's settings."""
    people = set(deps.settings.admins)
    saved_by = program.settings_saved_by(session=session, team_id=team_id)
    if saved_by:
        people.add(saved_by)
    return sorted(people)


def _fail_permanently(
    session, deps: Deps, message: OutboxMessage, error: str, *, content: bool, now
) -> None:
    """Mark it failed and tell the admins what they can do. `content`: the message itself
    can never be sent (Slack refuses what we wrote, or building it keeps failing)."""
    if not outbox.mark_failed(
        session=session, message_id=message.id, claimant=deps.instance_id, error=error
    ):
        return
    kind = deps.outbox_kinds.get(message.kind)
    if message.kind == "admin_alert" or (kind is not None and not kind.alert_on_failure):
        return
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
        return
    if content:
        alert_admins(
            session,
            deps,
            team_id=message.team_id,
            key=f"unsendable:{message.id}",
            text=(
                f"A {message.kind.replace('_', ' ')} message could not be sent: Slack can't "
                f"accept what the bot wrote (`{error}`), so it was dropped rather than retried. "
                "The bot's log says which part; please report it."
            ),
            now=now,
        )
        return
    if message.pair_id is not None:
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


def alert_admins(session, deps: Deps, *, team_id: str, key: str, text: str, now) -> None:
    """Decide to tell the admins: in the admin channel, else a DM to each known admin."""
    channel = program.get_program_settings(session=session, team_id=team_id).admin_channel
    channel = channel or deps.settings.admin_channel
    recipients = [channel] if channel else admin_people(session, deps, team_id=team_id)
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


# --- quiet hours and staleness ----------------------------------------------------------------


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


# How long each built-in kind stays worth sending after it was decided (None: always).
VALID_FOR: dict[str, timedelta | None] = {
    "intro": None,  # moot only if the pair ends first
    "prompt": None,  # stale once its session's day is over (below)
    "checkin": timedelta(days=14),
    "nudge": timedelta(days=7),
    "session_set": timedelta(days=7),
    "pair_ended": timedelta(days=14),
    "fit_survey": timedelta(days=14),
    "admin_alert": timedelta(days=7),
}


def stale_reason(session: Session, deps: Deps, message: OutboxMessage, now: datetime) -> str | None:
    """Why a message is no longer worth sending (it would arrive late or untrue), or None."""
    kind = deps.outbox_kinds.get(message.kind)
    valid_for = kind.valid_for if kind is not None else VALID_FOR.get(message.kind)
    if valid_for is not None and now - message.created_at > valid_for:
        return f"older than {valid_for.days or 1} days"
    if kind is not None:
        return kind.stale(session, message, now) if kind.stale is not None else None
    if message.pair_id is None or message.kind not in _PAIR_STALENESS:
        return None
    pair = pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id)
    if pair is None:
        return None  # moot, not stale: the draft skips it
    return _PAIR_STALENESS[message.kind](session, message, pair, now)


def _prompt_stale(session: Session, message: OutboxMessage, pair: Pair, now: datetime):
    day = date.fromisoformat(message.payload["session"])
    if pair.next_session_on != day:
        return "its session was moved"
    settings = program.get_program_settings(session=session, team_id=pair.team_id)
    leader_tz = rhythm.leader_timezone(session=session, pair=pair)
    if now >= cadence.session_over(day, leader_tz, settings):
        return "its session has passed"  # on the day itself it still helps
    return None


def _checkin_stale(session: Session, message: OutboxMessage, pair: Pair, now: datetime):
    day = date.fromisoformat(message.payload["session"])
    if rhythm.session_logged_since(session=session, pair_id=pair.id or 0, day=day):
        return "the session was logged"
    prefix = f"checkin:{pair.id}:"
    if outbox.has_later_key(
        session=session, team_id=message.team_id, key=message.key, prefix=prefix
    ):
        return "a later check-in replaces it"
    return None


def _nudge_stale(session: Session, message: OutboxMessage, pair: Pair, now: datetime):
    if pair.last_activity_at is not None and pair.last_activity_at > message.created_at:
        return "the pair has been active since"
    return None


def _session_set_stale(session: Session, message: OutboxMessage, pair: Pair, now: datetime):
    if pair.next_session_on != date.fromisoformat(message.payload["date"]):
        return "the date has changed again"
    return None


_PAIR_STALENESS: dict[str, Callable[[Session, OutboxMessage, Pair, datetime], str | None]] = {
    "prompt": _prompt_stale,
    "checkin": _checkin_stale,
    "nudge": _nudge_stale,
    "session_set": _session_set_stale,
}


# --- drafting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """What a message says and where it goes; with `file`, a file shared there instead
    (`text` is then its comment)."""

    channel: str
    text: str
    blocks: list | None = None
    file: bytes | None = None
    filename: str = ""
    title: str = ""


@dataclass(frozen=True)
class Kind:
    """How a feature's own outbox kind is drafted and what follows its sending.

    `draft(deps, message)` returns a Draft or None (moot); `after_sent(session, message,
    channel, ts, now)` runs in the transaction that records the send (also when a crash
    check finds the message went out); `follow_up(deps, message, channel, ts)` runs after,
    outside any transaction (e.g. seeding reactions), and must be safe to repeat.
    `valid_for` and `stale(session, message, now)` say when it is too late to send it;
    `on_expired(session, message)` undoes what deciding it recorded."""

    draft: Callable[[Deps, OutboxMessage], Awaitable[Draft | None]]
    after_sent: Callable[..., None] | None = None
    follow_up: Callable[[Deps, OutboxMessage, str, str], Awaitable[None]] | None = None
    valid_for: timedelta | None = None
    stale: Callable[[Session, OutboxMessage, datetime], str | None] | None = None
    on_expired: Callable[[Session, OutboxMessage], None] | None = None
    to_admin_channel: bool = False
    alert_on_failure: bool = True
    shares_file: bool = False


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
) -> bool:
    """Bookkeeping that belongs to a message having gone out (also after a crash check);
    False, changing nothing, if this process no longer holds the row."""
    if not outbox.mark_sent(
        session=session,
        message_id=message.id,
        claimant=deps.instance_id,
        channel_id=channel,
        ts=ts or None,
        now=now,
    ):
        return False
    kind = deps.outbox_kinds.get(message.kind)
    if kind is not None and kind.after_sent is not None:
        kind.after_sent(session, message, channel, ts, now)
    if _to_admin_channel(deps, message, channel):
        program.clear_admin_channel_problem(session=session, team_id=message.team_id)
    if message.kind == "intro" and message.pair_id is not None:
        live = pairs.mark_introduced(
            session=session, pair_id=message.pair_id, channel_id=channel, ts=ts, now=now
        )
        if live is not None:
            settings = program.get_program_settings(session=session, team_id=live.team_id)
            rhythm.start_rhythm(session=session, pair=live, settings=settings, now=now)
    return True


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
            assert session_day is not None
            return blocks.checkin_blocks(pair, session_day=session_day)
        case "nudge":
            return blocks.nudge_blocks(pair, days=payload["days"])
        case _:
            return blocks.pair_message(message.kind, pair, payload)


def metadata_for(message: OutboxMessage) -> dict:
    """Slack keeps this with the message, so after a crash we can ask whether it went out."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_key": message.key}}


# --- after a crash: did it go out? ------------------------------------------------------------


async def _settle_in_doubt(deps: Deps) -> None:
    """Messages left "sending" (a crash, a timeout): look in the channel before resending."""
    now = deps.clock()

    def load(session):
        holders = outbox.sending_claimants(session=session)
        dead = [holder for holder in holders if deps.claimant_is_dead(holder)]
        return dead, outbox.in_doubt(session=session, now=now, dead_claimants=dead)

    dead, doubtful = await deps.db.run(load)
    for message in doubtful:
        holder = message.claimed_by if message.claimed_by in dead else None
        taken = await deps.db.run(
            lambda s, m=message, h=holder: outbox.claim_in_doubt(
                session=s,
                message_id=m.id,
                claimant=deps.instance_id,
                now=deps.clock(),
                lease=LEASE,
                dead_holder=h,
            )
        )
        if not taken:
            continue  # another process is checking it
        await _settle(deps, message)


async def _settle(deps: Deps, message: OutboxMessage) -> None:
    found: str | None = None
    if message.channel_id is not None and (message.file_id or not _is_file(deps, message)):
        try:
            found = await _find_posted(deps, message)
        except SlackCallError as exc:
            error = exc.error
            log.warning("could not check a %s message after a crash: %s", message.kind, error)
            await deps.db.run(
                lambda s: outbox.mark_retry(
                    session=s,
                    message_id=message.id,
                    claimant=deps.instance_id,
                    error=error,
                    not_before=deps.clock() + timedelta(minutes=1),
                    in_doubt=True,
                    count_attempt=False,
                )
            )
            return  # still in doubt; a later drain asks again
    if found is None:
        # Never got as far as the channel, or it is not there: send it again.
        await deps.db.run(
            lambda s: outbox.release(session=s, message_id=message.id, claimant=deps.instance_id)
        )
        return
    channel = message.channel_id or ""
    if await deps.db.run(lambda s: _after_sent(s, deps, message, channel, found, deps.clock())):
        await _follow_up(deps, message, channel, found)


def _is_file(deps: Deps, message: OutboxMessage) -> bool:
    kind = deps.outbox_kinds.get(message.kind)
    return kind is not None and kind.shares_file


async def _find_posted(deps: Deps, message: OutboxMessage) -> str | None:
    """The ts of the message (or of the file's share) in its channel, following every page
    of history from when sending began; None if it is not there."""
    since = message.sending_since or message.created_at
    oldest = since.timestamp() - 60
    cursor: str | None = None
    for _ in range(HISTORY_MAX_PAGES):
        params = {"cursor": cursor} if cursor else {}
        history = await deps.slack.call(
            "conversations.history",
            channel=message.channel_id,
            oldest=f"{oldest:.6f}",
            include_all_metadata=True,
            limit=HISTORY_PAGE,
            budget=HISTORY_BUDGET_SECONDS,
            **params,
        )
        for posted in history.get("messages") or []:
            if _is_ours(message, posted):
                return posted.get("ts") or ""
        cursor = (history.get("response_metadata") or {}).get("next_cursor") or None
        if not history.get("has_more") or not cursor:
            return None
    raise SlackCallError("conversations.history", "too_many_pages", transient=True)


def _is_ours(message: OutboxMessage, posted: dict) -> bool:
    if message.file_id:
        return any((f or {}).get("id") == message.file_id for f in posted.get("files") or [])
    payload = (posted.get("metadata") or {}).get("event_payload") or {}
    return payload.get("outbox_key") == message.key
