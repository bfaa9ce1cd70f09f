"""The floor to measure the bot against: a bare Bolt AsyncApp in HTTP mode on the same
machine, signed the same way, doing the least a Slack app can do. It acks `/mentor` with one
line, and records each `reaction_added` event id in SQLite from a worker thread (the
least any de-duplicating app must do). Whatever the bot costs above this is its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult

from handlers.devkit.driver import BOT_TOKEN, SIGNING_SECRET, TEAM_ID


async def _authorize(**_: object) -> AuthorizeResult:
    # One workspace, known token: no auth.test (the bot learns its identity once, too).
    return AuthorizeResult(
        enterprise_id=None, team_id=TEAM_ID, bot_token=BOT_TOKEN, bot_user_id="UBOT"
    )


class Floor:
    """The bare app and its one table."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        setup = sqlite3.connect(db_path)
        setup.execute("PRAGMA journal_mode = WAL")
        setup.execute("CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY)")
        setup.commit()
        setup.close()
        self.app = AsyncApp(signing_secret=SIGNING_SECRET, authorize=_authorize)
        self.pending: set[asyncio.Task] = set()

        @self.app.command("/mentor")
        async def mentor(ack: AsyncAck) -> None:
            await ack(text="Reverse Mentor", response_type="ephemeral")

        @self.app.event("reaction_added")
        async def reaction(body: dict) -> None:
            task = asyncio.current_task()
            if task is not None:
                self.pending.add(task)
            try:
                await asyncio.to_thread(self._record, body["event_id"])
            finally:
                if task is not None:
                    self.pending.discard(task)

    def _record(self, event_id: str) -> None:
        connection = sqlite3.connect(self.db_path, timeout=10)
        try:
            connection.execute("INSERT OR IGNORE INTO seen VALUES (?)", (event_id,))
            connection.commit()
        finally:
            connection.close()

    def recorded(self) -> int:
        connection = sqlite3.connect(self.db_path)
        try:
            return connection.execute("SELECT count(*) FROM seen").fetchone()[0]
        finally:
            connection.close()

    def web_app(self) -> web.Application:
        return self.app.web_app(path="/slack/events")
