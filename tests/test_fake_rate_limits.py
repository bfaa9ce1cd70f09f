"""The fake Slack's opt-in rate limits: 429 + Retry-After past Slack's published limits."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.devkit.driver import FakeTimer
from handlers.devkit.fake_slack import FakeSlack

TOKEN = "xoxb-kit-token"
USERS = [f"U{i:03d}" for i in range(60)]


@pytest.fixture
async def fake():
    async with FakeSlack(token=TOKEN, team_id="T0001") as slack:
        for user in USERS:
            slack.add_user(user)
        yield slack


@pytest.fixture
def client(fake):
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url, retry_handlers=[])


async def _open_many(client, count: int) -> None:
    for i in range(count):
        await client.conversations_open(users=f"{USERS[0]},{USERS[1 + i % 59]}")


async def test_limits_are_off_by_default(fake, client):
    await _open_many(client, 60)
    for _ in range(5):
        await client.chat_postMessage(channel=USERS[0], text="hi")
    assert fake.rate_limits is None


async def test_the_51st_conversations_open_in_a_minute_is_answered_429(fake, client):
    timer = FakeTimer()
    limits = fake.enforce_rate_limits(monotonic=timer.monotonic)
    await _open_many(client, 50)
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_open(users=USERS[5])
    assert refused.value.response.status_code == 429
    assert refused.value.response["error"] == "ratelimited"
    assert int(refused.value.response.headers["Retry-After"]) >= 1
    assert limits.hits["conversations.open"] == 1

    await timer.sleep(float(refused.value.response.headers["Retry-After"]))
    await client.conversations_open(users=USERS[5])  # one token back after the wait
    await timer.sleep(60)
    await _open_many(client, 50)  # a quiet minute refills the whole burst
    assert limits.hits["conversations.open"] == 1


async def test_chat_post_message_is_limited_per_channel(fake, client):
    timer = FakeTimer()
    limits = fake.enforce_rate_limits(monotonic=timer.monotonic)
    first = (await client.conversations_open(users=f"{USERS[0]},{USERS[1]}"))["channel"]["id"]
    second = (await client.conversations_open(users=f"{USERS[0]},{USERS[2]}"))["channel"]["id"]
    burst = [f"burst {i}" for i in range(3)]  # Slack allows short bursts: three at once
    for text in burst:
        await client.chat_postMessage(channel=first, text=text)
    await client.chat_postMessage(channel=second, text="another channel is not held up")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=first, text="too soon")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "1"
    assert limits.hits["chat.postMessage"] == 1
    assert [m["text"] for (c, _), m in fake.messages.items() if c == first] == burst

    await timer.sleep(1)
    await client.chat_postMessage(channel=first, text="a second later")
    assert limits.hits["chat.postMessage"] == 1
