"""Bolt's AsyncApp, with every listener it runs counted as work in flight on Deps.

Bolt runs a listener in a task of its own after the ack. Registered through this app, each
listener's task is added to `Deps.background` while it runs, and counted in
`Deps.listener_runs`: a shutdown lets them finish, and tests (handlers/devkit/driver.py) know
when the work a request started is done, and that a request reached a listener at all."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
from slack_bolt.listener_matcher.async_listener_matcher import AsyncListenerMatcher
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from handlers.core.deps import Deps

Listener = Callable[..., Awaitable[Any]]


class _BodyMatcher(AsyncListenerMatcher):
    """Bolt's own matcher for a listener's constraint (`app.action("x")`, `app.event(...)`),
    called with the one argument it takes, the request's body. Bolt's generic call builds
    every injectable argument first, for every listener it tries on every request: with the
    bot's many listeners that was about a millisecond of each request's CPU."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func  # Bolt's async wrapper of the constraint: async (body) -> bool

    async def async_matches(self, req: AsyncBoltRequest, resp: BoltResponse) -> bool:
        return bool(await self.func(body=req.body))


class TrackedApp(AsyncApp):
    def __init__(self, *, deps: Deps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deps = deps

    def match_by_body(self) -> int:
        """Call every listener's built-in matcher directly with the body (the only argument
        it takes); returns how many were replaced. Run once every listener is registered."""
        replaced = 0
        for listener in self._async_listeners:
            matchers = list(getattr(listener, "matchers", []))
            for n, matcher in enumerate(matchers):
                if type(matcher) is AsyncBuiltinListenerMatcher and matcher.arg_names == ["body"]:
                    matchers[n] = _BodyMatcher(matcher.func)
                    replaced += 1
            listener.matchers = matchers
        return replaced

    def _tracked(self, listener: Listener) -> Listener:
        deps = self._deps

        @functools.wraps(listener)  # Bolt reads the wrapped listener's argument names
        async def run(*args: Any, **kwargs: Any) -> Any:
            deps.listener_runs += 1
            with deps.working():
                return await listener(*args, **kwargs)

        return run

    def _registering(self, register: Callable[..., Any]) -> Callable[[Listener], Listener]:
        def decorator(listener: Listener) -> Listener:
            register(self._tracked(listener))
            return listener  # as Bolt does: stacked decorators each register the original

        return decorator

    def command(self, *args: Any, **kwargs: Any) -> Any:
        return self._registering(super().command(*args, **kwargs))

    def action(self, *args: Any, **kwargs: Any) -> Any:
        return self._registering(super().action(*args, **kwargs))

    def view(self, *args: Any, **kwargs: Any) -> Any:
        return self._registering(super().view(*args, **kwargs))

    def event(self, *args: Any, **kwargs: Any) -> Any:
        return self._registering(super().event(*args, **kwargs))
