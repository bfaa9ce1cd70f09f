"""A process that dies while posting: on restart each message goes out exactly once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import col, select

from handlers.core import outbox
from handlers.core.outbox import sending
from handlers.core.scheduler import tick
from handlers.devkit.driver import make_settings, start_driver, stop_driver
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage.models import OutboxMessage, Pair
from tests.kit.guides import is_guide, outbox_key


class ProcessDied(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except-clause catches it."""


async def _pair_up(bot) -> None:
    for user, answers in (
        ("UJ1", SignupAnswers(role="junior", level="1", topics=("ai",))),
        ("UL1", SignupAnswers(role="leader", level="6", topics=("ai",))),
    ):
        bot.slack.add_user(user, tz="Europe/London")
        await bot.command("signup", user=user)
        view = bot.slack.calls_to("views.open")[-1].params["view"]
        await bot.submit_view(filled(view, signup_state(**answers)), user=user)


def _rows(bot, *, guides: bool = False) -> list[tuple[str, str]]:
    """The outbox rows' keys and statuses: the introduction's, or the preparation guides'."""
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            (m.key, m.status)
            for m in s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
            if (m.kind == "guide") == guides
        ]
    )


def _guides_went_out_once(bot, slack) -> None:
    """The pair's two guides, decided with it, also went out once each, whatever happened."""
    assert [status for _, status in _rows(bot, guides=True)] == ["sent", "sent"]
    guides = Counter(outbox_key(c) for c in slack.calls_to("chat.postMessage") if is_guide(c))
    assert sorted(guides.values()) == [1, 1]


@pytest.mark.parametrize("dies", ["after_posting", "before_posting"])
async def test_intro_interrupted_mid_send_goes_out_exactly_once(
    bot, slack, database_url, clock, timer, monkeypatch, dies
):
    await _pair_up(bot)
    if dies == "after_posting":

        def crash(*args, **kwargs):
            raise ProcessDied

        monkeypatch.setattr(sending, "after_sent", crash)
    else:
        real_call = bot.runtime.deps.slack.call

        async def crash_on_post(method, **params):
            if method == "chat.postMessage":
                raise ProcessDied
            return await real_call(method, **params)

        monkeypatch.setattr(bot.runtime.deps.slack, "call", crash_on_post)
    with pytest.raises(ProcessDied):
        await _match_and_deliver(bot)
    assert _rows(bot) == [("intro:1", "sending")]
    posted_before = len(slack.calls_to("chat.postMessage"))
    assert posted_before == (1 if dies == "after_posting" else 0)
    monkeypatch.undo()

    await stop_driver(bot)
    # The dead sender was this very process, so the new one cannot tell it died: it waits
    # for the claim's lease to run out before it checks the channel.
    clock.advance(seconds=outbox.LEASE.total_seconds())
    again = await start_driver(make_settings(slack, database_url), slack, clock=clock, timer=timer)
    try:
        await tick(again.runtime.deps)
        await tick(again.runtime.deps)
        intros = [c for c in slack.calls_to("chat.postMessage") if "Meet your" in c.params["text"]]
        assert len(intros) == 1
        assert _rows(again) == [("intro:1", "sent")]
        [pair] = again.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair))))
        # The pair records the very message Slack holds (its ts), found or posted.
        [held_ts] = [
            ts
            for (channel, ts), message in slack.messages.items()
            if channel == intros[0].params["channel"] and "Meet your" in message["text"]
        ]
        assert pair.status == "active" and pair.intro_ts == held_ts
        assert pair.next_session_on is not None  # the rhythm started as after a normal send
        _guides_went_out_once(again, slack)
    finally:
        await stop_driver(again)
    bot.runtime.scheduler.start(paused=True)  # the fixture stops it again


async def _match_and_deliver(bot) -> None:
    # The command acknowledges, then delivers in the background; run that delivery here so
    # the "process death" surfaces in the test instead of in a background task.
    from handlers.pairing import use_cases as pairing

    result = await pairing.propose(bot.runtime.deps, team_id="T0001")
    now = bot.runtime.deps.clock()
    await bot.runtime.deps.db.run(
        lambda s: pairing.commit_pairs(s, team_id="T0001", proposals=result.pairs, now=now)
    )
    await outbox.deliver_due(bot.runtime.deps)


async def test_a_timeout_that_did_post_is_not_posted_again(bot, slack, clock):
    await _pair_up(bot)
    gateway = bot.runtime.deps.slack
    real_call = gateway.call

    async def post_then_time_out(method, **params):
        result = await real_call(method, **params)
        if method == "chat.postMessage":
            from handlers.core.slack import SlackCallError

            raise SlackCallError(method, "timeout", transient=True)
        return result

    gateway.call = post_then_time_out
    try:
        await _match_and_deliver(bot)
    finally:
        gateway.call = real_call
    assert _rows(bot) == [("intro:1", "sending")]
    clock.advance(minutes=5)
    await tick(bot.runtime.deps)
    intros = [c for c in slack.calls_to("chat.postMessage") if "Meet your" in c.params["text"]]
    assert len(intros) == 1 and _rows(bot) == [("intro:1", "sent")]
    _guides_went_out_once(bot, slack)
