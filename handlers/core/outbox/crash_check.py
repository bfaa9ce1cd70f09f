"""After a crash or a timeout: did the message (or file) go out? Only the channel knows.

A row still "sending" once its lease is over, or held by a process on this host that no
longer runs, is claimed by one checker, who reads the channel's history from when sending
began, every page, for the message's key (or the file's id), and records it as sent if it
is there, or puts it back to be sent if not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from handlers.core.deps import Deps
from handlers.core.outbox.failures import retry_later, skip_uninstalled
from handlers.core.outbox.kinds import kind_of
from handlers.core.outbox.recording import LEASE, after_sent, follow_up
from handlers.core.slack import NotInstalled, SlackCallError
from storage import outbox
from storage.models import OutboxMessage, saved_id

log = logging.getLogger("handlers.core.outbox")

# conversations.history may be paced at one call a minute: one wait fits in this budget.
HISTORY_BUDGET_SECONDS = 90.0
HISTORY_PAGE = 15  # what Slack returns per page to apps outside the Marketplace
HISTORY_MAX_PAGES = 100
IN_DOUBT_AT_ONCE = 100  # checked per drain; the rest at the next


@dataclass
class InDoubt:
    """Rows that may or may not have gone out, and the claimants known to have died."""

    messages: list[OutboxMessage]
    dead: list[str]


def find_in_doubt(session: Session, now: datetime, *, is_dead: Callable[[str], bool]) -> InDoubt:
    """In the caller's transaction, in one statement: the held rows whose lease is over or
    whose claimant died (`is_dead`: Deps.claimant_is_dead)."""
    held = outbox.held_rows(session=session)
    claimants = {message.claimed_by for message in held if message.claimed_by}
    dead = sorted(holder for holder in claimants if is_dead(holder))
    doubtful = [
        message
        for message in held
        if message.claimed_by in dead
        or (message.lease_until is not None and message.lease_until <= now)
    ]
    return InDoubt(doubtful[:IN_DOUBT_AT_ONCE], dead)


async def settle_in_doubt(deps: Deps, found: InDoubt | None = None) -> None:
    """Check each row in doubt against its channel (`found`, else looked for now)."""
    if found is None:
        now = deps.clock()
        found = await deps.db.run(lambda s: find_in_doubt(s, now, is_dead=deps.claimant_is_dead))
    dead = found.dead
    for message in found.messages:
        holder = message.claimed_by if message.claimed_by in dead else None

        def claim(s: Session, m: OutboxMessage = message, h: str | None = holder) -> bool:
            return outbox.claim_in_doubt(
                session=s,
                message_id=saved_id(m),
                claimant=deps.instance_id,
                now=deps.clock(),
                lease=LEASE,
                dead_holder=h,
            )

        taken = await deps.db.run(claim)
        if taken:
            await _settle(deps, message)
        # else: another process is checking it


async def _settle(deps: Deps, message: OutboxMessage) -> None:
    found: str | None = None
    shares_file = kind_of(deps, message).shares_file
    if message.channel_id is not None and (message.file_id or not shares_file):
        try:
            found = await _find_posted(deps, message)
        except NotInstalled:
            await skip_uninstalled(deps, message)  # its workspace can no longer be asked
            return
        except SlackCallError as exc:
            error = exc.error
            log.warning("could not check a %s message after a crash: %s", message.kind, error)
            later = deps.clock() + timedelta(minutes=1)
            await retry_later(
                deps, message, error=error, at=later, in_doubt=True, count_attempt=False
            )
            return  # still in doubt; a later drain asks again
    if found is None:
        # Never got as far as the channel, or it is not there: send it again.
        await deps.db.run(
            lambda s: outbox.release(
                session=s, message_id=message.id or 0, claimant=deps.instance_id
            )
        )
        return
    channel = message.channel_id or ""
    if await deps.db.run(lambda s: after_sent(s, deps, message, channel, found, deps.clock())):
        await follow_up(deps, message, channel, found)


async def _find_posted(deps: Deps, message: OutboxMessage) -> str | None:
    """The ts of the message (or of the file's share) in its channel, following every page
    of history from when sending began; None if it is not there."""
    since = message.sending_since or message.created_at
    oldest = since.timestamp() - 60
    cursor: str | None = None
    for _ in range(HISTORY_MAX_PAGES):
        params: dict[str, Any] = {"cursor": cursor} if cursor else {}
        history = await deps.slack.call(
            "conversations.history",
            team_id=message.team_id,
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
