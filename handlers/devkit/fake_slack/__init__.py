"""A fake Slack Web API on loopback: records every call and answers the way Slack does.

Used by tests and the offline demo through the real slack_sdk client (base_url=fake.api_url).

Its first token (`token`) works for everything, as tests of one workspace need. Workspaces
that install the app through the fake's OAuth (`/oauth/v2/authorize`, `oauth.v2.access`)
each get a token of their own, and a call made with it about a user or a conversation of
another workspace is refused the way Slack refuses it (`user_not_found`,
`channel_not_found`): so a bot that sends with the wrong workspace's token fails a test.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import itertools
import json
import math
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import WSCloseCode, WSMsgType, web

# Parameters Slack accepts as JSON-encoded strings in form bodies.
_JSON_KEYS = ("blocks", "view", "attachments", "files", "metadata")

MESSAGE_TEXT_MAX = 40000

BLOCK_TYPES = frozenset(
    {
        "section",
        "divider",
        "image",
        "actions",
        "context",
        "input",
        "header",
        "rich_text",
        "file",
        "video",
    }
)
_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_CHOICES = frozenset({"checkboxes", "radio_buttons", "datepicker", "timepicker", "datetimepicker"})
_TEXT_INPUTS = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)
ACTION_ELEMENTS = _SELECTS | _CHOICES | {"button", "overflow", "workflow_button"}
ACCESSORY_ELEMENTS = ACTION_ELEMENTS | {"image"}
INPUT_ELEMENTS = _SELECTS | _CHOICES | _TEXT_INPUTS | {"file_input"}
_SURFACE_MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}


@dataclass
class Call:
    method: str
    params: dict
    token: str | None
    path: str


@dataclass
class Grant:
    """A bot token the fake's OAuth issued: for one workspace, or org-wide for an org."""

    token: str
    team_id: str | None  # None for an org-wide installation
    enterprise_id: str | None
    org_wide: bool
    bot_user_id: str
    bot_id: str
    expires_at: float | None = None  # epoch seconds (token rotation), like Slack's expiry
    refresh_token: str | None = None
    revoked: bool = False


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str | None


class RateLimits:
    """Slack's published limits, off unless `FakeSlack.enforce_rate_limits()` turns them on:
    conversations.open is Tier 3 (50+ per minute: a token bucket of `open_burst` refilled at
    `open_per_minute`), chat.postMessage about one per second per channel (a bucket per
    channel). Past a limit the call is answered 429 with an integer Retry-After, as Slack
    does; `hits` counts those answers per method. `monotonic` is the limiter's time source
    (pass a fake one to run hours of traffic on a simulated clock)."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        open_per_minute: float = 50,
        open_burst: int = 50,
        posts_per_second: float = 1.0,
        post_burst: int = 1,
    ) -> None:
        self.monotonic = monotonic
        self.hits: Counter[str] = Counter()
        self._rules = {
            "conversations.open": (open_burst, open_per_minute / 60),
            "chat.postMessage": (post_burst, posts_per_second),
        }
        self._buckets: dict[tuple[str, str], list[float]] = {}  # [tokens, last refill]

    def retry_after(self, method: str, params: dict) -> int | None:
        """None if the call may go ahead (and take its token), else whole seconds to wait."""
        rule = self._rules.get(method)
        if rule is None:
            return None
        burst, per_second = rule
        key = (method, str(params.get("channel") or "") if method == "chat.postMessage" else "")
        now = self.monotonic()
        bucket = self._buckets.setdefault(key, [float(burst), now])
        bucket[0] = min(float(burst), bucket[0] + (now - bucket[1]) * per_second)
        bucket[1] = now
        if bucket[0] >= 1 - 1e-9:
            bucket[0] -= 1
            return None
        self.hits[method] += 1
        return max(1, math.ceil((1 - bucket[0]) / per_second - 1e-9))


class _BadRequest(Exception):
    def __init__(self, error: str) -> None:
        self.error = error


# ---------------------------------------------------------------------------------------------
# Block Kit validation: plain functions, so tests can check the checker itself.


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{message} [json-pointer:{path}]")

    def string(self, value: Any, path: str, *, max_len: int, min_len: int = 0) -> None:
        if not isinstance(value, str):
            self.fail(path, "must be a string")
        elif len(value) > max_len:
            self.fail(path, f"must be less than {max_len + 1} characters")
        elif len(value) < min_len:
            self.fail(path, f"must be more than {min_len - 1} characters")

    def optional(self, obj: dict, key: str, path: str, *, max_len: int) -> None:
        if key in obj:
            self.string(obj[key], f"{path}/{key}", max_len=max_len)

    def items(self, value: Any, path: str, *, max_items: int, min_items: int = 1) -> list:
        if not isinstance(value, list):
            self.fail(path, "must be an array")
            return []
        if len(value) > max_items:
            self.fail(path, f"must be less than {max_items + 1} items")
        if len(value) < min_items:
            self.fail(path, f"must be more than {min_items - 1} items")
        return value

    def text(self, obj: Any, path: str, *, max_len: int, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.fail(path, "must provide an object")
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        kind = obj.get("type")
        if kind not in allowed:
            self.fail(f"{path}/type", f"must be one of: {', '.join(allowed)}")
        if kind == "mrkdwn" and "emoji" in obj:
            self.fail(f"{path}/emoji", "invalid additional property: emoji")
        self.string(obj.get("text"), f"{path}/text", max_len=max_len, min_len=1)

    def optional_text(
        self, obj: dict, key: str, path: str, *, max_len: int, plain_only=True
    ) -> None:
        if key in obj:
            self.text(obj[key], f"{path}/{key}", max_len=max_len, plain_only=plain_only)

    def required_text(
        self, obj: dict, key: str, path: str, *, max_len: int, plain_only=True
    ) -> None:
        if key not in obj:
            self.fail(path, f"missing required field: {key}")
        else:
            self.text(obj[key], f"{path}/{key}", max_len=max_len, plain_only=plain_only)

    def confirm(self, obj: dict, path: str) -> None:
        if "confirm" not in obj:
            return
        dialog, path = obj["confirm"], f"{path}/confirm"
        if not isinstance(dialog, dict):
            self.fail(path, "must provide an object")
            return
        self.required_text(dialog, "title", path, max_len=100)
        self.required_text(dialog, "text", path, max_len=300, plain_only=False)
        self.required_text(dialog, "confirm", path, max_len=30)
        self.required_text(dialog, "deny", path, max_len=30)

    def options(self, el: dict, path: str, *, max_items: int, plain_only: bool) -> None:
        values: set = set()
        groups = el.get("option_groups")
        if groups is not None:
            listed = []
            for g, group in enumerate(self.items(groups, f"{path}/option_groups", max_items=100)):
                if isinstance(group, dict):
                    self.required_text(group, "label", f"{path}/option_groups/{g}", max_len=75)
                    listed.append((f"{path}/option_groups/{g}/options", group.get("options")))
        elif "options" in el or el["type"] in ("static_select", "multi_static_select"):
            listed = [(f"{path}/options", el.get("options"))]
        else:
            listed = []
        for options_path, options in listed:
            for o, option in enumerate(self.items(options, options_path, max_items=max_items)):
                opath = f"{options_path}/{o}"
                if not isinstance(option, dict):
                    self.fail(opath, "must provide an object")
                    continue
                self.required_text(option, "text", opath, max_len=75, plain_only=plain_only)
                self.string(option.get("value"), f"{opath}/value", max_len=150, min_len=1)
                self.optional_text(option, "description", opath, max_len=75, plain_only=plain_only)
                values.add(option.get("value"))
        if not listed:
            return
        # Slack refuses an initial choice that is not one of the options offered.
        initial = [el["initial_option"]] if isinstance(el.get("initial_option"), dict) else []
        initial += [o for o in el.get("initial_options") or [] if isinstance(o, dict)]
        for chosen in initial:
            if chosen.get("value") not in values:
                self.fail(f"{path}/initial_option", "must match one of the provided options")

    def element(self, el: Any, path: str, allowed: frozenset[str]) -> None:
        if not isinstance(el, dict):
            self.fail(path, "must provide an object")
            return
        kind = el.get("type")
        if kind not in allowed:
            self.fail(f"{path}/type", f"unsupported element type: {kind}")
            return
        self.optional(el, "action_id", path, max_len=255)
        self.optional_text(el, "placeholder", path, max_len=150)
        self.confirm(el, path)
        if kind in ("button", "workflow_button"):
            self.required_text(el, "text", path, max_len=75)
            self.optional(el, "value", path, max_len=2000)
            self.optional(el, "url", path, max_len=3000)
            if "style" in el and el["style"] not in ("primary", "danger"):
                self.fail(f"{path}/style", "must be one of: primary, danger")
        elif kind == "image":
            self.image(el, path)
        elif kind == "overflow":
            self.options(el, path, max_items=5, plain_only=True)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(el, path, max_items=10, plain_only=False)
        elif kind in _SELECTS:
            self.options(el, path, max_items=100, plain_only=True)
        elif kind in _TEXT_INPUTS:
            for key in ("min_length", "max_length"):
                if key in el and not (isinstance(el[key], int) and 0 <= el[key] <= 3000):
                    self.fail(f"{path}/{key}", "must be an integer between 0 and 3000")

    def image(self, obj: dict, path: str) -> None:
        if "image_url" in obj:
            self.string(obj["image_url"], f"{path}/image_url", max_len=3000, min_len=1)
        elif "slack_file" not in obj:
            self.fail(path, "must provide either image_url or slack_file")
        if "alt_text" not in obj:
            self.fail(path, "missing required field: alt_text")
        else:
            self.string(obj["alt_text"], f"{path}/alt_text", max_len=2000, min_len=1)

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, dict):
            self.fail(path, "must provide an object")
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.fail(f"{path}/type", f"unsupported block type: {kind}")
            return
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail(path, "must provide either text or fields")
            self.optional_text(block, "text", path, max_len=3000, plain_only=False)
            if "fields" in block:
                fields = self.items(block["fields"], f"{path}/fields", max_items=10)
                for f, field in enumerate(fields):
                    self.text(field, f"{path}/fields/{f}", max_len=2000)
            if "accessory" in block:
                self.element(block["accessory"], f"{path}/accessory", ACCESSORY_ELEMENTS)
        elif kind == "header":
            self.required_text(block, "text", path, max_len=150)
        elif kind == "image":
            self.image(block, path)
            self.optional_text(block, "title", path, max_len=2000)
        elif kind == "actions":
            elements = self.items(block.get("elements"), f"{path}/elements", max_items=25)
            for e, element in enumerate(elements):
                self.element(element, f"{path}/elements/{e}", ACTION_ELEMENTS)
        elif kind == "context":
            elements = self.items(block.get("elements"), f"{path}/elements", max_items=10)
            for e, element in enumerate(elements):
                epath = f"{path}/elements/{e}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.image(element, epath)
                else:
                    self.text(element, epath, max_len=3000)
        elif kind == "input":
            self.required_text(block, "label", path, max_len=2000)
            self.optional_text(block, "hint", path, max_len=2000)
            if "element" not in block:
                self.fail(path, "missing required field: element")
            else:
                self.element(block["element"], f"{path}/element", INPUT_ELEMENTS)
        elif kind == "rich_text":
            self.items(block.get("elements"), f"{path}/elements", max_items=100, min_items=0)
        elif kind == "file":
            for key in ("external_id", "source"):
                if key not in block:
                    self.fail(path, f"missing required field: {key}")
        elif kind == "video":
            self.required_text(block, "title", path, max_len=200)
            for key in ("alt_text", "thumbnail_url", "video_url"):
                if key not in block:
                    self.fail(path, f"missing required field: {key}")


def validate_blocks(blocks: Any, *, surface: str = "message", path: str = "/blocks") -> list[str]:
    """Slack's complaints about `blocks` on a surface ("message", "modal" or "home"); [] if fine."""
    if surface not in _SURFACE_MAX_BLOCKS:
        raise ValueError(f"unknown surface {surface!r}")
    check = _Checker()
    listed = check.items(blocks, path, max_items=_SURFACE_MAX_BLOCKS[surface], min_items=0)
    seen: set[str] = set()
    for index, block in enumerate(listed):
        bpath = f"{path}/{index}"
        if isinstance(block, dict) and "block_id" in block:
            block_id = block["block_id"]
            check.string(block_id, f"{bpath}/block_id", max_len=255, min_len=1)
            if block_id in seen:
                check.fail(f"{bpath}/block_id", f"duplicate block_id: {block_id}")
            if isinstance(block_id, str):
                seen.add(block_id)
        check.block(block, bpath)
    return check.errors


def validate_view(view: Any) -> list[str]:
    """Slack's complaints about a modal or Home tab view; [] if fine."""
    check = _Checker()
    path = "/view"
    if not isinstance(view, dict):
        check.fail(path, "must provide an object")
        return check.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        check.fail(f"{path}/type", "must be one of: modal, home")
        kind = "modal"
    if kind == "modal":
        check.required_text(view, "title", path, max_len=24)
    else:
        check.optional_text(view, "title", path, max_len=24)
    check.optional_text(view, "submit", path, max_len=24)
    check.optional_text(view, "close", path, max_len=24)
    check.optional(view, "callback_id", path, max_len=255)
    check.optional(view, "private_metadata", path, max_len=3000)
    check.optional(view, "external_id", path, max_len=255)
    if "blocks" not in view:
        check.fail(path, "missing required field: blocks")
        return check.errors
    errors = check.errors + validate_blocks(view["blocks"], surface=kind, path=f"{path}/blocks")
    blocks = view["blocks"] if isinstance(view["blocks"], list) else []
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if kind == "modal" and has_input and "submit" not in view:
        errors.append(f"must provide submit when blocks contain an input [json-pointer:{path}]")
    return errors


def _invalid_blocks(errors: list[str]) -> dict:
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": errors,
        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
    }


def _invalid_arguments(*errors: str) -> dict:
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
    }


def _error(code: str) -> dict:
    return {"ok": False, "error": code}


# ---------------------------------------------------------------------------------------------


class FakeSlack:
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
        self._methods: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "reactions.add": self._reactions_add,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket-mode", self._socket_mode)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._base = f"http://{host}:{port}"

    async def stop(self) -> None:
        # Open websockets would otherwise hold up the runner's shutdown.
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

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

    # --- test controls -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def clear_calls(self) -> None:
        self.calls.clear()

    def clear_failures(self) -> None:
        """Drop injected failures that no call has used up yet."""
        self._failures.clear()
        self._after_failures.clear()

    def add_workspace(
        self, team_id: str, *, name: str | None = None, enterprise_id: str | None = None
    ) -> dict:
        """Another workspace (of an Enterprise Grid org with `enterprise_id`)."""
        self.workspaces[team_id] = {
            "id": team_id,
            "name": name or f"Workspace {team_id}",
            "enterprise_id": enterprise_id,
        }
        return self.workspaces[team_id]

    def grant_of(self, team_id: str) -> Grant | None:
        """The newest live token that speaks for `team_id` (its own, else its org's)."""
        org = self.workspaces.get(team_id, {}).get("enterprise_id")
        live = [g for g in self.grants.values() if not g.revoked]
        own = [g for g in live if g.team_id == team_id]
        orgs = [g for g in live if g.org_wide and org and g.enterprise_id == org]
        found = own or orgs
        return found[-1] if found else None

    def revoke(self, *, team_id: str | None = None, enterprise_id: str | None = None) -> int:
        """Uninstall: the workspace's tokens (or the org-wide ones of `enterprise_id`) stop
        working, as Slack's do when an app is removed. Returns how many were revoked."""
        revoked = 0
        for grant in self.grants.values():
            ours = grant.team_id == team_id if team_id else False
            ours |= bool(enterprise_id) and grant.org_wide and grant.enterprise_id == enterprise_id
            if ours and not grant.revoked:
                grant.revoked, revoked = True, revoked + 1
        return revoked

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

    def conversation_id(self, *user_ids: str) -> str:
        """The DM ("D…") or group DM ("G…") id conversations.open gives these users."""
        members = sorted(set(user_ids))
        digest = hashlib.sha1(f"{self.team_id}:{','.join(members)}".encode()).hexdigest()
        return ("D" if len(members) == 1 else "G") + digest[:10].upper()

    def enforce_rate_limits(self, **limits: Any) -> RateLimits:
        """Answer 429 + Retry-After past Slack's limits from now on (see RateLimits)."""
        self.rate_limits = RateLimits(**limits)
        return self.rate_limits

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `method` ("response_url" too) with a failure."""
        if status == 200 and not error:
            raise ValueError("a status 200 failure needs an error code")
        for _ in range(times):
            self._failures[method].append(_Failure(status, retry_after, error))

    def fail_after_applying(self, method: str, *, status: int = 500, times: int = 1) -> None:
        """The next `times` calls to `method` take effect (a post is stored, a file shared),
        then are answered with a failure: the caller cannot tell whether they went through."""
        for _ in range(times):
            self._after_failures[method].append(_Failure(status, None, None))

    # --- Socket Mode ---------------------------------------------------------------------------

    @property
    def socket_clients(self) -> int:
        return len(self._sockets)

    # The waits take a timeout so that a test can never hang on a client that never shows up.
    async def socket_connected(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until a Socket Mode client has connected (and been sent its hello)."""
        await self._wait_socket(lambda: bool(self._sockets), timeout)

    async def socket_disconnected(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until no Socket Mode client is connected."""
        await self._wait_socket(lambda: not self._sockets, timeout)

    async def socket_send(
        self,
        envelope_type: str,
        payload: dict,
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = True,
    ) -> str:
        """Deliver an envelope ("slash_commands", "interactive", "events_api"); returns its id."""
        if not self._sockets:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = envelope_id or f"env-{next(self._envelopes):06d}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        self.socket_sent.append(envelope)
        for ws in list(self._sockets):
            await ws.send_json(envelope)
        return envelope_id

    async def socket_ack(self, envelope_id: str, timeout: float = 10) -> dict:  # noqa: ASYNC109
        """Wait for the app's acknowledgement of an envelope and return it."""

        def find() -> dict | None:
            return next((a for a in self.socket_acks if a.get("envelope_id") == envelope_id), None)

        await self._wait_socket(lambda: find() is not None, timeout)
        return find() or {}

    async def _wait_socket(self, predicate: Callable[[], bool], seconds: float) -> None:
        async with asyncio.timeout(seconds), self._socket_changed:
            await self._socket_changed.wait_for(predicate)

    async def _socket_notify(self) -> None:
        async with self._socket_changed:
            self._socket_changed.notify_all()

    async def _socket_mode(self, request: web.Request) -> web.StreamResponse:
        # autoping answers the client's ping frames with pongs, as Slack's servers do.
        ws = web.WebSocketResponse(autoping=True, timeout=5)
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets) + 1,
                "debug_info": {
                    "host": "applink-fake",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": "A1"},
            }
        )
        self._sockets.add(ws)
        await self._socket_notify()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                except ValueError:
                    continue
                if isinstance(data, dict) and data.get("envelope_id"):
                    self.socket_acks.append(data)
                    await self._socket_notify()
        finally:
            self._sockets.discard(ws)
            await self._socket_notify()
        return ws

    # --- HTTP handlers -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except _BadRequest as bad:
            self.calls.append(Call(method, {}, _bearer(request), request.path))
            return web.json_response(_error(bad.error))
        token = _bearer(request)
        param_token = params.pop("token", None)
        if token is None and isinstance(param_token, str) and param_token:
            token = param_token
        self.calls.append(Call(method, params, token, request.path))
        failure = self._take_failure(method)
        if failure is not None:
            return failure
        if method == "oauth.v2.access":  # the app's credentials, not a token
            return web.json_response(self._oauth_v2_access(request, params))
        if token is None:
            return web.json_response(_error("not_authed"))
        if method == "apps.connections.open":
            # Only the app-level token may open a Socket Mode connection.
            if token != self.app_token:
                return web.json_response(_error("invalid_auth"))
            return web.json_response({"ok": True, "url": self.socket_url})
        grant = None
        if token != self.token:
            grant = self.grants.get(token)
            if grant is None:
                return web.json_response(_error("invalid_auth"))
            if grant.revoked:
                return web.json_response(_error("token_revoked"))
            if grant.expires_at is not None and time.time() >= grant.expires_at:
                return web.json_response(_error("token_expired"))
            outside = self._outside(grant, params)
            if outside is not None:
                return web.json_response(outside)
        handler = self._methods.get(method)
        wait = None if self.rate_limits is None else self.rate_limits.retry_after(method, params)
        if wait is not None:
            return web.json_response(
                _error("ratelimited"), status=429, headers={"Retry-After": str(wait)}
            )
        if handler is None:
            return web.json_response(_error("unknown_method"))
        self._grant = grant
        try:
            answer = handler(params)
        finally:
            self._grant = None
        after = self._after_failures.get(method)
        if after and answer.get("ok"):
            applied = after.popleft()
            return web.Response(status=applied.status, text=f"{applied.status} upstream failure")
        return web.json_response(answer)

    # --- OAuth ---------------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Slack's "Allow" page, answered at once: approves the install and sends the browser
        back to the app's redirect URL with a code and the state. `team` picks the workspace
        (a T… id), or an org (an E… id: an org-wide install); else the first workspace."""
        query = dict(request.query)
        self.authorize_requests.append(query)
        redirect = query.get("redirect_uri") or self.redirect_uri
        if query.get("client_id") != self.client_id or not redirect:
            return web.Response(status=400, text="invalid client_id or no redirect URL")
        chosen = query.get("team") or self.team_id
        code = f"code-{next(self._ids)}"
        if chosen.startswith("E"):
            self._codes[code] = {"team_id": None, "enterprise_id": chosen, "org_wide": True}
        else:
            org = self.workspaces.get(chosen, {}).get("enterprise_id")
            self._codes[code] = {"team_id": chosen, "enterprise_id": org, "org_wide": False}
        self._codes[code]["scope"] = query.get("scope", "")
        location = f"{redirect}?code={code}&state={query.get('state', '')}"
        raise web.HTTPFound(location)

    def _oauth_v2_access(self, request: web.Request, params: dict) -> dict:
        client_id, secret = params.get("client_id"), params.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != self.client_id:
            return _error("invalid_client_id")
        if secret != self.client_secret:
            return _error("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            old = self._refresh.pop(str(params.get("refresh_token")), None)
            if old is None or old.revoked:
                return _error("invalid_refresh_token")
            grant = self._issue(old.team_id, old.enterprise_id, old.org_wide)
            return self._token_answer(grant, scope="")
        approved = self._codes.pop(str(params.get("code")), None)
        if approved is None:
            return _error("invalid_code")
        grant = self._issue(approved["team_id"], approved["enterprise_id"], approved["org_wide"])
        return self._token_answer(grant, scope=approved["scope"])

    def _issue(self, team_id: str | None, enterprise_id: str | None, org_wide: bool) -> Grant:
        n = next(self._ids)
        owner = team_id or enterprise_id or "?"
        rotating = self.token_lifetime is not None
        grant = Grant(
            token=f"xoxe.xoxb-{owner}-{n}" if rotating else f"xoxb-{owner}-{n}",
            team_id=team_id,
            enterprise_id=enterprise_id,
            org_wide=org_wide,
            bot_user_id=self.bot_user_id if team_id == self.team_id else f"UBOT{owner}",
            bot_id=self.bot_id if team_id == self.team_id else f"BBOT{owner}",
            expires_at=time.time() + self.token_lifetime if self.token_lifetime else None,
            refresh_token=f"xoxe-1-{owner}-{n}" if rotating else None,
        )
        self.grants[grant.token] = grant
        if grant.refresh_token:
            self._refresh[grant.refresh_token] = grant
        return grant

    def _token_answer(self, grant: Grant, *, scope: str) -> dict:
        team = self.workspaces.get(grant.team_id or "") if grant.team_id else None
        answer: dict = {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UINSTALLER"},
            "scope": scope,
            "token_type": "bot",
            "access_token": grant.token,
            "bot_user_id": grant.bot_user_id,
            "team": {"id": team["id"], "name": team["name"]} if team else None,
            "enterprise": (
                {"id": grant.enterprise_id, "name": f"Org {grant.enterprise_id}"}
                if grant.enterprise_id
                else None
            ),
            "is_enterprise_install": grant.org_wide,
        }
        if grant.refresh_token and grant.expires_at is not None:
            answer["refresh_token"] = grant.refresh_token
            answer["expires_in"] = round(grant.expires_at - time.time())
        return answer

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

    def _outside(self, grant: Grant, params: dict) -> dict | None:
        """Slack's answer to a workspace's token used about another workspace's user or
        conversation: it cannot see them."""
        allowed = self._teams_of(grant)
        users = params.get("users")
        if isinstance(users, str):
            users = users.split(",")
        people = [params.get("user"), params.get("user_id"), *(users or [])]
        for person in people:
            team = self._team_of(person.strip() if isinstance(person, str) else person)
            if team is not None and team not in allowed:
                return _error("user_not_found")
        for key in ("channel", "channel_id"):
            team = self._team_of(params.get(key))
            if team is not None and team not in allowed:
                return _error("channel_not_found")
        return None

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        try:
            params = await _read_params(request)
        except _BadRequest as bad:
            self.calls.append(Call("response_url", {}, None, request.path))
            return web.json_response(_error(bad.error), status=400)
        self.calls.append(Call("response_url", params, None, request.path))
        failure = self._take_failure("response_url")
        if failure is not None:
            return failure
        # Like incoming webhooks, a response_url refuses a bad payload with HTTP 400.
        problem = _message_problem(params, surface="message")
        if problem is None and not params.get("delete_original") and not _has_content(params):
            problem = _error("no_text")
        if problem is not None:
            return web.json_response(problem, status=400)
        return web.json_response({"ok": True})

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.calls.append(
            Call("upload", {"file_id": file_id, "length": len(data)}, None, request.path)
        )
        failure = self._take_failure("upload")
        if failure is not None:
            return failure
        stored = self.files.get(file_id)
        if stored is None:
            return web.Response(status=404, text="file not found")
        stored["content"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _take_failure(self, method: str) -> web.StreamResponse | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue.popleft()
        if failure.status == 429:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            body = _error(failure.error or "ratelimited")
            return web.json_response(body, status=429, headers=headers)
        if failure.status >= 500:
            return web.Response(status=failure.status, text=f"{failure.status} upstream failure")
        return web.json_response(_error(failure.error or "request_failed"), status=failure.status)

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

    # --- methods -------------------------------------------------------------------------------

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

    def _resolve_channel(self, channel: Any) -> str | None:
        if not isinstance(channel, str) or not channel:
            return None
        if channel in self.conversations or channel in self.channels:
            return channel
        if channel in self.users:  # posting to a user ID lands in the DM with them
            return self._open([channel])[0]
        return None

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

    def _view_problem(self, params: dict, *, kind: str | None) -> tuple[dict | None, dict]:
        view = params.get("view")
        if view is None:
            return _invalid_arguments("missing required field: view"), {}
        errors = validate_view(view)
        if not errors and kind is not None and view.get("type") != kind:
            errors = [f"must be {kind} for this method [json-pointer:/view/type]"]
        if errors:
            return _invalid_arguments(*errors), {}
        return None, view

    def _store_view(self, view: dict, *, view_id: str | None = None) -> dict:
        previous = self.views.get(view_id or "")
        view_id = view_id or self._new_id("V")
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": None,
            "app_id": "A1",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        stored.update(view)
        stored.update(id=view_id, team_id=self.team_id, hash=self._new_hash())
        self.views[view_id] = stored
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _external(self, external_id: Any) -> dict | None:
        for stored in self.views.values():
            if external_id and stored.get("external_id") == external_id:
                return stored
        return None

    def _open_view(self, params: dict) -> dict:
        if not params.get("trigger_id"):
            return _invalid_arguments("missing required field: trigger_id")
        problem, view = self._view_problem(params, kind="modal")
        if problem is not None:
            return problem
        if params["trigger_id"] == "expired":
            return _error("expired_trigger_id")
        if self._external(view.get("external_id")) is not None:
            return _error("duplicate_external_id")
        return self._store_view(view)

    def _views_open(self, params: dict) -> dict:
        return self._open_view(params)

    def _views_push(self, params: dict) -> dict:
        return self._open_view(params)

    def _views_update(self, params: dict) -> dict:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            return _invalid_arguments("missing required field: view_id or external_id")
        problem, view = self._view_problem(params, kind=None)
        if problem is not None:
            return problem
        stored = self.views.get(view_id) if view_id else self._external(external_id)
        if stored is not None and params.get("hash") and params["hash"] != stored["hash"]:
            return _error("hash_conflict")
        if stored is not None:
            view_id = stored["id"]
        if external_id and "external_id" not in view:
            view = dict(view, external_id=external_id)
        # Unknown ids are accepted: tests hand the bot views the fake never opened.
        return self._store_view(view, view_id=view_id or None)

    def _views_publish(self, params: dict) -> dict:
        user_id = params.get("user_id")
        if not user_id:
            return _invalid_arguments("missing required field: user_id")
        problem, view = self._view_problem(params, kind="home")
        if problem is not None:
            return problem
        view_id = self._home_ids.get(user_id)
        if view_id and params.get("hash") and params["hash"] != self.views[view_id]["hash"]:
            return _error("hash_conflict")
        answer = self._store_view(view, view_id=view_id)
        self._home_ids[user_id] = answer["view"]["id"]
        return answer

    def _files_get_upload_url(self, params: dict) -> dict:
        filename, length = params.get("filename"), params.get("length")
        if not filename or length in (None, ""):
            return _invalid_arguments("missing required field: filename or length")
        try:
            size = int(length)
        except (TypeError, ValueError):
            return _invalid_arguments("length must be an integer [json-pointer:/length]")
        file_id = self._new_id("F")
        self.files[file_id] = {"id": file_id, "name": filename, "length": size, "content": None}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict) -> dict:
        listed = params.get("files")
        if not isinstance(listed, list) or not listed:
            return _invalid_arguments("files must be a non-empty array [json-pointer:/files]")
        channel = None
        if params.get("channel_id"):
            channel = self._resolve_channel(params["channel_id"])
            if channel is None:
                return _error("channel_not_found")
            refused = self._refusal(channel)
            if refused is not None:
                return refused
        answered = []
        for entry in listed:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            stored = self.files.get(file_id) if isinstance(file_id, str) else None
            if stored is None or stored["content"] is None:
                return _error("file_not_found")
        for entry in listed:
            stored = self.files[entry["id"]]
            if channel:  # a shared file shows in the channel's history as a message
                ts = self._new_ts()
                self.messages[(channel, ts)] = {
                    "type": "message",
                    "subtype": "file_share",
                    "text": params.get("initial_comment") or "",
                    "user": self.bot_user_id,
                    "ts": ts,
                    "files": [{"id": stored["id"], "name": stored["name"]}],
                    "reactions": {},
                }
            answered.append(
                {
                    "id": stored["id"],
                    "name": stored["name"],
                    "title": entry.get("title") or stored["name"],
                    "size": len(stored["content"]),
                    "user": self.bot_user_id,
                    "channels": [channel] if channel else [],
                }
            )
        return {"ok": True, "files": answered}


# ---------------------------------------------------------------------------------------------


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


async def _read_params(request: web.Request) -> dict:
    params: dict = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _BadRequest("invalid_json") from None
            if not isinstance(body, dict):
                raise _BadRequest("invalid_json")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = value.file.read()
                else:
                    params[key] = value
    for key in (*_JSON_KEYS, "users"):
        raw = params.get(key)
        if isinstance(raw, str) and raw.lstrip()[:1] in ("[", "{"):
            try:
                params[key] = json.loads(raw)
            except ValueError:
                pass  # left as a string, so validation reports it the way Slack would
    return params


def _has_content(params: dict) -> bool:
    return bool(params.get("text") or params.get("blocks") or params.get("attachments"))


def _message_problem(params: dict, *, surface: str) -> dict | None:
    if "blocks" in params:
        errors = validate_blocks(params["blocks"], surface=surface)
        if errors:
            return _invalid_blocks(errors)
    text = params.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        return _error("msg_too_long")
    return None


def _tz_label(tz: str) -> str:
    try:
        return datetime(2026, 1, 15, tzinfo=UTC).astimezone(ZoneInfo(tz)).tzname() or tz
    except (ZoneInfoNotFoundError, ValueError):
        return tz
