"""Socket Mode: the websocket the app connects to, envelopes sent to it, its acknowledgements."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from aiohttp import WSMsgType, web

from handlers.devkit.fake_slack.state import _State


class SocketModeMixin(_State):
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
