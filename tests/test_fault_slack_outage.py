"""A Slack outage (429 with Retry-After, 500s, answers slower than the client's timeout):
nothing is lost, nothing is sent twice, and commands are still answered meanwhile.

In-process app (the object app.py builds) on the controllable clock; the gateway's waits are
the fake timer's, so Retry-After and backoff cost no real time. The only real waits are the
fake's slow answers (0.4 s) against a client timeout shortened to 0.2 s.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.driver import BOT_TOKEN, SIGNING_SECRET, TEAM_ID
from handlers.devkit.fake_slack import FakeSlack
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from handlers.devkit.signing import command_body, signed_headers
from storage.models import OutboxMessage, Pair
from tests.kit.guides import guides_off

CLIENT_TIMEOUT = 0.2
SLOW_ANSWER = 0.4  # longer than the client waits: the call "times out" after Slack took it

PEOPLE = {
    "UJ1": SignupAnswers(role="junior", level="1", department="Finance", topics=("ai", "hybrid")),
    "UL1": SignupAnswers(role="leader", level="6", department="Ops", topics=("ai", "hybrid")),
    "UJ2": SignupAnswers(role="junior", level="2", department="Sales", topics=("social",)),
    "UL2": SignupAnswers(role="leader", level="5", department="Legal", topics=("social",)),
}


class SlowSlack(FakeSlack):
    """Applies a call, then answers a successful one `delays[method]` seconds late."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.delays: dict[str, float] = {}

    async def _api(self, request: web.Request) -> web.StreamResponse:
        response = await super()._api(request)
        delay = self.delays.get(request.match_info["method"], 0.0)
        if delay and response.status == 200:
            await asyncio.sleep(delay)
        return response


@pytest.fixture
async def slack(clock):
    async with SlowSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock) as fake:
        fake.add_user("UADMIN", tz="Europe/Paris", title="L&D lead")
        for user in PEOPLE:
            fake.add_user(user, tz="Europe/London", title=f"Title of {user}")
        yield fake


@pytest.fixture
async def paired(bot):
    bot.runtime.deps.slack.client.timeout = CLIENT_TIMEOUT
    # The outage's failures meet the posts in order, planned for introductions and prompts
    # only: the guides a match also sends are off (test_crash_recovery.py covers them).
    guides_off(bot)
    for user, answers in PEOPLE.items():
        await bot.command("signup", user=user)
        view = bot.slack.calls_to("views.open")[-1].params["view"]
        await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    return bot


def _outage(slack: SlowSlack) -> None:
    """Every kind of trouble, in the order the posts meet it: two 429s (waited out), a 500 and
    a 503 (maybe posted: checked before resending), the check itself failing twice, then posts
    that land in Slack but answer after the client has given up (a timeout)."""
    slack.fail_next("chat.postMessage", status=429, retry_after=2, times=2)
    slack.fail_next("chat.postMessage", status=500)
    slack.fail_next("chat.postMessage", status=503)
    slack.fail_next("conversations.history", status=500, times=2)
    slack.delays["chat.postMessage"] = SLOW_ANSWER


async def _command(bot, text: str, *, user: str) -> tuple[int, dict | None]:
    """A signed `/mentor` (background work is not waited for): its status and body."""
    body = command_body(
        text=text, user_id=user, team_id=TEAM_ID, response_url=bot.slack.response_url("t")
    )
    headers = signed_headers(SIGNING_SECRET, body)
    response = await bot.client.post("/slack/events", data=body, headers=headers)
    payload = await response.json() if response.content_type == "application/json" else None
    return response.status, payload


def _posts_by_channel(bot, marker: str) -> dict[str, int]:
    """What is in Slack now (stored messages, not attempts), per channel."""
    counts: dict[str, int] = {}
    for (channel, _ts), message in bot.slack.messages.items():
        if marker in message["text"]:
            counts[channel] = counts.get(channel, 0) + 1
    return counts


def _pairs(bot) -> list[Pair]:
    return bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair).order_by(col(Pair.id)))))


def _statuses(bot, kind: str) -> list[str]:
    return bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(OutboxMessage.status).where(OutboxMessage.kind == kind)).all())
    )


async def _answered_meanwhile(bot, work) -> int:
    """Run `work` (sending during the outage) while sending commands, each answered in its
    ack; returns how many. (How fast acks are under load is bench/bench_http.py's job.)"""
    sending = asyncio.ensure_future(work)
    answered = 0
    try:
        for text, user in (("help", "UJ1"), ("status", "UL1"), ("status", "UADMIN"), ("x", "UJ2")):
            status, payload = await _command(bot, text, user=user)
            assert status == 200 and payload is not None, payload
            assert payload["response_type"] == "ephemeral", payload
            answered += 1
    finally:
        await sending
        await bot.settle()
    return answered


async def _tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


async def _until_sent(bot, clock, kind: str, rounds: int = 15) -> None:
    """Tick every 20 minutes of the fake clock, commands answered meanwhile, until no `kind`
    message waits any more."""
    for _ in range(rounds):
        if set(_statuses(bot, kind)) == {"sent"}:
            return
        clock.advance(minutes=20)
        await _answered_meanwhile(bot, _tick(bot))
    pytest.fail(f"{kind} messages still waiting: {_statuses(bot, kind)}")


async def test_an_outage_loses_and_duplicates_nothing_and_commands_are_answered(
    paired, slack, clock
):
    bot = paired
    _outage(slack)
    status, _ = await _command(bot, "admin match", user="UADMIN")
    assert status == 200
    # Matching and introducing go on after the acknowledgement, in Bolt's and the bot's tasks.
    assert await _answered_meanwhile(bot, bot.settle()) == 4
    assert len(_pairs(bot)) == 2
    assert "sent" not in _statuses(bot, "intro")  # the outage held every introduction back
    assert _posts_by_channel(bot, "Meet your") == {}
    await _until_sent(bot, clock, "intro")
    expected = {slack.conversation_id(p.mentor_id, p.mentee_id): 1 for p in _pairs(bot)}
    assert _posts_by_channel(bot, "Meet your reverse-mentoring pair") == expected
    assert len(slack.calls_to("conversations.history")) >= 4  # every doubt was checked

    # Then a tick's prompts, into a second outage: each leader picks Wednesday 11 March.
    for pair in _pairs(bot):
        channel = slack.conversation_id(pair.mentor_id, pair.mentee_id)
        intro = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == channel]
        await bot.click_in_message(
            intro[-1], "pick_session_date", user=pair.mentee_id, selected_date="2026-03-11"
        )
    pairs = _pairs(bot)
    due = [p.prompt_due_at for p in pairs if p.prompt_due_at is not None]
    assert len(due) == len(pairs)  # each pair's prompt is due
    clock.now = max(due)
    assert clock.now.weekday() < 5 and clock.now.hour < 12
    _outage(slack)
    assert await _answered_meanwhile(bot, _tick(bot)) == 4
    assert len(_statuses(bot, "prompt")) == 2 and "sent" not in _statuses(bot, "prompt")
    await _until_sent(bot, clock, "prompt")
    assert _posts_by_channel(bot, "conversation prompt") == expected


async def test_a_post_that_timed_out_after_slack_took_it_is_not_posted_again(paired, slack, clock):
    bot = paired
    slack.delays["chat.postMessage"] = SLOW_ANSWER  # every post lands, every answer is late
    await bot.command("admin match", user="UADMIN")
    await _until_sent(bot, clock, "intro")
    expected = {slack.conversation_id(p.mentor_id, p.mentee_id): 1 for p in _pairs(bot)}
    assert _posts_by_channel(bot, "Meet your reverse-mentoring pair") == expected
