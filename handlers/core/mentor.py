"""What a `/mentor` sub-command's handler is given: the one request, already parsed.

The dispatch table from sub-command to handler is handlers/command.py; each handler lives
in its feature's listeners and answers through `reply` or `say` (the 3-second ack)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck

from bot.commands import ParsedCommand
from handlers.core.deps import Deps
from handlers.core.slack import SlackCallError

log = logging.getLogger(__name__)

STILL_WORKING = "Still working on it: the answer will replace this note in a moment."


class TimelyAck:
    """A slash command's acknowledgement, given once. If the handler has not answered after
    `deps.still_working_after` seconds (the database is busy, say), `still_working()` acks
    with a short note so Slack's 3 seconds are never at risk; the handler's answer then
    replaces that note through the response_url."""

    def __init__(self, ack: AsyncAck, deps: Deps, response_url: str) -> None:
        self._ack, self._deps, self._url = ack, deps, response_url
        self._acked = False
        self._lock = asyncio.Lock()
        self.late = False  # the answer came after the note

    async def __call__(self, **answer: Any) -> None:
        async with self._lock:
            if not self._acked:
                self._acked = True
                await self._ack(**answer)
                return
        if not answer or not self._url:
            return  # an empty ack (a form opens instead): nothing to replace the note with
        self.late = True
        try:
            await self._deps.slack.respond(self._url, replace_original=True, **answer)
        except SlackCallError as exc:
            log.warning("a late answer to a command was not shown: %s", exc.error)

    async def still_working(self) -> None:
        async with self._lock:
            if self._acked:
                return
            self._acked = True
            await self._ack(text=STILL_WORKING, response_type="ephemeral")


async def answer_in_time(
    deps: Deps, timely: TimelyAck, handling: Callable[[], Awaitable[None]]
) -> None:
    """Run a command's handler; if it has not acked in time, ack with the note and let it
    finish after the ack."""
    task = asyncio.ensure_future(handling())
    done, _ = await asyncio.wait({task}, timeout=deps.still_working_after)
    if not done:
        await timely.still_working()
    await task


@dataclass(frozen=True)
class MentorCommand:
    ack: AsyncAck | TimelyAck
    deps: Deps
    parsed: ParsedCommand
    team_id: str
    user_id: str
    response_url: str
    trigger_id: str

    @property
    def args(self) -> tuple[str, ...]:
        return self.parsed.args

    async def reply(self, blocks: list, text: str) -> None:
        """Answer the person alone, with blocks (and `text` for notifications)."""
        await self.ack(text=text, blocks=blocks, response_type="ephemeral")

    async def say(self, text: str) -> None:
        await self.ack(text=text, response_type="ephemeral")
