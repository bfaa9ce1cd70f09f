"""Slack's rate limits in the gateway: the pace each Web API method is held to (one token
bucket per workspace and method, per channel for chat.postMessage: METHOD_PACES, the one
table of Slack's tiers, which the fake Slack enforces too), and Retry-After holds. Both are
kept in memory for one process, or in the database so that every instance sharing it keeps
one pace and waits out a 429 told to any of them (same method, same workspace).

Pacing: a call reserves the next slot of its bucket and waits for it (the gateway's sleep)
before it goes; in the database that is one atomic upsert (storage/rate_limits.py), so
instances never take the same slot. A sender about to post a batch reserves all its slots
in one upsert (`reserve_many`, the gateway's `reserve`); a slot left unused (a post that
failed first) is lost, never handed out twice, so the pace only ever errs slow.

Reading the database before every call would add a query per message, so each instance
reads the holds at most once a second and keeps them. An instance may therefore call once
within a second of another being told to wait; Slack then tells it too, and it waits.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from storage import rate_limits
from storage.db import Database
from storage.rate_limits import MICROSECONDS

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
Holds = dict[tuple[str, str], datetime]  # (team_id, method) -> held until
PRUNE_SECONDS = 600.0  # how often an instance deletes buckets that have filled up again


@dataclass(frozen=True)
class Pace:
    """A token bucket: `burst` calls at once, refilled at `per_minute`; `per_channel`: one
    bucket per channel (chat.postMessage) instead of one per method."""

    per_minute: float
    burst: int
    per_channel: bool = False

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute


# Slack's published tiers (docs.slack.dev/apis/web-api/rate-limits), per method, app and
# workspace. Slack says "N+ per minute" with bursts tolerated but gives no burst size: a
# bucket holds a minute's calls, as the fake Slack (handlers/devkit/fake_slack/limits.py)
# enforces them. chat.postMessage is "special": about one per second per channel, short
# bursts allowed (we allow 3).
TIER_2 = Pace(per_minute=20, burst=20)
TIER_3 = Pace(per_minute=50, burst=50)
TIER_4 = Pace(per_minute=100, burst=100)
POSTING = Pace(per_minute=60, burst=3, per_channel=True)

# Every method in handlers/core/slack.py's METHOD_SCOPES, with its pace (a test keeps the two
# tables' methods equal).
METHOD_PACES: Mapping[str, Pace] = {
    "auth.test": TIER_4,  # special: "hundreds per minute"; paced as Tier 4
    "users.info": TIER_4,
    "users.lookupByEmail": TIER_3,
    "conversations.open": TIER_3,
    "chat.postMessage": POSTING,
    # Tier 3 for internal and Marketplace apps (Tier 1 for new commercially distributed
    # non-Marketplace apps since 2025: not this bot's case).
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "views.open": TIER_4,
    "views.publish": TIER_4,
    "views.update": TIER_4,
    "reactions.add": TIER_3,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
}


def bucket_of(method: str, params: Mapping[str, object]) -> tuple[str, Pace] | None:
    """The bucket a call of `method` with `params` takes its token from, and its pace."""
    pace = METHOD_PACES.get(method)
    if pace is None:
        return None
    if pace.per_channel:
        return f"{method} {params.get('channel') or ''}", pace
    return method, pace


class RateLimits(Protocol):
    async def wait_for(self, team_id: str, method: str) -> float:
        """Seconds to wait before calling `method` for `team_id` (0 when free)."""
        ...

    async def hold(self, team_id: str, method: str, seconds: float) -> None:
        """Slack asked for `seconds` without `method` for `team_id`."""
        ...

    async def reserve(
        self, team_id: str, bucket: str, pace: Pace, *, within: float | None = None
    ) -> float | None:
        """Take the next slot of `team_id`'s `bucket`: seconds until it may be used (0: now);
        None, and nothing taken, when that is more than `within` seconds off."""
        ...

    async def reserve_many(
        self, slots: Sequence[tuple[str, str]], pace: Pace, *, within: float | None = None
    ) -> list[float | None]:
        """`reserve` for each (team_id, bucket) of `slots` (a bucket may come more than
        once), all of one pace, at once: the wait of each, in order; None for those of a
        bucket whose last slot would be more than `within` seconds off (none taken)."""
        ...


class LocalRateLimits:
    """One process's holds (tests of the gateway alone, scripts with no database), on the
    clock given: monotonic by default, wall-clock time under SharedRateLimits."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._clock = monotonic
        self._until: dict[tuple[str, str], float] = {}
        self._full_at: dict[tuple[str, str], int] = {}  # bucket -> when full again (µs)

    async def wait_for(self, team_id: str, method: str) -> float:
        return max(0.0, self._until.get((team_id, method), 0.0) - self._clock())

    async def hold(self, team_id: str, method: str, seconds: float) -> None:
        self.keep(team_id, method, self._clock() + seconds)

    def keep(self, team_id: str, method: str, until: float) -> None:
        """Hold until `until` on this board's clock, unless a later hold already stands."""
        key = (team_id, method)
        self._until[key] = max(until, self._until.get(key, 0.0))

    async def reserve(
        self, team_id: str, bucket: str, pace: Pace, *, within: float | None = None
    ) -> float | None:
        # The generic cell rate algorithm: a call may go burst - 1 intervals before the
        # moment the bucket would be full again, and moves that moment on by one interval.
        # In whole microseconds, as in the database: floats of wall-clock seconds drift.
        now, step = round(self._clock() * MICROSECONDS), round(pace.interval * MICROSECONDS)
        key = (team_id, bucket)
        moved = max(self._full_at.get(key, now), now) + step
        wait = max(0, moved - pace.burst * step - now) / MICROSECONDS
        if within is not None and wait > within:
            return None
        self._full_at[key] = moved
        if len(self._full_at) > 10_000:  # channels come and go: drop the full buckets
            self._full_at = {k: at for k, at in self._full_at.items() if at > now}
        return wait

    async def reserve_many(
        self, slots: Sequence[tuple[str, str]], pace: Pace, *, within: float | None = None
    ) -> list[float | None]:
        return [await self.reserve(team, bucket, pace, within=within) for team, bucket in slots]


class SharedRateLimits:
    """Holds kept in the database (storage/rate_limits.py), in wall-clock time because the
    instances' monotonic clocks do not agree. If the database cannot be reached the holds
    this instance knows still apply, and sending goes on."""

    def __init__(
        self,
        db: Database,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        refresh: float = REFRESH_SECONDS,
    ) -> None:
        self._db = db
        self._wall = wall
        self._monotonic = monotonic
        self._refresh = refresh
        self._known = LocalRateLimits(wall)  # what this instance has been told or has read
        self._read_at: float | None = None
        self._pruned_at: float | None = None
        # Pace reservations made in the database, and the real seconds they took (bench).
        self.round_trips = 0
        self.round_trip_seconds = 0.0

    async def wait_for(self, team_id: str, method: str) -> float:
        if self._read_at is None or self._monotonic() - self._read_at >= self._refresh:
            await self._read()
        return await self._known.wait_for(team_id, method)

    async def hold(self, team_id: str, method: str, seconds: float) -> None:
        until = self._wall() + seconds
        self._known.keep(team_id, method, until)
        when = datetime.fromtimestamp(until, UTC)
        try:
            await self._db.run(
                lambda session: rate_limits.hold(
                    session=session, team_id=team_id, method=method, until=when
                )
            )
        except SQLAlchemyError as exc:
            log.warning("rate limit of %s not shared: %s", method, type(exc).__name__)

    async def _read(self) -> None:
        now = datetime.fromtimestamp(self._wall(), UTC)
        self._read_at = self._monotonic()  # a failed read is not retried at every call
        try:
            holds = await self._db.run(
                lambda session: rate_limits.holds_after(session=session, now=now)
            )
        except SQLAlchemyError as exc:
            log.warning("shared rate limits not read: %s", type(exc).__name__)
            return
        self._keep(holds)

    def _keep(self, holds: Holds) -> None:
        for (team_id, method), until in holds.items():
            self._known.keep(team_id, method, until.timestamp())

    def _prune_now(self) -> bool:
        """Whether this reservation also deletes the full buckets (every PRUNE_SECONDS)."""
        prune = self._pruned_at is None or self._monotonic() - self._pruned_at >= PRUNE_SECONDS
        if prune:
            self._pruned_at = self._monotonic()
        return prune

    async def reserve(
        self, team_id: str, bucket: str, pace: Pace, *, within: float | None = None
    ) -> float | None:
        [wait] = await self._reserve_shared([(team_id, bucket)], pace, within=within, read=False)
        return wait

    async def reserve_many(
        self, slots: Sequence[tuple[str, str]], pace: Pace, *, within: float | None = None
    ) -> list[float | None]:
        """One upsert for every slot (a batch of posts), not one per call."""
        if not slots:
            return []
        # The holds are read in the same transaction when they are due to be (wait_for).
        read = self._read_at is None or self._monotonic() - self._read_at >= self._refresh
        if read:
            self._read_at = self._monotonic()
        return await self._reserve_shared(slots, pace, within=within, read=read)

    async def _reserve_shared(
        self,
        slots: Sequence[tuple[str, str]],
        pace: Pace,
        *,
        within: float | None,
        read: bool,
    ) -> list[float | None]:
        now = self._wall()
        counts = Counter(slots)
        prune = self._prune_now()

        def take(session: Session) -> tuple[Holds, dict[tuple[str, str], list[float]]]:
            if prune:
                rate_limits.forget_full_buckets(session=session, now=now)
            when = datetime.fromtimestamp(now, UTC)
            holds = rate_limits.holds_after(session=session, now=when) if read else {}
            return holds, rate_limits.reserve_slots(
                session=session,
                counts=counts,
                now=now,
                interval=pace.interval,
                burst=pace.burst,
                within=within,
            )

        started = time.perf_counter()
        try:
            self.round_trips += 1
            holds, taken = await self._db.run(take)
        except SQLAlchemyError as exc:
            # Without the database this instance keeps its own pace: it cannot see the
            # others' calls, and Slack's 429s (still honoured) cover the difference.
            log.warning("pace of %s not shared: %s", slots[0][1], type(exc).__name__)
            return await self._known.reserve_many(slots, pace, within=within)
        finally:
            self.round_trip_seconds += time.perf_counter() - started
        self._keep(holds)
        waits: dict[tuple[str, str], Iterator[float]] = {k: iter(v) for k, v in taken.items()}
        return [next(waits[slot]) if slot in waits else None for slot in slots]
