"""What the fake workspace holds, typed once for every method family that reads or changes it,
and the lookups and ids those families share."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from handlers.devkit.fake_slack.errors import _error
from handlers.devkit.fake_slack.records import Call, Grant, _Failure

if TYPE_CHECKING:
    from handlers.devkit.fake_slack.limits import RateLimits


class _State:
    """The base of every mixin of `FakeSlack`: its attributes, set up here and nowhere else."""

    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        app_token: str = "xapp-1-test",
        clock: Callable[[], datetime] | None = None,
        client_id: str = "1111.2222",
        client_secret: str = "abcdef0123456789abcdef0123456789",
    ) -> None:
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret
        # Workspaces (team id -> name, org); the first is the legacy token's.
        self.workspaces: dict[str, dict] = {
            team_id: {"id": team_id, "name": "Acme", "enterprise_id": None}
        }
        self.grants: dict[str, Grant] = {}  # token -> what it may do
        self._refresh: dict[str, Grant] = {}  # refresh token -> the grant it renews
        self._codes: dict[str, dict] = {}  # OAuth code -> what was approved
        # Token rotation: when set, tokens expire this many seconds after they are issued.
        self.token_lifetime: int | None = None
        self.redirect_uri: str | None = None  # the app's configured redirect URL
        self.authorize_requests: list[dict] = []
        self._grant: Grant | None = None  # the grant of the call being answered
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.calls: list[Call] = []
        self.users: dict[str, dict] = {}
        self.channels: dict[str, dict] = {}
        self.conversations: dict[str, dict] = {}
        self.messages: dict[tuple[str, str], dict] = {}
        self.views: dict[str, dict] = {}
        self.files: dict[str, dict] = {}
        self._home_ids: dict[str, str] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        # Failures answered after the call took effect (a 5xx from a proxy after Slack posted).
        self._after_failures: dict[str, deque[_Failure]] = defaultdict(deque)
        # Slack gives apps outside the Marketplace at most 15 messages per history page.
        self.history_page_max = 15
        self.rate_limits: RateLimits | None = None  # off by default: enforce_rate_limits()
        self._ids = itertools.count(1)
        # Message timestamps follow the test's clock when given, like Slack's follow real time.
        self._clock = clock
        self._last_ts_micros = 0
        self._runner: web.AppRunner | None = None
        self._base: str | None = None
        # Socket Mode: what was sent to the app, what it acknowledged, who is connected.
        self.socket_sent: list[dict] = []
        self.socket_acks: list[dict] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._socket_changed = asyncio.Condition()
        self._envelopes = itertools.count(1)

    # --- addresses -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base is None:
            raise RuntimeError("FakeSlack is not started")
        return self._base

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    @property
    def socket_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http") + "/socket-mode"

    # --- recorded calls ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def clear_calls(self) -> None:
        self.calls.clear()

    # --- ids -----------------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def _new_ts(self) -> str:
        now = self._clock() if self._clock is not None else datetime.now(UTC)
        micros = max(int(now.timestamp() * 1_000_000), self._last_ts_micros + 100)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_hash(self) -> str:
        return f"1700000000.{next(self._ids):08x}"

    # --- lookups the method families share ------------------------------------------------------

    def conversation_id(self, *user_ids: str) -> str:
        """The DM ("D…") or group DM ("G…") id conversations.open gives these users."""
        members = sorted(set(user_ids))
        digest = hashlib.sha1(f"{self.team_id}:{','.join(members)}".encode()).hexdigest()
        return ("D" if len(members) == 1 else "G") + digest[:10].upper()

    def _open(self, members: list[str]) -> tuple[str, bool]:
        channel_id = self.conversation_id(*members)
        already = channel_id in self.conversations
        if not already:
            first = self.users.get(members[0]) if members else None
            self.conversations[channel_id] = {
                "id": channel_id,
                "team": first["team_id"] if first else self.team_id,
                "members": sorted(set(members)),
                "is_im": len(set(members)) == 1,
                "is_mpim": len(set(members)) > 1,
            }
        return channel_id, already

    def _resolve_channel(self, channel: Any) -> str | None:
        if not isinstance(channel, str) or not channel:
            return None
        if channel in self.conversations or channel in self.channels:
            return channel
        if channel in self.users:  # posting to a user ID lands in the DM with them
            return self._open([channel])[0]
        return None

    def _refusal(self, channel_id: str) -> dict | None:
        """What Slack answers a post or a file share into a channel the bot cannot use."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return None
        if channel["is_private"] and not channel["is_member"]:
            return _error("channel_not_found")  # invisible to a bot that is not in it
        if channel["is_archived"]:
            return _error("is_archived")
        if not channel["is_member"]:
            return _error("not_in_channel")
        return None

    def _teams_of(self, grant: Grant) -> set[str]:
        if not grant.org_wide:
            return {grant.team_id} if grant.team_id else set()
        org = grant.enterprise_id
        return {t for t, w in self.workspaces.items() if org and w.get("enterprise_id") == org}

    def _team_of(self, ref: Any) -> str | None:
        """The workspace a user or conversation belongs to (None: unknown to the fake)."""
        if not isinstance(ref, str):
            return None
        if ref in self.users:
            return self.users[ref]["team_id"]
        if ref in self.conversations:
            return self.conversations[ref].get("team")
        if ref in self.channels:
            return self.channels[ref].get("context_team_id")
        return None
