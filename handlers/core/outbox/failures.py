"""When sending fails: retry, wait for a broken admin channel, or give up and tell the admins.
Also the admins' own alerts, the one outbox kind that belongs to no feature."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackObjectFormationError
from sqlmodel import Session

from bot.admin_channel import INVITE
from handlers.core.deps import Deps
from handlers.core.outbox.kinds import Draft, Failure, Kind, kind_of
from handlers.core.slack import NotInstalled, SlackCallError
from storage import outbox, program
from storage.models import OutboxMessage

log = logging.getLogger("handlers.core.outbox")

ALERT = "admin_alert"
MAX_RETRY_DELAY = timedelta(hours=1)
HELD_RETRY_DELAY = timedelta(minutes=10)  # the admin channel is broken until an admin acts
BUG_ATTEMPTS = 8  # an exception of ours (not Slack's answer) this often: the message fails
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


async def failed(deps: Deps, message: OutboxMessage, exc: Exception) -> None:
    """Sending `message` raised `exc`: retry it later, hold it, or fail it for good."""
    if isinstance(exc, NotInstalled):
        await skip_uninstalled(deps, message)
        return
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
    kind = kind_of(deps, message)
    if permanent and error in ADMIN_CHANNEL_ERRORS and kind.goes_to_admin_channel(message):
        await deps.db.run(lambda s: _hold_for_admin_channel(s, deps, message, error, now))
        log.warning("the admin channel refused a %s message: %s", message.kind, error)
        return
    if permanent:
        await deps.db.run(
            lambda s: _fail_permanently(s, deps, message, kind, error, content=content, now=now)
        )
        log.warning("%s message failed for good: %s", message.kind, error)
        return
    delay = min(MAX_RETRY_DELAY, timedelta(minutes=2**message.attempts))
    # A timeout or a 5xx may still have posted it: such a row stays "sending" and is
    # checked against the channel before any resend. A 429 or a refusal did not post.
    doubt = error in _MAYBE_POSTED or error.startswith("http_5")
    await retry_later(deps, message, error=error, at=now + delay, in_doubt=doubt)
    log.warning("%s message will be retried: %s", message.kind, error)


async def skip_uninstalled(deps: Deps, message: OutboxMessage) -> None:
    """No installation speaks for its workspace (uninstalled): it is never sent, and since
    nothing can reach the workspace, nobody is told and no pair is paused."""
    await deps.db.run(
        lambda s: outbox.mark_skipped(
            session=s, message_id=message.id or 0, claimant=deps.instance_id
        )
    )
    log.info("a %s message was not sent: its workspace has uninstalled the bot", message.kind)


async def retry_later(
    deps: Deps,
    message: OutboxMessage,
    *,
    error: str,
    at: datetime,
    in_doubt: bool,
    count_attempt: bool = True,
) -> None:
    """Give up this process's claim and try again `at`; `in_doubt`: it may have gone out,
    so the channel is checked first."""
    await deps.db.run(
        lambda s: outbox.mark_retry(
            session=s,
            message_id=message.id or 0,
            claimant=deps.instance_id,
            error=error,
            not_before=at,
            in_doubt=in_doubt,
            count_attempt=count_attempt,
        )
    )


def _hold_for_admin_channel(
    session: Session, deps: Deps, message: OutboxMessage, error: str, now: datetime
) -> None:
    """Keep the message until the channel works again, and tell the admins how to fix it
    (once per problem, in a DM, and on their Home tab)."""
    held = min(MAX_RETRY_DELAY, HELD_RETRY_DELAY * 2 ** min(message.attempts, 4))
    outbox.mark_retry(
        session=session,
        message_id=message.id or 0,
        claimant=deps.instance_id,
        error=error,
        not_before=now + held,
    )
    if not program.note_admin_channel_problem(
        session=session, team_id=message.team_id, problem=error, now=now
    ):
        return  # already known and told
    settings = program.get_program_settings(session=session, team_id=message.team_id)
    channel = settings.admin_channel or deps.settings.admin_channel or "?"
    text = admin_channel_fix(channel, error)
    recipients = admin_people(session, deps, team_id=message.team_id)
    if not recipients:
        log.warning("the admin channel is broken and no admin is known to tell (MENTOR_ADMINS)")
    for admin in recipients:
        outbox.enqueue(
            session=session,
            team_id=message.team_id,
            key=f"admin_channel:{channel}:{error}:{now.isoformat()}:{admin}",
            kind=ALERT,
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
    """Admins the bot can write to directly: MENTOR_ADMINS (one workspace) or the program
    admins named in the workspace's settings (OAuth mode), and whoever last saved them."""
    people = set(deps.settings.admins)
    if deps.settings.oauth:
        people |= set(program.get_program_settings(session=session, team_id=team_id).program_admins)
    saved_by = program.settings_saved_by(session=session, team_id=team_id)
    if saved_by:
        people.add(saved_by)
    return sorted(people)


def _fail_permanently(
    session: Session,
    deps: Deps,
    message: OutboxMessage,
    kind: Kind,
    error: str,
    *,
    content: bool,
    now: datetime,
) -> None:
    """Mark it failed and tell the admins what they can do. `content`: the message itself
    can never be sent (Slack refuses what we wrote, or building it keeps failing)."""
    if not outbox.mark_failed(
        session=session, message_id=message.id or 0, claimant=deps.instance_id, error=error
    ):
        return
    if not kind.alert_on_failure:
        return
    failure = Failure(session, deps, message, error, content, now)
    if kind.on_failed is not None and kind.on_failed(failure):
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


def alert_admins(
    session: Session, deps: Deps, *, team_id: str, key: str, text: str, now: datetime
) -> None:
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
            kind=ALERT,
            payload={"channel": recipient, "text": text},
            now=now,
        )


async def open_if_person(deps: Deps, channel: str, *, team_id: str) -> str:
    """A person's DM channel, opened first so the outbox knows where to look after a crash."""
    if channel[:1] not in ("U", "W"):
        return channel
    opened = await deps.slack.call(
        "conversations.open", team_id=team_id, users=channel, budget=60.0
    )
    return opened["channel"]["id"]


async def _draft_alert(deps: Deps, message: OutboxMessage) -> Draft | None:
    channel = await open_if_person(deps, message.payload["channel"], team_id=message.team_id)
    return Draft(channel=channel, text=message.payload["text"])


def _to_a_channel(message: OutboxMessage) -> bool:
    return str(message.payload.get("channel", ""))[:1] not in ("U", "W")


def _to_an_admin(message: OutboxMessage) -> str | None:
    channel = str(message.payload.get("channel", ""))
    return channel if channel[:1] in ("U", "W") else None


ALERT_KIND = Kind(
    draft=_draft_alert,
    valid_for=timedelta(days=7),
    recipient=_to_an_admin,  # an admin's DM waits for their working hours
    to_admin_channel=_to_a_channel,
    alert_on_failure=False,  # an alert about an alert would go where this one failed
)
