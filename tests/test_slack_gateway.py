"""The outgoing-traffic door: Retry-After honoured, 5xx retried, permanent errors not retried."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.core.slack import SlackCallError, SlackGateway
from handlers.devkit.driver import BOT_TOKEN, FakeTimer


@pytest.fixture
def gateway(slack, timer):
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    return SlackGateway(client, sleep=timer.sleep, monotonic=timer.monotonic)


async def test_rate_limit_waits_retry_after_then_succeeds(gateway, slack, timer: FakeTimer):
    slack.fail_next("users.info", status=429, retry_after=7, times=2)
    data = await gateway.call("users.info", user="U1")
    assert data["user"]["id"] == "U1"
    assert timer.sleeps == [7, 7]
    assert len(slack.calls_to("users.info")) == 3


async def test_server_errors_back_off_and_retry(gateway, slack, timer):
    slack.fail_next("users.info", status=503, times=3)
    await gateway.call("users.info", user="U1")
    assert len(timer.sleeps) == 3
    assert timer.sleeps[0] < timer.sleeps[2]  # exponential, jitter notwithstanding


async def test_permanent_error_is_not_retried(gateway, slack, timer):
    with pytest.raises(SlackCallError) as caught:
        await gateway.call("users.info", user="UNOBODY")
    assert caught.value.error == "user_not_found" and not caught.value.transient
    assert len(slack.calls_to("users.info")) == 1 and timer.sleeps == []


async def test_gives_up_after_max_attempts_as_transient(gateway, slack, timer):
    slack.fail_next("users.info", status=500, times=10)
    with pytest.raises(SlackCallError) as caught:
        await gateway.call("users.info", user="U1")
    assert caught.value.transient
    assert len(slack.calls_to("users.info")) == 5


async def test_budget_refuses_a_wait_it_cannot_afford(gateway, slack, timer):
    slack.fail_next("users.info", status=429, retry_after=30)
    with pytest.raises(SlackCallError) as caught:
        await gateway.call("users.info", user="U1", budget=2)
    assert caught.value.error == "ratelimited" and caught.value.transient
    assert timer.sleeps == []


async def test_retry_after_is_shared_by_the_next_caller(gateway, slack, timer):
    slack.fail_next("users.info", status=429, retry_after=5)
    with pytest.raises(SlackCallError):
        await gateway.call("users.info", user="U1", budget=1)
    await gateway.call("users.info", user="U1")  # waits out the same Retry-After first
    assert timer.sleeps == [5]


async def test_undeclared_method_is_refused(gateway):
    with pytest.raises(ValueError, match="METHOD_SCOPES"):
        await gateway.call("admin.users.remove", user="U1")


async def test_bad_token_is_permanent(slack, timer):
    client = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url, retry_handlers=[])
    gateway = SlackGateway(client, sleep=timer.sleep, monotonic=timer.monotonic)
    with pytest.raises(SlackCallError) as caught:
        await gateway.call("auth.test")
    assert caught.value.error == "invalid_auth" and not caught.value.transient
