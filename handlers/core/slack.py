"""The one door for outgoing Slack traffic: retries, rate limits and time budgets live here."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.core.rate_limits import METHOD_PACES, LocalRateLimits, Pace, RateLimits, bucket_of

log = logging.getLogger(__name__)

T = TypeVar("T")

# Every Web API method the bot calls, with the bot scopes it needs. The gateway refuses any
# other method, and tests/test_manifest_scopes.py keeps manifest.yml equal to what is used here.
# Each is paced to its Slack tier (handlers/core/rate_limits.py METHOD_PACES).
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "users.info": frozenset({"users:read"}),
    "users.lookupByEmail": frozenset({"users:read.email"}),  # roster import by email
    "conversations.open": frozenset({"mpim:write", "im:write"}),  # pair group DMs, DMs
    "chat.postMessage": frozenset({"chat:write"}),
    # After a crash: did the message we were posting go out? (The bot reads only the
    # conversations it posts in: pair group DMs, DMs and the admin channel.)
    "conversations.history": frozenset(
        {"mpim:history", "im:history", "channels:history", "groups:history"}
    ),
    # Is the admin channel private, in use, and one the bot is in? (Settings form, start-up.)
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    "views.open": frozenset(),
    "views.publish": frozenset(),
    "views.update": frozenset(),  # a modal that said "working on it" gets the result
    "reactions.add": frozenset({"reactions:write"}),  # a pulse survey's scale, seeded on it
    # The admin summary's chart and the pairs export (files v2: get a URL, POST, complete).
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
}

# The bot events manifest.yml subscribes to, with the scopes each needs
# (tests/test_manifest_scopes.py keeps the two equal).
SUBSCRIPTIONS: dict[str, frozenset[str]] = {
    "app_home_opened": frozenset(),
    "message.mpim": frozenset({"mpim:history"}),  # activity in a pair's group DM
    "message.im": frozenset({"im:history"}),  # someone writing to the bot gets the help text
    # Ratings on pulse surveys (handlers/pulse): only reactions on the survey messages count.
    "reaction_added": frozenset({"reactions:read"}),
    "reaction_removed": frozenset({"reactions:read"}),
    # The bot invited into the admin channel: what waited for it goes out at once.
    "member_joined_channel": frozenset({"channels:read", "groups:read"}),
}

# Many workspaces (OAuth: manifest.oauth.yml) also subscribe to these: the app removed from a
# workspace or org, or its tokens revoked. Sending to it stops at once and its tokens are
# deleted (handlers/core/workspaces.py). tests/test_manifest_scopes.py checks both manifests.
OAUTH_SUBSCRIPTIONS: dict[str, frozenset[str]] = {
    "app_uninstalled": frozenset(),
    "tokens_revoked": frozenset(),
}

# Calls that a timeout, a 5xx or a dropped connection may have carried out all the same: the
# gateway does not repeat these on its own (a retry could post or share twice). It raises at
# once, and the outbox looks in the channel for the message or file before sending it again.
# A 429 is retried: Slack did nothing.
_NOT_REPEATABLE = frozenset({"chat.postMessage", "files.completeUploadExternal"})

# Seconds below which a wait for a paced slot is rounding, not a wait.
_PACE_RESOLUTION = 1e-6

# Slack errors worth another try; anything else means the request itself is wrong.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


# What Slack answers when a token no longer works: another process may have rotated it, or
# the workspace uninstalled the app. The gateway looks the workspace's token up again.
_TOKEN_ERRORS = frozenset({"invalid_auth", "token_revoked", "token_expired", "not_authed"})
NOT_INSTALLED = "not_installed"
# The workspace of every call when the bot serves one (its token is the client's own).
ONE_WORKSPACE = ""


class SlackCallError(Exception):
    """A Slack call that did not succeed: `error` is Slack's error code, or ours for timeouts."""

    def __init__(self, method: str, error: str, *, transient: bool) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error
        self.transient = transient


class NotInstalled(SlackCallError):
    """No installation speaks for the workspace (never installed, or uninstalled): nothing
    is sent to it, and nothing was."""

    def __init__(self, method: str) -> None:
        super().__init__(method, NOT_INSTALLED, transient=False)


class TokenSource(Protocol):
    """Which bot token speaks for a workspace (OAuth mode: handlers/core/installations.py)."""

    async def token_for(self, team_id: str) -> str | None: ...

    def forget(self, team_id: str) -> None: ...


class SlackGateway:
    """Every Web API call. With one workspace the client's own token makes them all; with
    `tokens` (many workspaces, OAuth) each call names its workspace and is made with that
    workspace's token, and a workspace with no installation gets nothing."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        tokens: TokenSource | None = None,
        rate_limits: RateLimits | None = None,
        paced: bool = True,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self._sleep = sleep
        self._monotonic = monotonic
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        # Retry-After is per method and workspace; every caller waits it out, not only the
        # one that was told (with a database: every instance, handlers/core/rate_limits.py).
        # The same board paces each method to its tier, so that Slack seldom has to say it.
        self.rate_limits = rate_limits or LocalRateLimits(monotonic)
        self._paced = paced  # off only against a server with no limits (SLACK_PACING=off)

    async def reserve(
        self,
        method: str,
        calls: Sequence[tuple[str | None, Mapping[str, Any]]],
        *,
        within: float | None = None,
    ) -> list[Slot | None]:
        """The paced slots of calls about to be made, (team_id, params) each, taken together
        (one round trip with a shared pace, not one per call); each call then passes its
        own as `slot`. None where no slot was taken: that call takes its own."""
        pace = METHOD_PACES.get(method)
        if not self._paced or pace is None or not calls:
            return [None] * len(calls)
        wanted = []
        for team_id, params in calls:
            paced = bucket_of(method, params)
            assert paced is not None
            wanted.append((ONE_WORKSPACE if self.tokens is None else team_id or "", paced[0]))
        waits = await self.rate_limits.reserve_many(wanted, pace, within=within)
        now = self._monotonic()
        return [None if wait is None else Slot(now + wait) for wait in waits]

    async def call(
        self,
        method: str,
        *,
        team_id: str | None = None,
        budget: float | None = None,
        slot: Slot | None = None,
        **params: Any,
    ) -> dict:
        """Call a Web API method for workspace `team_id`; `budget` caps the seconds spent
        including waits and retries. With one workspace, `team_id` changes nothing.
        `slot`: its paced slot, taken already (`reserve`)."""
        if method not in METHOD_SCOPES:
            raise ValueError(f"{method} is not declared in METHOD_SCOPES")
        if self.tokens is None:
            return await self._call(method, budget, params, ONE_WORKSPACE, slot)
        if team_id is None:
            raise ValueError(f"{method}: with many workspaces, a call names its team_id")
        token = await self._token_for(method, team_id)
        # Slack's rate limits are per workspace: one workspace's 429 holds up only its calls.
        try:
            return await self._call(method, budget, {**params, "token": token}, team_id, slot)
        except SlackCallError as exc:
            if exc.error not in _TOKEN_ERRORS:
                raise
            refused = exc
        # The token stopped working: read the installation again (rotated by another
        # process, or uninstalled: then NotInstalled), and try once more with a new one.
        self.tokens.forget(team_id)
        fresh = await self._token_for(method, team_id)
        if fresh == token:
            raise refused
        return await self._call(method, budget, {**params, "token": fresh}, team_id)

    async def _token_for(self, method: str, team_id: str) -> str:
        token = await self.tokens.token_for(team_id) if self.tokens is not None else None
        if token is None:
            raise NotInstalled(method)
        return token

    async def _call(
        self,
        method: str,
        budget: float | None,
        params: dict[str, Any],
        team_id: str,
        slot: Slot | None = None,
    ) -> dict:
        function = getattr(self.client, method.replace(".", "_"))

        async def attempt() -> dict:
            try:
                response = await function(**params)
            except SlackObjectFormationError as exc:
                # slack_sdk checks Block Kit limits as it sends: this payload never will go.
                log.warning("slack %s: refused before sending: %s", method, exc)
                raise SlackCallError(method, "invalid_payload", transient=False) from None
            except SlackApiError as exc:
                retry_after = _retry_after(exc.response.headers, exc.response.status_code)
                if retry_after is not None:
                    await self.rate_limits.hold(team_id, method, retry_after)
                    raise _Retry(retry_after, "ratelimited") from None
                if exc.response.status_code >= 500:
                    raise _Retry(None, f"http_{exc.response.status_code}") from None
                error = str(exc.response.get("error", "unknown_error"))
                if error in _TRANSIENT_ERRORS:
                    raise _Retry(None, error) from None
                raise SlackCallError(method, error, transient=False) from None
            return response.data if isinstance(response.data, dict) else {}

        return await self._with_retries(
            method,
            attempt,
            budget,
            repeatable=method not in _NOT_REPEATABLE,
            team_id=team_id,
            paced=bucket_of(method, params) if self._paced else None,
            slot=slot,
        )

    async def respond(
        self, response_url: str, *, budget: float | None = None, **payload: Any
    ) -> None:
        """Post to an interaction's response_url (ephemeral replies, replacing a message).
        Only a replacement is repeated after a timeout or a 5xx: a new reply could show twice."""
        webhook = AsyncWebhookClient(response_url, timeout=10)

        async def attempt() -> None:
            try:
                response = await webhook.send(**payload)
            except SlackObjectFormationError as exc:
                log.warning("slack response_url: refused before sending: %s", exc)
                raise SlackCallError("response_url", "invalid_payload", transient=False) from None
            _check_http(
                "response_url", response.status_code, response.headers, str(response.body)[:80]
            )

        replaces = bool(payload.get("replace_original") or payload.get("delete_original"))
        await self._with_retries("response_url", attempt, budget, repeatable=replaces)

    async def upload(self, url: str, data: bytes, *, budget: float | None = None) -> None:
        """POST a file's bytes to the upload_url files.getUploadURLExternal returned; the same
        retry rules as `respond` (429 waits out Retry-After, 5xx retries, anything else fails)."""

        async def attempt() -> None:
            shared = self.client.session
            session = shared if shared is not None else aiohttp.ClientSession()
            try:
                async with session.post(
                    url,
                    data=data,
                    headers={"Content-Type": "application/octet-stream"},
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as response:
                    _check_http(
                        "upload", response.status, response.headers, f"http_{response.status}"
                    )
            finally:
                if shared is None:
                    await session.close()

        await self._with_retries("upload", attempt, budget)

    async def _with_retries(
        self,
        method: str,
        attempt: Callable[[], Awaitable[T]],
        budget: float | None,
        *,
        repeatable: bool = True,
        team_id: str | None = None,
        paced: tuple[str, Pace] | None = None,
        slot: Slot | None = None,
    ) -> T:
        """`team_id`: a Web API call's workspace, whose Retry-After for `method` is waited
        out first (None: a response_url or an upload, which have no shared limits); then
        each attempt waits for its slot in the `paced` bucket (its tier, in that workspace):
        the first for `slot` when one was reserved for it, later ones for slots of their own."""
        deadline = None if budget is None else self._monotonic() + budget
        last_error = "unknown_error"
        for number in range(1, self._max_attempts + 1):
            blocked = 0.0
            if team_id is not None:
                blocked = await self.rate_limits.wait_for(team_id, method)
            if blocked > 0:
                await self._wait(method, blocked, deadline, "ratelimited")
            if team_id is not None and paced is not None:
                if slot is not None:
                    await self._wait_until(method, slot.at, deadline)
                else:
                    await self._wait_for_slot(method, team_id, paced, deadline)
            slot = None  # a retry (after a 429) takes a new slot
            try:
                if deadline is None:
                    return await attempt()
                return await asyncio.wait_for(attempt(), max(deadline - self._monotonic(), 0.01))
            except _Retry as retry:
                last_error = retry.error
                delay = retry.after
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                last_error = "timeout" if isinstance(exc, TimeoutError) else "connection_error"
                delay = None
            if number == self._max_attempts or (delay is None and not repeatable):
                break
            if delay is None:
                delay = min(self._max_delay, self._base_delay * 2 ** (number - 1))
                delay *= 0.5 + random.random() / 2  # jitter keeps retries from arriving in step
            log.warning("slack %s: %s, retry %d in %.1fs", method, last_error, number, delay)
            await self._wait(method, delay, deadline, last_error)
        raise SlackCallError(method, last_error, transient=True)

    async def _wait_for_slot(
        self, method: str, team_id: str, paced: tuple[str, Pace], deadline: float | None
    ) -> None:
        """Take the call's slot in its bucket and wait for it; a slot past the deadline is not
        taken (the call fails as rate limited, as a Retry-After past it would)."""
        bucket, pace = paced
        within = None if deadline is None else deadline - self._monotonic()
        if within is not None and within < 0:
            raise SlackCallError(method, "ratelimited", transient=True)
        wait = await self.rate_limits.reserve(team_id, bucket, pace, within=within)
        if wait is None:
            raise SlackCallError(method, "ratelimited", transient=True)
        await self._sleep_for_slot(wait)

    async def _wait_until(self, method: str, at: float, deadline: float | None) -> None:
        """Wait for a slot reserved before (`reserve`); one past the deadline fails the call
        as rate limited, as a slot not taken would."""
        if deadline is not None and at > deadline:
            raise SlackCallError(method, "ratelimited", transient=True)
        await self._sleep_for_slot(at - self._monotonic())

    async def _sleep_for_slot(self, wait: float) -> None:
        if wait > _PACE_RESOLUTION:
            # Whole milliseconds, rounded up: never a hair before the slot (wall-clock seconds
            # in floating point are off by a fraction of a microsecond).
            await self._sleep(math.ceil(wait * 1000 - _PACE_RESOLUTION) / 1000)

    async def _wait(self, method: str, seconds: float, deadline: float | None, error: str) -> None:
        if deadline is not None and self._monotonic() + seconds > deadline:
            raise SlackCallError(method, error, transient=True)
        await self._sleep(seconds)


@dataclass(frozen=True)
class Slot:
    """A paced slot reserved for a call: it may go at `at` (the gateway's monotonic clock)."""

    at: float


class _Retry(Exception):
    def __init__(self, after: float | None, error: str) -> None:
        self.after = after
        self.error = error


def _check_http(method: str, status: int, headers: Mapping[str, Any], detail: str) -> None:
    """Plain HTTP answers (response_url, file upload): 429 waits, 5xx retries, else fails."""
    retry_after = _retry_after(headers, status)
    if retry_after is not None:
        raise _Retry(retry_after, "ratelimited")
    if status >= 500:
        raise _Retry(None, f"http_{status}")
    if status != 200:
        raise SlackCallError(method, detail, transient=False)


def _retry_after(headers: Mapping[str, Any] | None, status_code: int) -> float | None:
    if status_code != 429:
        return None
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(float(value if isinstance(value, str) else value[0]), 0.0)
            except (TypeError, ValueError, IndexError):
                break
    return 1.0
