"""The outbox: messages the bot decided to send, recorded in the transaction that decided it.

A unique (team_id, key) makes each decision happen once however often it is re-made, and a
row stays pending until Slack has accepted it, so a crash or an outage loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session, col, select

from storage.models import OutboxMessage


def enqueue(
    *,
    session: Session,
    team_id: str,
    key: str,
    kind: str,
    now: datetime,
    pair_id: int | None = None,
    payload: dict | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Decide to send a message (not before `not_before`); False if that key was decided."""
    result = session.execute(
        insert(OutboxMessage)
        .values(
            team_id=team_id,
            key=key,
            kind=kind,
            pair_id=pair_id,
            payload=payload or {},
            status="pending",
            attempts=0,
            not_before=not_before or now,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    return result.rowcount == 1


def due_messages(*, session: Session, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", col(OutboxMessage.not_before) <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    )


def pending_count(*, session: Session, team_id: str) -> int:
    return len(
        session.exec(
            select(OutboxMessage.id).where(
                OutboxMessage.team_id == team_id, OutboxMessage.status == "pending"
            )
        ).all()
    )


def mark_sent(
    *, session: Session, message_id: int, channel_id: str | None, ts: str | None, now: datetime
) -> None:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.status, message.channel_id, message.ts, message.sent_at = "sent", channel_id, ts, now
    message.attempts += 1
    session.add(message)


def mark_sending(*, session: Session, message_id: int, channel_id: str) -> None:
    """About to post: if we die before mark_sent, the row says where to look for it."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.status, message.channel_id = "sending", channel_id
        session.add(message)


def in_doubt(*, session: Session, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Rows left "sending" by a crash or a timeout: posted or not, only Slack knows."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status == "sending", col(OutboxMessage.not_before) <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    )


def back_to_pending(*, session: Session, message_id: int) -> None:
    message = session.get(OutboxMessage, message_id)
    if message is not None and message.status == "sending":
        message.status = "pending"
        session.add(message)


def mark_retry(
    *, session: Session, message_id: int, error: str, not_before: datetime, in_doubt: bool = False
) -> OutboxMessage | None:
    """Try again later; `in_doubt` when the failed call may still have posted the message."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return None
    message.attempts += 1
    message.last_error, message.not_before = error, not_before
    message.status = "sending" if in_doubt and message.status == "sending" else "pending"
    session.add(message)
    return message


def defer(*, session: Session, message_id: int, not_before: datetime) -> None:
    """Not yet (quiet hours): later, without counting as an attempt."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.not_before = not_before
        session.add(message)


def mark_skipped(*, session: Session, message_id: int) -> None:
    """Decided, then made moot (the pair ended or paused first): nothing was sent."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.status = "skipped"
        session.add(message)


def mark_failed(*, session: Session, message_id: int, error: str) -> None:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.status, message.last_error = "failed", error
    message.attempts += 1
    session.add(message)


def skip_pending_for_user(*, session: Session, team_id: str, user_id: str) -> int:
    """Someone left: what was decided for them alone (a fit survey, an outcome question) is
    never sent. Returns how many rows were skipped."""
    from sqlalchemy import func  # the one SQL function this module needs

    rows = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.status == "pending",
            func.json_extract(OutboxMessage.payload, "$.user") == user_id,
        )
    ).all()
    for message in rows:
        message.status = "skipped"
        session.add(message)
    return len(rows)
