"""What every listener package needs, built once in app.py and passed to each register()."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.settings import Settings
from handlers.slack_api import SlackCallError, SlackGateway
from storage.db import Database

ADMIN_CACHE_SECONDS = 300


@dataclass
class Deps:
    settings: Settings
    db: Database
    slack: SlackGateway
    clock: Callable[[], datetime]
    _admin_cache: dict[tuple[str, str], tuple[float, bool]] = field(default_factory=dict)

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
