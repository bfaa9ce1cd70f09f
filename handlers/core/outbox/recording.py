"""What belongs to a message having gone out, whoever found out that it did: the sender, or
the crash check after a sender died."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.core.deps import Deps
from handlers.core.outbox.kinds import kind_of
from storage import outbox, program
from storage.models import OutboxMessage

log = logging.getLogger("handlers.core.outbox")

# A claim lasts this long; every call made under it has a budget well inside it, so a
# sender never posts after another process may have taken its row over.
LEASE = timedelta(minutes=2)
CALL_BUDGET_SECONDS = 60.0
METADATA_EVENT = "reverse_mentor_message"


def metadata_for(message: OutboxMessage) -> dict:
    """Slack keeps this with the message, so after a crash we can ask whether it went out."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_key": message.key}}


def after_sent(
    session: Session,
    deps: Deps,
    message: OutboxMessage,
    channel: str,
    ts: str,
    now: datetime,
    *,
    marked: bool = False,
) -> bool:
    """Record the send and the kind's own bookkeeping, in one transaction; False, changing
    nothing, if this process no longer holds the row. `marked`: the row was recorded as
    sent already, in this transaction (`outbox.record_many`, `outbox.record_and_start`)."""
    if not marked and not outbox.mark_sent(
        session=session,
        message_id=message.id or 0,
        claimant=deps.instance_id,
        channel_id=channel,
        ts=ts or None,
        now=now,
    ):
        return False
    kind = kind_of(deps, message)
    if kind.after_sent is not None:
        kind.after_sent(session, message, channel, ts, now)
    if kind.goes_to_admin_channel(message):
        program.clear_admin_channel_problem(session=session, team_id=message.team_id)
    return True


async def follow_up(deps: Deps, message: OutboxMessage, channel: str, ts: str) -> None:
    kind = kind_of(deps, message)
    if kind.follow_up is None:
        return
    try:
        await kind.follow_up(deps, message, channel, ts)
    except Exception:
        # The message itself went out; a missing extra (say, a seeded reaction) is logged.
        log.exception("follow-up of a %s message failed", message.kind)
