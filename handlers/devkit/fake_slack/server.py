"""`FakeSlack`: every method family in one object, and the HTTP server on loopback that records
each call and routes it (`/api/<method>`, response URLs, uploads, Socket Mode, OAuth)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cached_property

from aiohttp import WSCloseCode, web

from handlers.devkit.fake_slack.chat import ChatMixin
from handlers.devkit.fake_slack.conversations import ConversationsMixin
from handlers.devkit.fake_slack.errors import _error
from handlers.devkit.fake_slack.files import FilesMixin
from handlers.devkit.fake_slack.limits import FailuresMixin
from handlers.devkit.fake_slack.oauth import OAuthMixin
from handlers.devkit.fake_slack.reactions import ReactionsMixin
from handlers.devkit.fake_slack.records import Call, _BadRequest
from handlers.devkit.fake_slack.socket_mode import SocketModeMixin
from handlers.devkit.fake_slack.users import UsersMixin
from handlers.devkit.fake_slack.validation import _has_content, _message_problem
from handlers.devkit.fake_slack.views import ViewsMixin

# Parameters Slack accepts as JSON-encoded strings in form bodies.
_JSON_KEYS = ("blocks", "view", "attachments", "files", "metadata")


class FakeSlack(
    UsersMixin,
    ConversationsMixin,
    ChatMixin,
    ReactionsMixin,
    ViewsMixin,
    FilesMixin,
    OAuthMixin,
    SocketModeMixin,
    FailuresMixin,
):
    """A fake Slack workspace served on 127.0.0.1 (see the package's docstring). Its options
    and attributes are `_State`'s (state.py); each Web API method family is a mixin."""

    @cached_property
    def _methods(self) -> dict[str, Callable[[dict], dict]]:
        return {
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
