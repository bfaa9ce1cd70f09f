"""Sends what the outbox holds. Slack calls happen outside database transactions.

Each message goes: stale? (dropped) -> quiet hours? (later) -> claimed (one sender, with a
lease) -> drafted -> its channel recorded -> posted (or its file shared) -> recorded as sent.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from sqlmodel import Session

from handlers.core.deps import Deps
from handlers.core.outbox.crash_check import settle_in_doubt
from handlers.core.outbox.failures import failed
from handlers.core.outbox.kinds import Draft, Kind, kind_of
from handlers.core.outbox.recording import (
    CALL_BUDGET_SECONDS,
    LEASE,
    after_sent,
    follow_up,
    metadata_for,
)
from handlers.core.outbox.timing import allowed_at, recipient_zone, stale_reason
from handlers.core.slack import SlackCallError
from storage import outbox
from storage.models import OutboxMessage, saved_id

log = logging.getLogger("handlers.core.outbox")

BATCH = 50


def kick(deps: Deps) -> None:
    """Deliver now instead of waiting for the next tick."""
    deps.spawn(deliver_due(deps))


async def deliver_due(deps: Deps) -> int:
    """Send every due message once; returns how many were sent. One drain at a time per
    process (an optimisation: the claim is what makes each row go out once, however many
    processes drain at once)."""
    sent = 0
    dropped: Counter[str] = Counter()
    async with deps.outbox_lock:
        await settle_in_doubt(deps)
        # Sending can decide new messages (an admin alert for a failed intro): drain until empty.
        # Anything that failed was pushed into the future, so this ends.
        while claimed := await _claim_batch(deps):
            for message in claimed:
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

    def take(session: Session) -> OutboxMessage | None:
        message = outbox.get_message(session=session, team_id=team_id, key=key)
        if message is None or not outbox.claim(
            session=session,
            message_id=saved_id(message),
            claimant=deps.instance_id,
            now=deps.clock(),
            lease=LEASE,
        ):
            return None
        return outbox.get_message(session=session, team_id=team_id, key=key)

    claimed = await deps.db.run(take)
    if claimed is not None:
        await _deliver(deps, claimed, Counter())
    after = await deps.db.run(lambda s: outbox.get_message(session=s, team_id=team_id, key=key))
    return after.status if after is not None else "missing"


async def _claim_batch(deps: Deps) -> list[OutboxMessage]:
    now = deps.clock()
    return await deps.db.run(
        lambda s: outbox.claim_due(
            session=s, claimant=deps.instance_id, now=now, lease=LEASE, limit=BATCH
        )
    )


async def _deliver(deps: Deps, message: OutboxMessage, dropped: Counter[str]) -> int:
    """Send one row this process has claimed (or drop it as stale, or put it back for the
    working hours of the people it is for)."""
    kind = kind_of(deps, message)
    person_tz = await recipient_zone(deps, message, kind)
    now = deps.clock()
    verdict = await deps.db.run(lambda s: _check(s, deps, message, kind, now, person_tz))
    if verdict == "expired":
        dropped[message.kind] += 1
    if verdict != "go":
        return 0
    try:
        draft = await kind.draft(deps, message)
        if draft is None:
            await deps.db.run(
                lambda s: outbox.mark_skipped(
                    session=s, message_id=saved_id(message), claimant=deps.instance_id
                )
            )
            return 0
        if draft.file is not None:
            ts = await _share_file(deps, message, draft)
        else:
            ts = await _post(deps, message, draft)
    except Exception as exc:
        await failed(deps, message, exc)
        return 0
    if ts is None:
        return 0  # the claim was lost before sending: someone else has the row now
    channel = draft.channel
    if await deps.db.run(lambda s: after_sent(s, deps, message, channel, ts, deps.clock())):
        await follow_up(deps, message, channel, ts)
    return 1


def _check(
    session: Session,
    deps: Deps,
    message: OutboxMessage,
    kind: Kind,
    now: datetime,
    person_tz: str | None,
) -> str:
    """In one transaction, for a claimed row: drop it if stale, put it back until the
    working hours it must wait for, or let it go."""
    reason = stale_reason(session, message, kind, now)
    if reason is not None:
        if outbox.expire(
            session=session, message_id=saved_id(message), claimant=deps.instance_id, reason=reason
        ):
            if kind.on_expired is not None:
                kind.on_expired(session, message)
            return "expired"
        return "lost"
    later = allowed_at(session, message, kind, now, person_tz)
    if later > now:
        outbox.defer(
            session=session,
            message_id=saved_id(message),
            claimant=deps.instance_id,
            not_before=later,
        )
        return "later"
    return "go"


async def _start_sending(
    deps: Deps, message: OutboxMessage, channel: str, file_id: str | None = None
) -> bool:
    """Record where it goes (for the crash check) and renew the claim; False: claim lost."""
    started = await deps.db.run(
        lambda s: outbox.start_sending(
            session=s,
            message_id=message.id or 0,
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
        team_id=message.team_id,
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
    the last step shares it, and it is never repeated blindly: the file's id is recorded
    first, so after a timeout the channel's history is checked for it before a new try.
    (slack_sdk's files_upload_v2 does the three steps in one call, which hides that id.)"""
    data = draft.file or b""
    step = "getting an upload URL"
    try:
        ticket = await deps.slack.call(
            "files.getUploadURLExternal",
            team_id=message.team_id,
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
            team_id=message.team_id,
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
