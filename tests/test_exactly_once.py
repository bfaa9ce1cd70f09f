# Fixtures come from the feature tests: their names are parameters here.
# ruff: noqa: F811
"""Exactly once, and nothing stale: claims, crash checks, file shares, validity windows,
events applied from their record, and payloads Slack can never accept.

Everything runs through the real app (signed requests, the fake Slack, the controllable
clock), except the claim's own rules, which are checked on the storage functions.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from slack_sdk.models.blocks import SectionBlock
from sqlmodel import col, select

from handlers.core import outbox as sender
from handlers.core.outbox.crash_check import find_in_doubt
from handlers.core.scheduler import tick
from handlers.core.slack import SlackCallError
from handlers.pairing import blocks as pairing_blocks
from handlers.profile import blocks as profile_blocks
from handlers.rhythm import blocks as rhythm_blocks
from handlers.rhythm import tick as rhythm
from storage import outbox
from storage import pulse as surveys
from storage.db import Database, make_engine
from storage.models import OutboxMessage, Pair, ProcessedEvent, saved_id
from tests.test_pulse import pair, ratings, react, survey  # noqa: F401  (fixtures)
from tests.test_rhythm_flow import (
    at,
    outbox_keys,
    pairs_by_mentor,
    posts,
    program,  # noqa: F401  (fixture)
    run_tick,
)
from tests.test_summary import program_bot  # noqa: F401  (fixture)

LEASE = sender.LEASE


def rows(bot, kind: str | None = None) -> list[OutboxMessage]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            m
            for m in s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
            if kind is None or m.kind == kind
        ]
    )


# --- the claim ----------------------------------------------------------------------------------


NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url):  # SQLite, and PostgreSQL when TEST_DATABASE_URL is set
    database = Database(make_engine(database_url))
    database.prepare()
    yield database
    database.close()


def _enqueue(db: Database, key: str = "intro:1") -> int:
    db.run_sync(lambda s: outbox.enqueue(session=s, team_id="T1", key=key, kind="intro", now=NOW))
    message = db.run_sync(lambda s: outbox.get_message(session=s, team_id="T1", key=key))
    assert message is not None
    return saved_id(message)


def test_a_row_is_claimed_by_exactly_one_of_many_senders_at_once(db):
    message_id = _enqueue(db)
    start = threading.Barrier(8)
    won: list[str] = []

    def sender(name: str) -> None:
        start.wait()
        if db.run_sync(
            lambda s: outbox.claim(
                session=s, message_id=message_id, claimant=name, now=NOW, lease=LEASE
            )
        ):
            won.append(name)

    threads = [threading.Thread(target=sender, args=(f"p{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    [row] = db.run_sync(lambda s: list(s.exec(select(OutboxMessage)).all()))
    assert (row.status, row.claimed_by) == ("claimed", won[0])


def test_a_claim_holds_until_its_lease_ends_and_a_lost_claim_changes_nothing(db):
    message_id = _enqueue(db)

    def run(work):
        return db.run_sync(work)

    assert run(
        lambda s: outbox.claim(session=s, message_id=message_id, claimant="A", now=NOW, lease=LEASE)
    )
    # Only the holder may go on, and only while its lease lasts.
    start = partial(outbox.start_sending, message_id=message_id, channel_id="C1", lease=LEASE)
    assert not run(lambda s: start(session=s, claimant="B", now=NOW))
    assert run(lambda s: start(session=s, claimant="A", now=NOW))

    def in_doubt(now):  # as a drain finds them (crash_check); no claimant has died
        return run(lambda s: find_in_doubt(s, now, is_dead=lambda _claimant: False).messages)

    # Nobody else sees it in doubt while the lease lasts...
    assert in_doubt(NOW + LEASE - timedelta(seconds=1)) == []
    later = NOW + LEASE + timedelta(seconds=1)
    # ...after it, one checker takes it over, and the late holder can neither go on nor
    # record anything.
    [doubtful] = in_doubt(later)
    assert doubtful.id == message_id
    assert not run(lambda s: start(session=s, claimant="A", now=later))
    take = partial(outbox.claim_in_doubt, message_id=message_id, now=later, lease=LEASE)
    assert run(lambda s: take(session=s, claimant="B"))
    assert not run(lambda s: take(session=s, claimant="C"))
    assert not run(lambda s: start(session=s, claimant="A", now=later))
    sent = partial(outbox.mark_sent, message_id=message_id, channel_id="C1", ts="1.2", now=later)
    assert not run(lambda s: sent(session=s, claimant="A"))
    assert run(lambda s: sent(session=s, claimant="B"))


# --- the crash check reads every page -------------------------------------------------------------


async def test_the_crash_check_follows_every_page_of_history(program, clock, slack):
    bot = program
    mine = pairs_by_mentor(bot)["UJ1"]
    # Slack takes a post, then the answer is lost (a 5xx from a proxy): in doubt.
    slack.fail_after_applying("chat.postMessage", status=502)
    await bot.click_in_message(
        posts(bot, mine.dm_channel_id)[0],
        "pick_session_date",
        user="UL1",
        selected_date="2026-03-11",
    )
    [row] = [m for m in rows(bot) if m.kind == "session_set"]
    assert row.status == "sending"
    # The pair chats on: 40 messages after ours, three pages of 15 and more.
    for n in range(40):
        slack._chat_post_message({"channel": mine.dm_channel_id, "text": f"chat {n}"})
    clock.advance(minutes=5)
    await run_tick(bot)
    confirmations = [
        c for c in posts(bot, mine.dm_channel_id) if "next session is set" in c.params["text"]
    ]
    assert len(confirmations) == 1  # found in history on a later page, not posted again
    assert [m.status for m in rows(bot) if m.kind == "session_set"] == ["sent"]
    history = slack.calls_to("conversations.history")
    assert len(history) >= 3 and all(int(c.params["limit"]) <= 15 for c in history)
    assert any(c.params.get("cursor") for c in history)
    # It looked from when sending began, not from when the message was decided.
    assert row.sending_since is not None
    assert float(history[0].params["oldest"]) >= row.sending_since.timestamp() - 61


# --- file shares are never repeated blindly ----------------------------------------------


async def test_a_chart_share_that_timed_out_is_looked_for_not_shared_again(
    program_bot,
    slack,
    clock,
):
    bot = program_bot
    await run_tick(bot)  # plans the first weekly summary: Monday 9 March, 09:00 London
    slack.fail_after_applying("files.completeUploadExternal", status=503)
    clock.now = at("2026-03-09 09:00")
    await run_tick(bot)
    assert len(slack.calls_to("files.completeUploadExternal")) == 1  # not repeated blindly
    [chart] = rows(bot, "summary_chart")
    assert chart.status == "sending" and chart.file_id
    clock.advance(minutes=10)
    await run_tick(bot)
    assert len(slack.calls_to("files.completeUploadExternal")) == 1  # found in the channel
    assert [m.status for m in rows(bot, "summary_chart")] == ["sent"]
    shares = [m for (channel, _), m in slack.messages.items() if m.get("files")]
    assert len(shares) == 1


async def test_the_gateway_never_repeats_a_file_share_after_a_5xx(bot, slack):
    slack.fail_next("files.completeUploadExternal", status=503)
    with pytest.raises(SlackCallError) as refused:
        await bot.runtime.deps.slack.call(
            "files.completeUploadExternal", files=[{"id": "F1"}], channel_id="C1", budget=60
        )
    assert refused.value.error == "http_503" and refused.value.transient
    assert len(slack.calls_to("files.completeUploadExternal")) == 1


# --- nothing stale --------------------------------------------------------------------------------


async def test_after_an_outage_a_prompt_for_a_past_session_is_dropped_not_sent(
    program,
    clock,
    caplog,
):
    bot = program
    clock.now = at("2026-03-13 18:00")  # Friday evening: Monday's prompts are due
    await rhythm.decide_due(bot.runtime.deps)  # decided; then Slack is unreachable for days
    assert sorted(k.split(":")[0] for k in outbox_keys(bot) if k.startswith("prompt")) == [
        "prompt",
        "prompt",
    ]
    before = len(posts(bot))
    clock.now = at("2026-03-17 10:00")  # Tuesday: Monday's sessions are over
    caplog.clear()
    await run_tick(bot)
    late = [c for c in posts(bot)[before:] if "conversation prompt" in c.params["text"]]
    assert late == []
    assert {m.status for m in rows(bot, "prompt")} == {"expired"}
    assert any(
        "dropped 2 stale messages" in r.getMessage() and "2 prompt" in r.getMessage()
        for r in caplog.records
    )


async def test_a_nudge_for_a_pair_that_met_since_is_dropped(program, clock):
    bot = program
    mine = pairs_by_mentor(bot)["UJ1"]
    clock.now = at("2026-03-23 09:00")  # 21 days without a session or message
    await rhythm.decide_due(bot.runtime.deps)  # decided; the process stops before sending
    assert [m.status for m in rows(bot, "nudge") if m.pair_id == mine.id] == ["pending"]
    clock.now = at("2026-03-23 09:10")
    message = {
        "type": "message",
        "channel_type": "mpim",
        "channel": mine.dm_channel_id,
        "user": "UJ1",
        "text": "shall we meet on Thursday?",
        "ts": "1774257000.000100",
    }
    assert await bot.event(message, event_id="EvChat1") == 200
    before = len(posts(bot, mine.dm_channel_id))
    clock.now = at("2026-03-23 09:15")
    await run_tick(bot)
    sent = posts(bot, mine.dm_channel_id)[before:]
    assert not [c for c in sent if "since your last session" in c.params["text"]]
    assert [m.status for m in rows(bot, "nudge") if m.pair_id == mine.id] == ["expired"]


async def test_an_older_check_in_superseded_by_a_later_one_is_dropped(program, clock):
    bot = program
    mine = pairs_by_mentor(bot)["UJ1"]
    clock.now = at("2026-03-17 09:00")  # the first session (Monday 16 March) has passed
    await rhythm.decide_due(bot.runtime.deps)  # decided, not sent: the bot goes down
    clock.now = at("2026-04-01 09:00")  # back after the next one (31 March) has passed too
    await rhythm.decide_due(bot.runtime.deps)
    keys = [m.key for m in rows(bot, "checkin") if m.pair_id == mine.id]
    assert [k.rsplit(":", 1)[1] for k in keys] == ["2026-03-16", "2026-03-31"]
    before = len(posts(bot, mine.dm_channel_id))
    await run_tick(bot)
    checkins = [c for c in posts(bot, mine.dm_channel_id)[before:] if "happen?" in c.params["text"]]
    assert len(checkins) == 1
    statuses = {m.key: m.status for m in rows(bot, "checkin") if m.pair_id == mine.id}
    assert [statuses[k] for k in keys] == ["expired", "sent"]


# --- events whose handler failed ------------------------------------------------------------------


@pytest.fixture
def first_rating_fails(monkeypatch) -> list[int]:
    """Storing the first rating raises (the database went away); later ones work. Returns
    the list of attempts made."""
    real = surveys.store_reaction
    calls: list[int] = []

    def fail_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(surveys, "store_reaction", fail_once)
    return calls


async def test_a_reaction_whose_handler_failed_is_applied_by_slacks_retry(
    bot, survey, first_rating_fails
):
    calls = first_rating_fails
    event_id = await react(bot, survey, "UJ1", "four")
    assert ratings(bot, survey) == {}
    record = bot.runtime.deps.db.run_sync(lambda s: s.get(ProcessedEvent, ("T0001", event_id)))
    assert record.done_at is None and record.attempts == 1 and "text" not in record.payload
    await react(bot, survey, "UJ1", "four", event_id=event_id, retry_num=1)
    assert ratings(bot, survey) == {"UJ1": 4}
    # A further retry of the same event changes nothing.
    await react(bot, survey, "UJ1", "four", event_id=event_id, retry_num=2)
    assert len(calls) == 2


async def test_an_event_slack_will_not_retry_is_applied_by_the_next_tick(
    bot, survey, first_rating_fails, clock
):
    calls = first_rating_fails
    await react(bot, survey, "UJ1", "two")
    assert ratings(bot, survey) == {}
    clock.advance(minutes=1)
    await tick(bot.runtime.deps)
    assert ratings(bot, survey) == {"UJ1": 2}
    await tick(bot.runtime.deps)
    assert len(calls) == 2


# --- a payload Slack can never accept -------------------------------------------------------------


async def test_a_message_slack_sdk_cannot_build_fails_once_and_the_admins_are_told(
    program,
    clock,
    monkeypatch,
):
    bot = program

    def oversized(the_pair, *, days):
        return "nudge", [SectionBlock(text="x" * 3001)]  # over Block Kit's 3000

    monkeypatch.setattr(rhythm_blocks, "nudge_blocks", oversized)
    clock.now = at("2026-03-23 10:00")  # 21 days quiet: both pairs are nudged
    await run_tick(bot)
    nudges = rows(bot, "nudge")
    assert [(m.status, m.attempts, m.last_error) for m in nudges] == [
        ("failed", 1, "invalid_payload")
    ] * 2
    told = [
        c
        for c in posts(bot, bot.slack.conversation_id("UADMIN"))
        if "could not be sent" in c.params["text"]
    ]
    assert len(told) == 2
    assert {p.status for p in pairs_by_mentor(bot).values()} == {"active"}  # not the pair's fault
    clock.advance(hours=3)
    await run_tick(bot)
    assert [m.attempts for m in rows(bot, "nudge")] == [1, 1]  # not retried


def test_a_long_title_department_and_explanation_render_within_limits():
    from bot.matching import MatchResult, ProposedPair, Unmatched
    from handlers.devkit.fake_slack import validate_blocks
    from storage.models import Participant

    now = NOW
    made = Pair(
        id=1,
        team_id="T1",
        mentor_id="UJ",
        mentee_id="UL",
        explanation="x" * 5000,
        created_at=now,
        updated_at=now,
    )
    person = Participant(
        team_id="T1",
        user_id="UJ",
        role="junior",
        topics=["ai"],
        title="T" * 5000,
        department="D" * 5000,
        created_at=now,
        updated_at=now,
    )
    intro = pairing_blocks.intro_blocks(made, mentor=person, mentee=person)
    assert validate_blocks([b.to_dict() for b in intro]) == []
    status = profile_blocks.status_blocks(person) + pairing_blocks.pairs_status_blocks(
        "UJ", [made], {"UL": person}
    )
    assert validate_blocks([b.to_dict() for b in status]) == []
    result = MatchResult(
        pairs=[ProposedPair("UJ", "UL", 1.0, (), "y" * 5000)],
        unmatched=[Unmatched(f"U{n:04d}", f"reason {n % 30} " + "z" * 400) for n in range(40)],
        total_score=1.0,
    )
    shown = [b.to_dict() for b in pairing_blocks.match_preview_blocks(result, committed=False)]
    assert validate_blocks(shown) == []
