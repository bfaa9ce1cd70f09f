"""Members and the bot's identity: `auth.test`, `users.info`, `users.lookupByEmail`."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.devkit.fake_slack.errors import _error
from handlers.devkit.fake_slack.state import _State


class UsersMixin(_State):
    def add_user(
        self,
        user_id: str,
        *,
        tz: str = "Europe/London",
        tz_offset: int = 0,
        title: str = "",
        real_name: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        deleted: bool = False,
        team_id: str | None = None,
        email: str | None = None,
    ) -> dict:
        """Store a workspace member; the returned dict is live (edit it to change later answers)."""
        real_name = real_name or f"User {user_id}"
        user = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": real_name.lower().replace(" ", "."),
            "real_name": real_name,
            "deleted": deleted,
            "is_admin": is_admin or is_owner,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "tz": tz,
            "tz_label": _tz_label(tz),
            "tz_offset": tz_offset,
            "profile": {
                "title": title,
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": real_name.split()[0],
                "display_name_normalized": real_name.split()[0],
                "email": email or f"{user_id.lower()}@example.com",
                "team": team_id or self.team_id,
            },
        }
        self.users[user_id] = user
        return user

    def _auth_test(self, params: dict) -> dict:
        grant = self._grant
        if grant is not None:
            team = self.workspaces.get(grant.team_id or "", {})
            host = (grant.team_id or grant.enterprise_id or "x").lower()
            return {
                "ok": True,
                "url": f"https://{host}.slack.com/",
                "team": team.get("name") or f"Org {grant.enterprise_id}",
                "user": "reverse-mentor",
                "team_id": grant.team_id or grant.enterprise_id,
                "user_id": grant.bot_user_id,
                "bot_id": grant.bot_id,
                "enterprise_id": grant.enterprise_id,
                "is_enterprise_install": grant.org_wide,
            }
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "reverse-mentor",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _users_info(self, params: dict) -> dict:
        user = self.users.get(params.get("user") or "")
        if user is None:
            return _error("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _users_lookup_by_email(self, params: dict) -> dict:
        wanted = (params.get("email") or "").lower()
        seen = self._teams_of(self._grant) if self._grant is not None else None
        for user in self.users.values():
            if seen is not None and user["team_id"] not in seen:
                continue  # another workspace's people are not found with this token
            if user["profile"]["email"].lower() == wanted:
                return {"ok": True, "user": copy.deepcopy(user)}
        return _error("users_not_found")


def _tz_label(tz: str) -> str:
    try:
        return datetime(2026, 1, 15, tzinfo=UTC).astimezone(ZoneInfo(tz)).tzname() or tz
    except (ZoneInfoNotFoundError, ValueError):
        return tz
