"""`reactions.add`: the bot seeding a pulse survey's scale."""

from __future__ import annotations

from handlers.devkit.fake_slack.errors import _error
from handlers.devkit.fake_slack.state import _State


class ReactionsMixin(_State):
    def _reactions_add(self, params: dict) -> dict:
        name = params.get("name")
        if not name:
            return _error("invalid_name")
        if not params.get("channel") or not params.get("timestamp"):
            return _error("no_item_specified")
        stored = self.messages.get((params["channel"], params["timestamp"]))
        if stored is None:
            return _error("message_not_found")
        if name in stored["reactions"]:
            return _error("already_reacted")
        stored["reactions"][name] = [self.bot_user_id]
        return {"ok": True}
