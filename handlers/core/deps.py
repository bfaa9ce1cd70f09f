"""What every listener package needs, built once in app.py and passed to each register()."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.guides import Guide
from bot.prompts import Prompt
from bot.settings import Settings
from handlers.core.slack import SlackCallError, SlackGateway
from storage import program
from storage.db import Database

if TYPE_CHECKING:
    from sqlmodel import Session

    from handlers.core.installations import OAuth

USER_CACHE_SECONDS = 300
log = logging.getLogger(__name__)


@dataclass
class Deps:
    settings: Settings
    db: Database
    slack: SlackGateway
    clock: Callable[[], datetime]
    prompts: tuple[Prompt, ...] = ()
    guides: dict[str, Guide] = field(default_factory=dict)  # by audience (bot/guides.toml)
    # OAuth mode: where each workspace's installation (its bot token) and the install
    # links' states are kept; None with one workspace (SLACK_BOT_TOKEN).
    oauth: OAuth | None = None
    _user_cache: dict[tuple[str, str], tuple[float, dict]] = field(default_factory=dict)
    # Work started after an ack; kept so it is not garbage-collected and can be awaited.
    background: set[asyncio.Task] = field(default_factory=set)
    listener_runs: int = 0  # listeners Bolt has started (handlers/core/bolt.py)
    # A slash command not answered by then is acknowledged with "still working on it", and
    # its answer replaces that note when it comes (handlers/core/mentor.py).
    still_working_after: float = 0.5
    outbox_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # What features add at register(): outbox kinds (handlers.core.outbox.Kind) and
    # steps each tick runs before sending (async callables taking these Deps).
    outbox_kinds: dict[str, Any] = field(default_factory=dict)
    tick_steps: list[Callable[[Deps], Awaitable[Any]]] = field(default_factory=list)
    # A step's probe: (session, deps, now) -> the earliest moment it could have anything to
    # do, None if nothing waits (handlers/core/scheduler.next_due). A step without one
    # counts as always due.
    tick_due: dict[
        Callable[[Deps], Awaitable[Any]], Callable[[Session, Deps, datetime], datetime | None]
    ] = field(default_factory=dict)
    # Event types whose effect is applied from the durable event record (storage/events.py):
    # type -> applier(session, deps, team_id, event, now), run in one transaction.
    event_appliers: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # Who claims outbox rows: this host, this process, this app object.
    instance_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    )

    def claimant_is_dead(self, claimant: str) -> bool:
        """True only when the claimant was a process on this host that no longer runs: its
        rows need not wait for their lease to end. Anything else is presumed alive."""
        parts = claimant.rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return False
        host, pid = parts[0], int(parts[1])
        if host != socket.gethostname() or pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # it exists but is not ours to signal
        return False

    @contextmanager
    def working(self) -> Iterator[None]:
        """Count the current task as work in flight (a tick), so a shutdown waits for it."""
        task = asyncio.current_task()
        if task is not None:
            self.background.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.background.discard(task)

    async def finish(self, grace: float) -> None:
        """Let work in flight (a tick, deliveries after an ack) end before shutting down."""
        current = asyncio.current_task()
        pending = [t for t in self.background if not t.done() and t is not current]
        if pending:
            await asyncio.wait(pending, timeout=grace)

    def spawn(self, work: Coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def user_info(self, *, team_id: str, user_id: str, budget: float = 1.5) -> dict | None:
        """Slack's profile of someone, cached for a few minutes; None if Slack can't say."""
        key = (team_id, user_id)
        cached = self._user_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < USER_CACHE_SECONDS:
            return cached[1]
        try:
            data = await self.slack.call("users.info", team_id=team_id, user=user_id, budget=budget)
        except SlackCallError:
            return None
        user = data.get("user") or {}
        self._user_cache[key] = (time.monotonic(), user)
        return user

    async def is_admin(self, *, team_id: str, user_id: str, budget: float = 1.5) -> bool:
        """MENTOR_ADMINS (one workspace), the program admins named in the workspace's
        settings (OAuth mode), or the workspace's own owners and admins."""
        if user_id in self.settings.admins:
            return True
        if self.settings.oauth and user_id in await self.db.read(
            lambda s: program.get_program_settings(session=s, team_id=team_id).program_admins
        ):
            return True
        user = await self.user_info(team_id=team_id, user_id=user_id, budget=budget)
        # Unknown stays non-admin: refusing is the safe side.
        return bool(user and (user.get("is_admin") or user.get("is_owner")))
