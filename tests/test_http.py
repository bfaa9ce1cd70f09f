"""The HTTP transport: Slack's signature check, health, and ack time."""

from __future__ import annotations

import time

from handlers.devkit.driver import SIGNING_SECRET
from handlers.devkit.signing import command_body, signed_headers


async def test_healthz_reports_database_and_scheduler(bot):
    response = await bot.client.get("/healthz")
    assert response.status == 200 and (await response.json()) == {"ok": True}
    bot.runtime.scheduler.shutdown(wait=False)
    response = await bot.client.get("/healthz")
    assert response.status == 503


async def test_bad_signature_is_rejected_and_nothing_runs(bot):
    body = command_body(text="signup", user_id="U1")
    headers = signed_headers("f" * 32, body)
    response = await bot.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    assert bot.slack.calls_to("views.open") == []


async def test_stale_signature_is_rejected(bot):
    body = command_body(text="signup", user_id="U1")
    headers = signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 10 * 60)
    response = await bot.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    assert bot.slack.calls_to("views.open") == []


async def test_unsigned_request_is_rejected(bot):
    response = await bot.client.post(
        "/slack/events",
        data=command_body(text="help"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 401
