"""Channels, DMs and group DMs: `conversations.open`, `conversations.info`,
`conversations.history`."""

from __future__ import annotations

import copy

from handlers.devkit.fake_slack.errors import _error
from handlers.devkit.fake_slack.state import _State


class ConversationsMixin(_State):
    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_private: bool = False,
        is_archived: bool = False,
        bot_is_member: bool = True,
        team_id: str | None = None,
    ) -> dict:
        """A channel the bot may post in (chat.postMessage refuses unknown channels); public
        unless `is_private`. The returned dict is live: edit it to change later answers."""
        channel = {
            "id": channel_id,
            "context_team_id": team_id or self.team_id,
            "name": name or channel_id.lower(),
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": is_archived,
            "is_member": bot_is_member,
        }
        self.channels[channel_id] = channel
        return channel

    def open_dm(self, user_id: str) -> str:
        """The person's DM with the bot, as when they open the app's Messages tab."""
        return self._open([user_id])[0]

    def _conversations_open(self, params: dict) -> dict:
        channel = params.get("channel")
        if channel:
            if channel not in self.conversations:
                return _error("channel_not_found")
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel}}
        users = params.get("users")
        if isinstance(users, str):
            users = users.split(",")
        members = [u.strip() for u in users or [] if isinstance(u, str) and u.strip()]
        if not members:
            return _error("users_list_not_supplied")
        if len(set(members)) > 8:
            return _error("too_many_users")
        for user_id in members:
            user = self.users.get(user_id)
            if user is None:
                return _error("user_not_found")
            if user["deleted"]:
                return _error("user_disabled")
        channel_id, already = self._open(members)
        answer: dict = {"ok": True, "channel": {"id": channel_id}}
        if already:
            answer.update(no_op=True, already_open=True)
        return answer

    def _conversations_info(self, params: dict) -> dict:
        channel_id = params.get("channel")
        channel = self.channels.get(channel_id) if isinstance(channel_id, str) else None
        if channel is not None:
            # Slack hides a private channel from a bot that is not in it.
            if channel["is_private"] and not channel["is_member"]:
                return _error("channel_not_found")
            return {"ok": True, "channel": copy.deepcopy(channel)}
        conversation = self.conversations.get(channel_id) if channel_id else None
        if conversation is None:
            return _error("channel_not_found")
        return {
            "ok": True,
            "channel": {
                "id": channel_id,
                "is_channel": False,
                "is_group": False,
                "is_im": conversation["is_im"],
                "is_mpim": conversation["is_mpim"],
                "is_private": True,
                "is_archived": False,
                "is_member": True,
            },
        }

    def _conversations_history(self, params: dict) -> dict:
        channel = params.get("channel")
        if channel not in self.conversations and channel not in self.channels:
            return _error("channel_not_found")
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            {k: v for k, v in m.items() if k != "reactions" and (with_metadata or k != "metadata")}
            for (c, ts), m in self.messages.items()
            if c == channel and oldest < float(ts) < latest
        ]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)  # newest first, as Slack does
        limit = min(int(params.get("limit") or 100), self.history_page_max)
        cursor = str(params.get("cursor") or "")
        start = int(cursor.removeprefix("next:")) if cursor.startswith("next:") else 0
        page = found[start : start + limit]
        has_more = start + limit < len(found)
        answer: dict = {"ok": True, "messages": page, "has_more": has_more}
        answer["response_metadata"] = {"next_cursor": f"next:{start + limit}" if has_more else ""}
        return answer
