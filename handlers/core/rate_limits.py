"""Where the gateway keeps Slack's Retry-After holds: in memory for one process, or in the
database so that a 429 told to one instance holds up every instance (same method, same
workspace).

Reading the database before every call would add a query per message, so each instance
reads the holds at most once a second and keeps them. An instance may therefore call once
within a second of another being told to wait; Slack then tells it too, and it waits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from storage import rate_limits
from storage.db import Database

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0


class RateLimits(Protocol):
    async def wait_for(self, team_id: str, method: str) -> float:
        """Seconds to wait before calling `method` for `team_id` (0 when free)."""
        ...

    async def hold(self, team_id: str, method: str, seconds: float) -> None:
        """Slack asked for `seconds` without `method` for `team_id`."""
        ...


class LocalRateLimits:
    """One process's holds (tests of the gateway alone, scripts with no database), on the
    clock given: monotonic by default, wall-clock time under SharedRateLimits."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._clock = monotonic
        self._until: dict[tuple[str, str], float] = {}

    async def wait_for(self, team_id: str, method: str) -> float:
        return max(0.0, self._until.get((team_id, method), 0.0) - self._clock())

    async def hold(self, team_id: str, method: str, seconds: float) -> None:
        self.keep(team_id, method, self._clock() + seconds)

    def keep(self, team_id: str, method: str, until: float) -> None:
        """Hold until `until` on this board's clock, unless a later hold already stands."""
        key = (team_id, method)
        self._until[key] = max(until, self._until.get(key, 0.0))


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
        for (team_id, method), until in holds.items():
            self._known.keep(team_id, method, until.timestamp())
