"""Posting: `chat.postMessage`, `chat.postEphemeral`, `chat.update`."""

from __future__ import annotations

from handlers.devkit.fake_slack.errors import _error, _invalid_arguments
from handlers.devkit.fake_slack.state import _State
from handlers.devkit.fake_slack.validation import _has_content, _message_problem


class ChatMixin(_State):
    def _chat_post_message(self, params: dict) -> dict:
        if not params.get("channel"):
            return _error("channel_not_found")
        problem = _message_problem(params, surface="message")
        if problem is not None:
            return problem
        if not _has_content(params):
            return _error("no_text")
        channel = self._resolve_channel(params["channel"])
        if channel is None:
            return _error("channel_not_found")
        refused = self._refusal(channel)
        if refused is not None:
            return refused
        ts = self._new_ts()
        message = {
            "type": "message",
            "text": params.get("text") or "",
            "blocks": params.get("blocks") or [],
            "user": self._grant.bot_user_id if self._grant else self.bot_user_id,
            "bot_id": self._grant.bot_id if self._grant else self.bot_id,
            "team": self._grant.team_id if self._grant and self._grant.team_id else self.team_id,
            "ts": ts,
        }
        if params.get("attachments"):
            message["attachments"] = params["attachments"]
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = params["metadata"]
        self.messages[(channel, ts)] = dict(message, reactions={})
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, params: dict) -> dict:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _invalid_arguments("missing required field: user")
        problem = _message_problem(params, surface="message")
        if problem is not None:
            return problem
        if not _has_content(params):
            return _error("no_text")
        if self._resolve_channel(params["channel"]) is None:
            return _error("channel_not_found")
        if params["user"] not in self.users:
            return _error("user_not_found")
        return {"ok": True, "message_ts": self._new_ts()}

    def _chat_update(self, params: dict) -> dict:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        problem = _message_problem(params, surface="message")
        if problem is not None:
            return problem
        stored = self.messages.get((channel, ts))
        if stored is None:
            return _error("message_not_found")
        for key in ("text", "blocks", "attachments"):
            if key in params:
                stored[key] = params[key]
        message = {k: v for k, v in stored.items() if k != "reactions"}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": stored["text"],
            "message": message,
        }
