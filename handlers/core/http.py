"""HTTP mode: Slack posts events, commands and interactions here; /healthz is for the platform.
With OAuth (many workspaces), Bolt's install page and redirect are served here too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

SLACK_PATH = "/slack/events"


# What Bolt's own code reads as objects or lists before any listener runs (its middleware,
# its "unhandled request" warning): any other shape makes it answer 500, a fault of ours
# in Slack's eyes, for what is the sender's mistake.
_OBJECTS = ("event", "view", "container", "message")


def bolt_can_read(body: object) -> bool:
    if not isinstance(body, dict):
        return False
    if any(key in body and not isinstance(body[key], dict) for key in _OBJECTS):
        return False
    if "actions" in body:
        actions = body["actions"]
        return (
            bool(actions)
            and isinstance(actions, list)
            and all(isinstance(action, dict) for action in actions)
        )
    return True


def build_web_app(bolt: AsyncApp, *, healthy: Callable[[], Awaitable[bool]]) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except (TypeError, AttributeError, KeyError, ValueError):
            # Bolt reads the body before checking the signature: a malformed one (say an event
            # whose "user" is not a string or object) is the sender's fault, not a 500.
            return web.Response(status=400, text="malformed request")
        if not bolt_can_read(bolt_request.body):
            return web.Response(status=400, text="malformed request")
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        ok = await healthy()
        return web.json_response({"ok": ok}, status=200 if ok else 503)

    web_app = web.Application()
    web_app.router.add_post(SLACK_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
    flow = bolt.oauth_flow
    if flow is not None:

        async def install(request: web.Request) -> web.Response:
            """The "Add to Slack" page: a new OAuth state, in a cookie and in the link."""
            response = await flow.handle_installation(await to_bolt_request(request))
            return await to_aiohttp_response(response)

        async def oauth_redirect(request: web.Request) -> web.Response:
            """Slack sends the installer back here: the state is checked, the code
            exchanged (oauth.v2.access) and the installation stored."""
            response = await flow.handle_callback(await to_bolt_request(request))
            return await to_aiohttp_response(response)

        web_app.router.add_get(flow.install_path, install)
        web_app.router.add_get(flow.redirect_uri_path, oauth_redirect)
    return web_app
