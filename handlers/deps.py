"""What every listener package needs, built once in app.py and passed to each register()."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime

from bot.prompts import Prompt
from bot.settings import Settings
from handlers.slack_api import SlackCallError, SlackGateway
from storage.db import Database

ADMIN_CACHE_SECONDS = 300
log = logging.getLogger(__name__)


@dataclass
class Deps:
    settings: Settings
    db: Database
    slack: SlackGateway
    clock: Callable[[], datetime]
    prompts: tuple[Prompt, ...] = ()
    _admin_cache: dict[tuple[str, str], tuple[float, bool]] = field(default_factory=dict)
    # Work started after an ack; kept so it is not garbage-collected and can be awaited.
    background: set[asyncio.Task] = field(default_factory=set)
    outbox_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def spawn(self, work: Coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def is_admin(self, *, team_id: str, user_id: str, budget: float = 1.5) -> bool:
        """MENTOR_ADMINS, or the workspace's own owners and admins (cached for a few minutes)."""
        if user_id in self.settings.admins:
            return True
        key = (team_id, user_id)
        cached = self._admin_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < ADMIN_CACHE_SECONDS:
            return cached[1]
        try:
            data = await self.slack.call("users.info", user=user_id, budget=budget)
        except SlackCallError:
            return False  # unknown stays non-admin; refusing is the safe side
        user = data.get("user") or {}
        verdict = bool(user.get("is_admin") or user.get("is_owner"))
        self._admin_cache[key] = (time.monotonic(), verdict)
        return verdict
