"""HTTP mode: Slack posts events, commands and interactions here; /healthz is for the platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

SLACK_PATH = "/slack/events"


def build_web_app(bolt: AsyncApp, *, healthy: Callable[[], Awaitable[bool]]) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except (TypeError, AttributeError, KeyError, ValueError):
            # Bolt reads the body before checking the signature: a malformed one (say an event
            # whose "user" is not a string or object) is the sender's fault, not a 500.
            return web.Response(status=400, text="malformed request")
        body = bolt_request.body
        if not isinstance(body, dict) or not isinstance(body.get("event", {}), dict):
            # Bolt's own middleware reads body["event"] as an object.
            return web.Response(status=400, text="malformed request")
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        ok = await healthy()
        return web.json_response({"ok": ok}, status=200 if ok else 503)

    web_app = web.Application()
    web_app.router.add_post(SLACK_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
    return web_app
