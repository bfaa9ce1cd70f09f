"""Slack's rate limits (off unless turned on) and the failures a test injects."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from handlers.core.rate_limits import METHOD_PACES, Pace
from handlers.devkit.fake_slack.errors import _error
from handlers.devkit.fake_slack.records import _Failure
from handlers.devkit.fake_slack.state import _State


class RateLimits:
    """Slack's published limits, off unless `FakeSlack.enforce_rate_limits()` turns them on:
    each method of `paces` (by default the gateway's table of Slack's tiers,
    handlers/core/rate_limits.METHOD_PACES: conversations.open is Tier 3, 50 per minute
    with a minute's burst; chat.postMessage about one per second per channel) is a token
    bucket per method, or per channel for chat.postMessage, here rather than in the gateway:
    what Slack counts. Past a limit the call is answered 429 with an integer Retry-After, as
    Slack does; `hits` counts those answers per method. `monotonic` is the limiter's time
    source (pass a fake one to run hours of traffic on a simulated clock)."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        paces: Mapping[str, Pace] = METHOD_PACES,
    ) -> None:
        self.monotonic = monotonic
        self.hits: Counter[str] = Counter()
        self._rules = {
            method: (pace.burst, pace.per_minute / 60, pace.per_channel)
            for method, pace in paces.items()
        }
        self._buckets: dict[tuple[str, str], list[float]] = {}  # [tokens, last refill]

    def retry_after(self, method: str, params: dict) -> int | None:
        """None if the call may go ahead (and take its token), else whole seconds to wait."""
        rule = self._rules.get(method)
        if rule is None:
            return None
        burst, per_second, per_channel = rule
        key = (method, str(params.get("channel") or "") if per_channel else "")
        now = self.monotonic()
        bucket = self._buckets.setdefault(key, [float(burst), now])
        bucket[0] = min(float(burst), bucket[0] + (now - bucket[1]) * per_second)
        bucket[1] = now
        if bucket[0] >= 1 - 1e-9:
            bucket[0] -= 1
            return None
        self.hits[method] += 1
        return max(1, math.ceil((1 - bucket[0]) / per_second - 1e-9))


class FailuresMixin(_State):
    """429s with Retry-After past the limits, and failures injected for the next calls."""

    def clear_failures(self) -> None:
        """Drop injected failures that no call has used up yet."""
        self._failures.clear()
        self._after_failures.clear()

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
