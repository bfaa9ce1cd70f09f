"""The outbox: messages the bot decided to send, recorded in the transaction that decided it.

A unique (team_id, key) makes each decision happen once however often it is re-made, and a
row stays pending until Slack has accepted it, so a crash or an outage loses nothing.

Sending is claimed: `claim` and `claim_due` move rows from pending to claimed for exactly
one claimant (a conditional UPDATE; on PostgreSQL `claim_due` picks rows FOR UPDATE SKIP
LOCKED), with a lease. Every later step names the claimant and checks the row count again,
so a sender whose lease ran out (and whose row another process has since taken over)
changes nothing. A row becomes "sending" when its channel is recorded, just before the post
(or before the posts of its batch, `start_many`):
one still held after its lease is in doubt, and only the channel's history can say whether
it went out (a "claimed" one never got that far).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, bindparam, case, false, null, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from storage.memo import recall, remember
from storage.models import OutboxMessage
from storage.sql import insert_new


def enqueue(
    *,
    session: Session,
    team_id: str,
    key: str,
    kind: str,
    now: datetime,
    pair_id: int | None = None,
    payload: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Decide to send a message (not before `not_before`); False if that key was decided."""
    return insert_new(
        session,
        OutboxMessage,
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


def get_message(*, session: Session, team_id: str, key: str) -> OutboxMessage | None:
    return session.exec(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.key == key)
    ).first()


def due_messages(*, session: Session, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", col(OutboxMessage.not_before) <= now)
            .order_by(col(OutboxMessage.id))
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


def _update(
    session: Session, message_id: int, *conditions: ColumnElement[bool], **values: Any
) -> bool:
    """One conditional UPDATE of one row; True when it changed the row."""
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return session.exec(statement).rowcount == 1


# A claimed row is about to be sent; "sending" once its channel is recorded (so from then on
# it may have gone out, and only the channel can tell).
HELD = ("claimed", "sending")


def _held() -> ColumnElement[bool]:
    return col(OutboxMessage.status).in_(HELD)


def _held_by(claimant: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return _held(), col(OutboxMessage.claimed_by) == claimant


def _let_go(session: Session, message_id: int, claimant: str, **values: Any) -> bool:
    """The claimant's last step with a row: it leaves their hands (no claim, no lease)."""
    return _update(
        session, message_id, *_held_by(claimant), claimed_by=None, lease_until=None, **values
    )


def claim(
    *, session: Session, message_id: int, claimant: str, now: datetime, lease: timedelta
) -> bool:
    """Take a due pending row for sending; True for exactly one claimant."""
    return _update(
        session,
        message_id,
        col(OutboxMessage.status) == "pending",
        col(OutboxMessage.not_before) <= now,
        status="claimed",
        claimed_by=claimant,
        lease_until=now + lease,
        sending_since=None,
        channel_id=None,
        file_id=None,
    )


_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]


def _claim_due_statement() -> Any:
    """Built once (every tick of every instance runs it): up to `limit` due rows claimed."""
    table = _TABLE
    c = table.c
    due = (
        sa_select(c.id)
        .where(c.status == "pending", c.not_before <= bindparam("now", type_=c.not_before.type))
        .order_by(c.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    return (
        update(table)
        .where(c.id.in_(due.scalar_subquery()))
        .values(
            status="claimed",
            claimed_by=bindparam("claimant", type_=c.claimed_by.type),
            lease_until=bindparam("lease_until", type_=c.lease_until.type),
            sending_since=None,
            channel_id=None,
            file_id=None,
        )
        .returning(*table.c)
    )


_CLAIM_DUE = _claim_due_statement()


def claim_due(
    *, session: Session, claimant: str, now: datetime, lease: timedelta, limit: int
) -> list[OutboxMessage]:
    """Take up to `limit` due pending rows for sending, oldest first, in one statement. On
    PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so instances claiming at once get
    different rows and never wait for each other; on SQLite the write lock is already held
    (BEGIN IMMEDIATE). Either way each row goes to exactly one claimant."""
    rows = session.execute(
        select(OutboxMessage).from_statement(_CLAIM_DUE),
        {"now": now, "limit": limit, "claimant": claimant, "lease_until": now + lease},
    )
    claimed = list(rows.scalars().all())
    return sorted(claimed, key=lambda message: message.id or 0)


def start_sending(
    *,
    session: Session,
    message_id: int,
    claimant: str,
    channel_id: str,
    now: datetime,
    lease: timedelta,
    file_id: str | None = None,
) -> bool:
    """About to post (or share a file): record where, renew the lease. False if the claim
    was lost or has run out (someone else may take the row over): then do not post."""
    return _update(
        session,
        message_id,
        *_held_by(claimant),
        _lease_holds(now),
        status="sending",
        channel_id=channel_id,
        file_id=file_id,
        sending_since=now,
        lease_until=now + lease,
    )


def _lease_holds(now: datetime) -> ColumnElement[bool]:
    return col(OutboxMessage.lease_until) > now


def _record_and_start_statement() -> Any:
    """Built once (the sender runs it for every post): the previous post (`sent_id`, or -1)
    recorded as sent, the next (`start_id`, or -1) started."""
    table = _TABLE
    c = table.c
    sent_id = bindparam("sent_id", type_=c.id.type)
    now = bindparam("now", type_=c.sent_at.type)
    is_sent = c.id == sent_id

    def when_sent(value: Any, otherwise: Any) -> Any:
        return case((is_sent, value), else_=otherwise)

    return (
        update(table)
        .where(
            c.id.in_([sent_id, bindparam("start_id", type_=c.id.type)]),
            c.status.in_(HELD),
            c.claimed_by == bindparam("claimant", type_=c.claimed_by.type),
            or_(is_sent, c.lease_until > now),
        )
        .values(
            status=when_sent("sent", "sending"),
            channel_id=when_sent(
                bindparam("sent_channel", type_=c.channel_id.type),
                bindparam("start_channel", type_=c.channel_id.type),
            ),
            ts=when_sent(bindparam("ts", type_=c.ts.type), c.ts),
            sent_at=when_sent(now, c.sent_at),
            attempts=when_sent(c.attempts + 1, c.attempts),
            claimed_by=when_sent(null(), c.claimed_by),
            lease_until=when_sent(null(), bindparam("lease_until", type_=c.lease_until.type)),
            sending_since=when_sent(c.sending_since, now),
            file_id=when_sent(c.file_id, null()),
        )
        .returning(c.id, c.status)
    )


_RECORD_AND_START = _record_and_start_statement()


def record_and_start(
    *,
    session: Session,
    claimant: str,
    sent: tuple[int, str, str | None] | None,
    start: tuple[int, str] | None,
    now: datetime,
    lease: timedelta,
) -> tuple[bool, bool]:
    """`mark_sent` for `sent` (id, channel, ts) and `start_sending` for `start` (id,
    channel), in one statement: a sender records its last post and the channel of its next
    in one go. Returns (recorded as sent, may start sending); a row this claimant no longer
    holds, or whose lease is over before it starts, is left alone."""
    if sent is None and start is None:
        return False, False
    sent_id, sent_channel, ts = sent if sent is not None else (-1, None, None)
    start_id, start_channel = start if start is not None else (-1, None)
    rows = (
        session.connection()
        .execute(
            _RECORD_AND_START,
            {
                "sent_id": sent_id,
                "start_id": start_id,
                "claimant": claimant,
                "now": now,
                "sent_channel": sent_channel,
                "start_channel": start_channel,
                "ts": ts,
                "lease_until": now + lease,
            },
        )
        .all()
    )
    statuses = dict(rows)
    return statuses.get(sent_id) == "sent", statuses.get(start_id) == "sending"


def start_many(
    *,
    session: Session,
    claimant: str,
    channels: Mapping[int, str],
    now: datetime,
    lease: timedelta,
) -> set[int]:
    """`start_sending` for many rows (id -> channel) in one statement: every row of a batch
    about to be posted, recorded as "sending" with its channel and a fresh lease. Returns
    the ids that may be posted (still held by `claimant`, lease not over)."""
    if not channels:
        return set()
    c = _TABLE.c
    rows = session.connection().execute(
        update(_TABLE)
        .where(
            c.id.in_(list(channels)),
            c.status.in_(HELD),
            c.claimed_by == claimant,
            c.lease_until > now,
        )
        .values(
            status="sending",
            channel_id=case(dict(channels), value=c.id),
            file_id=None,
            sending_since=now,
            lease_until=now + lease,
        )
        .returning(c.id)
    )
    return {row[0] for row in rows}


def record_many(
    *,
    session: Session,
    claimant: str,
    sent: Mapping[int, str | None],
    released: Iterable[int] = (),
    now: datetime,
) -> set[int]:
    """`mark_sent` for the rows of `sent` (id -> ts) and `release` for `released` (never
    posted), in one statement: what a batch of posts did, recorded together. Rows this
    claimant no longer holds are left alone; returns the ids recorded as sent."""
    back = list(released)
    if not sent and not back:
        return set()
    c = _TABLE.c
    is_sent = c.id.in_(list(sent)) if sent else false()

    def when_sent(value: Any, otherwise: Any) -> Any:
        return case((is_sent, value), else_=otherwise)

    rows = session.connection().execute(
        update(_TABLE)
        .where(c.id.in_([*sent, *back]), c.status.in_(HELD), c.claimed_by == claimant)
        .values(
            status=when_sent("sent", "pending"),
            ts=case(dict(sent), value=c.id, else_=c.ts) if sent else c.ts,
            sent_at=when_sent(now, c.sent_at),
            attempts=when_sent(c.attempts + 1, c.attempts),
            sending_since=when_sent(c.sending_since, null()),
            claimed_by=None,
            lease_until=None,
        )
        .returning(c.id, c.status)
    )
    return {message_id for message_id, status in rows if status == "sent"}


def mark_sent(
    *,
    session: Session,
    message_id: int,
    claimant: str,
    channel_id: str | None,
    ts: str | None,
    now: datetime,
) -> bool:
    """Slack has it. False if this claimant no longer holds the row (nothing is recorded)."""
    return _let_go(
        session,
        message_id,
        claimant,
        status="sent",
        channel_id=channel_id,
        ts=ts,
        sent_at=now,
        attempts=OutboxMessage.attempts + 1,
    )


def release(*, session: Session, message_id: int, claimant: str) -> bool:
    """Nothing went out: back to pending, due at once."""
    return _let_go(session, message_id, claimant, status="pending", sending_since=None)


def mark_retry(
    *,
    session: Session,
    message_id: int,
    claimant: str,
    error: str,
    not_before: datetime,
    in_doubt: bool = False,
    count_attempt: bool = True,
) -> bool:
    """Try again at `not_before`. `in_doubt`: the failed call may still have posted it, so
    the row stays "sending", unclaimed, and its history is checked before any resend."""
    values: dict[str, Any] = {"last_error": error, "not_before": not_before, "claimed_by": None}
    if count_attempt:
        values["attempts"] = OutboxMessage.attempts + 1
    if in_doubt:
        values["lease_until"] = not_before
    else:
        values.update(status="pending", lease_until=None, sending_since=None)
    return _update(session, message_id, *_held_by(claimant), **values)


def mark_skipped(*, session: Session, message_id: int, claimant: str) -> bool:
    """Decided, then made moot (the pair ended or paused first): nothing was sent."""
    return _update(session, message_id, *_held_by(claimant), status="skipped", claimed_by=None)


def mark_failed(*, session: Session, message_id: int, claimant: str, error: str) -> bool:
    return _let_go(
        session,
        message_id,
        claimant,
        status="failed",
        last_error=error,
        attempts=OutboxMessage.attempts + 1,
    )


def defer(*, session: Session, message_id: int, claimant: str, not_before: datetime) -> bool:
    """Not yet (quiet hours): back to pending for later, without counting as an attempt."""
    return _let_go(session, message_id, claimant, status="pending", not_before=not_before)


def expire(*, session: Session, message_id: int, claimant: str, reason: str) -> bool:
    """Too late to be true any more (a prompt for a session that has passed): dropped."""
    return _let_go(session, message_id, claimant, status="expired", last_error=reason)


def next_due(*, session: Session, now: datetime) -> datetime | None:
    """When a drain could next have anything to do: `now` while any row is held (in doubt
    once its lease ends, or sooner if its claimant died), else the earliest pending row's
    not_before (None: the outbox is empty of work)."""
    held, pending = session.execute(_NEXT_DUE).one()
    return now if held is not None else pending


def _next_due_statement() -> Any:
    """Built once: is any row held, and the earliest pending row's not_before."""
    c = OutboxMessage.__table__.c  # type: ignore[attr-defined]
    held = sa_select(c.id).where(c.status.in_(HELD)).limit(1).scalar_subquery()
    pending = sa_select(func.min(c.not_before)).where(c.status == "pending").scalar_subquery()
    return sa_select(held, pending)


_NEXT_DUE = _next_due_statement()


def held_rows(*, session: Session) -> list[OutboxMessage]:
    """Every row claimed or being sent now, oldest first: few (a batch per sender), so a
    drain reads them all in one statement to find those in doubt."""
    return list(
        session.exec(select(OutboxMessage).where(_held()).order_by(col(OutboxMessage.id))).all()
    )


def claim_in_doubt(
    *,
    session: Session,
    message_id: int,
    claimant: str,
    now: datetime,
    lease: timedelta,
    dead_holder: str | None = None,
) -> bool:
    """Take a row in doubt to check it, for exactly one claimant: only while its lease is
    over, or while it is still held by `dead_holder`, a claimant known to have died."""
    over = col(OutboxMessage.lease_until) <= now
    condition = or_(over, col(OutboxMessage.claimed_by) == dead_holder) if dead_holder else over
    return _update(
        session,
        message_id,
        _held(),
        condition,
        claimed_by=claimant,
        lease_until=now + lease,
    )


def retry_now(*, session: Session, team_id: str, kinds: Iterable[str], now: datetime) -> int:
    """Pending rows of these kinds waiting for a retry become due now (a fixed channel)."""
    return session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.kind).in_(list(kinds)),
            col(OutboxMessage.not_before) > now,
        )
        .values(not_before=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def has_later_key(*, session: Session, team_id: str, key: str, prefix: str) -> bool:
    """Whether a row keyed after `key` with the same `prefix` exists (say a later check-in
    of the same pair: keys end in ISO dates), read as a range of the unique key index."""
    upper = _after_prefix(prefix)
    return recall(
        session,
        ("later_key", team_id, key, prefix),
        lambda: (
            session.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.team_id == team_id,
                    col(OutboxMessage.key) > key,
                    col(OutboxMessage.key) < upper,
                )
            ).first()
            is not None
        ),
    )


def _after_prefix(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def remember_later_keys(*, session: Session, team_id: str, keys: set[tuple[str, str]]) -> None:
    """`has_later_key` for each (key, prefix) of one workspace, read in one statement
    (storage/memo.py)."""
    if not keys:
        return
    ranges = [
        and_(col(OutboxMessage.key) > key, col(OutboxMessage.key) < _after_prefix(prefix))
        for key, prefix in sorted(keys)
    ]
    found = session.exec(
        select(OutboxMessage.key).where(OutboxMessage.team_id == team_id, or_(*ranges))
    ).all()
    for key, prefix in keys:
        upper = _after_prefix(prefix)
        later = any(key < other < upper for other in found)
        remember(session, ("later_key", team_id, key, prefix), later)


def skip_pending_for_user(*, session: Session, team_id: str, user_id: str) -> int:
    """Someone left: what was decided for them alone (a fit survey, an outcome question) is
    never sent. Returns how many rows were skipped."""
    pending = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.team_id == team_id, OutboxMessage.status == "pending"
        )
    ).all()
    addressed = [m.id for m in pending if (m.payload or {}).get("user") == user_id]
    return sum(
        _update(session, message_id, col(OutboxMessage.status) == "pending", status="skipped")
        for message_id in addressed
        if message_id is not None
    )
