"""A batch of plain posts is started together (every channel recorded, one lease for all),
then posted one by one: what keeps each post inside that lease when Slack is slow."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlmodel import select

from handlers.core import outbox as sender
from handlers.core.outbox import CALL_BUDGET_SECONDS, Draft, Kind, register_kind
from handlers.core.outbox.sending import RECHECK_AFTER
from handlers.devkit.driver import TEAM_ID
from storage import outbox
from storage.models import OutboxMessage

KIND = "batch_test"
SLOW = timedelta(seconds=30)  # each post, on the bot's clock: well inside its call budget


async def _draft(_deps, message: OutboxMessage) -> Draft:
    return Draft(channel=message.payload["channel"], text=f"message {message.key}")


async def test_a_slow_slack_never_posts_a_row_near_the_end_of_its_lease(bot, slack, clock):
    deps = bot.runtime.deps
    register_kind(deps, KIND, Kind(draft=_draft))
    channels = {f"{KIND}:{n}": f"CB{n}" for n in range(5)}
    for key, channel in channels.items():
        slack.add_channel(channel)
        deps.db.run_sync(
            lambda s, key=key, channel=channel: outbox.enqueue(
                session=s,
                team_id=TEAM_ID,
                key=key,
                kind=KIND,
                payload={"channel": channel},
                now=clock(),
            )
        )
    by_channel = {channel: key for key, channel in channels.items()}
    real_call = deps.slack.call
    margins: list[float] = []

    async def slow_slack(method, **params):
        if method == "chat.postMessage":
            key = by_channel[params["channel"]]
            row = deps.db.read_sync(
                lambda s: outbox.get_message(session=s, team_id=TEAM_ID, key=key)
            )
            assert row is not None and row.lease_until is not None
            # What is left of the lease once this call's whole budget is spent.
            margins.append((row.lease_until - clock()).total_seconds() - CALL_BUDGET_SECONDS)
            clock.advance(seconds=SLOW.total_seconds())
        return await real_call(method, **params)

    deps.slack.call = slow_slack
    try:
        sent = await sender.deliver_due(deps)
    finally:
        deps.slack.call = real_call

    assert sent == len(channels)
    posted = Counter(c.params["channel"] for c in slack.calls_to("chat.postMessage"))
    assert posted == Counter(channels.values())  # each once
    # Posts stop RECHECK_AFTER into a batch (the rest go back, checked again), so no post
    # can still be under way when its row's lease ends and another sender may take it.
    assert min(margins) >= (sender.LEASE - RECHECK_AFTER).total_seconds() - CALL_BUDGET_SECONDS
    statuses = deps.db.run_sync(lambda s: [m.status for m in s.exec(select(OutboxMessage)).all()])
    assert statuses == ["sent"] * len(channels)
