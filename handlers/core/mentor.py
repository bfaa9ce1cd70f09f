"""What a `/mentor` sub-command's handler is given: the one request, already parsed.

The dispatch table from sub-command to handler is handlers/command.py; each handler lives
in its feature's listeners and answers through `reply` or `say` (the 3-second ack)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncAck

from bot.commands import ParsedCommand
from handlers.core.deps import Deps


@dataclass(frozen=True)
class MentorCommand:
    ack: AsyncAck
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
