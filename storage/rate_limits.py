"""Slack's rate limits as every instance sees them: a 429's Retry-After, per workspace and
method, written by whichever instance was told and read by all of them; and the pace of
each limit (a token bucket per workspace and method or channel), which every instance
reserves its calls' slots from."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import case, delete, literal
from sqlmodel import Session, col, select

from storage.models import SlackPace, SlackRateLimit
from storage.sql import insert_statement

MICROSECONDS = 1_000_000


def hold(*, session: Session, team_id: str, method: str, until: datetime) -> None:
    """Record that `method` is not to be called for `team_id` before `until`. A later hold
    already recorded (another instance's longer Retry-After) stays."""
    statement = insert_statement(session, SlackRateLimit).values(
        team_id=team_id, method=method, until_at=until
    )
    later = case(
        (statement.excluded.until_at > SlackRateLimit.until_at, statement.excluded.until_at),
        else_=SlackRateLimit.until_at,
    )
    session.exec(
        statement.on_conflict_do_update(
            index_elements=["team_id", "method"], set_={"until_at": later}
        )
    )


def holds_after(*, session: Session, now: datetime) -> dict[tuple[str, str], datetime]:
    """Every hold still in force at `now`: (team_id, method) -> until."""
    rows = session.exec(select(SlackRateLimit).where(col(SlackRateLimit.until_at) > now))
    return {(row.team_id, row.method): row.until_at for row in rows}


def reserve_slot(
    *,
    session: Session,
    team_id: str,
    bucket: str,
    now: float,
    interval: float,
    burst: int,
    within: float | None = None,
) -> float | None:
    """Take the next slot of a token bucket (`burst` calls at once, then one per `interval`
    seconds) and return the seconds from `now` until it (0: at once). With `within`, a slot
    further off than that is not taken, and None comes back. One atomic statement (an
    upsert that moves the bucket's moment on and returns it), so instances reserving at the
    same time get distinct slots. `now` is wall-clock seconds since the epoch; the row
    keeps whole microseconds."""
    waits = reserve_slots(
        session=session,
        counts={(team_id, bucket): 1},
        now=now,
        interval=interval,
        burst=burst,
        within=within,
    )
    taken = waits.get((team_id, bucket))
    return taken[0] if taken else None


def forget_full_buckets(*, session: Session, now: float) -> int:
    """Delete the buckets that have filled up again (a missing row is a full bucket)."""
    result = session.connection().execute(
        delete(SlackPace).where(col(SlackPace.next_free_us) < round(now * MICROSECONDS))
    )
    return int(result.rowcount or 0)


def reserve_slots(
    *,
    session: Session,
    counts: Mapping[tuple[str, str], int],
    now: float,
    interval: float,
    burst: int,
    within: float | None = None,
) -> dict[tuple[str, str], list[float]]:
    """`reserve_slot` for many buckets of one pace at once: `counts[(team_id, bucket)]`
    slots of each, in one statement (a multi-row upsert). Returns each bucket's waits, in
    order; a bucket whose last slot would be further off than `within` takes none and is
    missing. Rows go in key order, so instances upserting the same buckets lock them in the
    same order (no deadlock on PostgreSQL)."""
    if not counts:
        return {}
    now_us, step = round(now * MICROSECONDS), round(interval * MICROSECONDS)
    table = SlackPace.__table__.c  # type: ignore[attr-defined]
    keys = sorted(counts)
    statement = insert_statement(session, SlackPace).values(
        [
            {"team_id": key[0], "bucket": key[1], "next_free_us": now_us + counts[key] * step}
            for key in keys
        ]
    )
    # A new row says how far its bucket moves: now + count steps.
    start = case((table.next_free_us > now_us, table.next_free_us), else_=literal(now_us))
    moved = start + statement.excluded.next_free_us - now_us
    statement = statement.on_conflict_do_update(
        index_elements=["team_id", "bucket"],
        set_={"next_free_us": moved},
        where=None
        if within is None
        else (moved - burst * step <= now_us + round(within * MICROSECONDS)),
    ).returning(table.team_id, table.bucket, table.next_free_us)
    rows = session.connection().execute(statement).all()
    waits: dict[tuple[str, str], list[float]] = {}
    for team_id, bucket, after in rows:
        count = counts[(team_id, bucket)]
        # The last slot is burst steps before `after`, each earlier one a step before it.
        last = int(after) - burst * step
        waits[(team_id, bucket)] = [
            max(0, last - (count - 1 - k) * step - now_us) / MICROSECONDS for k in range(count)
        ]
    return waits
