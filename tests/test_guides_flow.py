"""Preparation guides end to end, through signed requests: each junior and each leader gets
their own guide in a DM when first matched, once per person per cohort, in their working
hours, and never once the admins turn the guides off.

What a guide says is checked against bot/guides.toml read here with tomllib, not through
bot.guides, so a loader that mangled the text would be caught."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage.models import Cohort, OutboxMessage, Pair
from tests.kit.guides import is_guide, outbox_key
from tests.test_settings_modal import open_settings, settings_state

GUIDES = tomllib.loads(
    (Path(__file__).resolve().parents[1] / "bot" / "guides.toml").read_text(encoding="utf-8")
)
LONDON, NEW_YORK = "Europe/London", "America/New_York"
MONDAY_9_UTC = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the clock's start: 04:00 in New York


def junior(level: str = "1", capacity: str = "1") -> SignupAnswers:
    return SignupAnswers(
        role="junior", level=level, department="Finance", topics=("ai",), capacity=capacity
    )


def leader(department: str) -> SignupAnswers:
    return SignupAnswers(role="leader", level="5", department=department, topics=("ai",))


async def sign_up(bot, user: str, answers: SignupAnswers, tz: str = LONDON) -> None:
    bot.slack.add_user(user, tz=tz, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


async def match(bot) -> None:
    status, _ = await bot.command("admin match", user="UADMIN")
    assert status == 200


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


async def save_settings(bot, **changes: str | None) -> None:
    view = await open_settings(bot)
    status, body = await bot.submit_view(filled(view, settings_state(**changes)), user="UADMIN")
    assert body["response_action"] == "update", body


def guides_to(bot, user: str) -> list:
    """The guides posted in `user`'s own DM with the bot."""
    dm = bot.slack.conversation_id(user)
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if is_guide(c) and c.params["channel"] == dm
    ]


def guide_rows(bot) -> list[tuple[str, str]]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            (m.key, m.status)
            for m in s.exec(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "guide")
                .order_by(col(OutboxMessage.id))
            )
        ]
    )


def first_cohort_id(bot) -> int:
    return cohort_id_named(bot, "Cohort 1")


def cohort_id_named(bot, name: str) -> int:
    [found] = bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(Cohort.id).where(Cohort.name == name)))
    )
    return found


def leader_of(bot, junior_id: str) -> str:
    """Whom `junior_id` mentors now (their one live pair)."""
    [pair] = bot.runtime.deps.db.run_sync(
        lambda s: list(
            s.exec(select(Pair).where(Pair.mentor_id == junior_id, Pair.status == "active"))
        )
    )
    return pair.mentee_id


async def rematch_with_a_newcomer(bot) -> str:
    """UJ1's pair ends; a new leader signs up and is matched with UJ1 (UJ1's old leader
    never is again, and UJ2 is taken). Returns UJ1's old leader."""
    old = leader_of(bot, "UJ1")
    status, body = await bot.command(f"admin unpair <@UJ1> <@{old}>", user="UADMIN")
    assert status == 200 and "not paired" not in str(body)
    await sign_up(bot, "UL3", leader("People"))
    await match(bot)
    assert leader_of(bot, "UJ1") == "UL3"
    return old


def assert_is_the_guide(call, audience: str) -> None:
    """The post says exactly what guides.toml says for `audience`, in order."""
    expected = GUIDES[audience]
    blocks = call.params["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == expected["title"].strip()
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections == [text.strip() for text in expected["sections"]]
    assert call.params["text"] == expected["title"].strip()


@pytest.fixture
async def four(bot):
    """Two juniors and two leaders in London: at 09:00 UTC on a Monday all are at work."""
    await sign_up(bot, "UJ1", junior("1"))
    await sign_up(bot, "UJ2", junior("2"))
    await sign_up(bot, "UL1", leader("Operations"))
    await sign_up(bot, "UL2", leader("Sales"))
    return bot


async def test_each_junior_and_each_leader_gets_their_own_guide_once(four, clock):
    bot = four
    await match(bot)
    for user, audience in (("UJ1", "junior"), ("UJ2", "junior"), ("UL1", "leader")):
        [guide] = guides_to(bot, user)
        assert_is_the_guide(guide, audience)
    [guide] = guides_to(bot, "UL2")
    assert_is_the_guide(guide, "leader")
    # One DM each, nowhere else: the pairs' group DMs get only their introductions.
    guides = [c for c in bot.slack.calls_to("chat.postMessage") if is_guide(c)]
    assert len(guides) == 4
    assert sorted(outbox_key(c) for c in guides) == [
        f"guide:{user}:{first_cohort_id(bot)}" for user in ("UJ1", "UJ2", "UL1", "UL2")
    ]

    # Days of ticks later, nothing is sent again.
    for _ in range(3):
        clock.advance(days=1)
        await run_tick(bot)
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if is_guide(c)]) == 4
    assert {status for _, status in guide_rows(bot)} == {"sent"}


async def test_a_junior_with_two_leaders_gets_one_guide(bot):
    await sign_up(bot, "UJ1", junior(capacity="2"))
    await sign_up(bot, "UL1", leader("Operations"))
    await sign_up(bot, "UL2", leader("Sales"))
    await match(bot)
    intros = [c for c in bot.slack.calls_to("chat.postMessage") if "Meet your" in c.params["text"]]
    assert len(intros) == 2  # UJ1 mentors both
    [guide] = guides_to(bot, "UJ1")
    assert_is_the_guide(guide, "junior")
    assert len(guides_to(bot, "UL1")) == len(guides_to(bot, "UL2")) == 1


async def test_a_rematch_in_the_same_cohort_sends_nothing_new(four):
    bot = four
    await match(bot)
    old = await rematch_with_a_newcomer(bot)
    # UJ1 is paired again in the same cohort: no second guide.
    assert len(guides_to(bot, "UJ1")) == 1 and len(guides_to(bot, old)) == 1
    # The newcomer gets theirs; nobody else hears anything new.
    [newcomer] = guides_to(bot, "UL3")
    assert_is_the_guide(newcomer, "leader")
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if is_guide(c)]) == 5


async def test_a_new_cohort_brings_the_guides_again(four):
    bot = four
    await save_settings(bot, program_start="2026-03-02", program_end="2026-08-31")
    await match(bot)
    assert len(guides_to(bot, "UJ1")) == 1

    # The next cohort: the admins start it and close the first; UJ1's pair ends, and UJ1,
    # left without a pair, is offered the new cohort's pool and joins it.
    status, body = await bot.command("admin cohort new Autumn start=2026-09-07", user="UADMIN")
    assert "Created *Autumn*" in body["text"], body
    status, body = await bot.command("admin cohort close Cohort 1", user="UADMIN")
    assert "Closed *Cohort 1*" in body["text"], body
    await bot.settle()
    [offer] = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == bot.slack.conversation_id("UJ1") and "Autumn" in c.params["text"]
    ]
    await bot.click_in_message(offer, "cohort_carry_over_join", user="UJ1", value=_value(offer))
    await sign_up(bot, "UL3", leader("People"))  # a newcomer joins the cohort open for signups
    await match(bot)
    assert leader_of(bot, "UJ1") == "UL3"

    first, second = guides_to(bot, "UJ1")
    assert_is_the_guide(second, "junior")
    autumn = cohort_id_named(bot, "Autumn")
    assert [outbox_key(first), outbox_key(second)] == [
        f"guide:UJ1:{first_cohort_id(bot)}",
        f"guide:UJ1:{autumn}",
    ]
    assert len(guides_to(bot, "UL3")) == 1


def _value(call) -> str:
    [button] = [e for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"]][
        :1
    ]
    return button["value"]


async def test_with_the_guides_off_nothing_is_sent(four, clock):
    bot = four
    await save_settings(bot, send_guides="off")
    await match(bot)
    clock.advance(days=1)
    await run_tick(bot)
    assert [c for c in bot.slack.calls_to("chat.postMessage") if is_guide(c)] == []
    assert guide_rows(bot) == []  # not even decided
    intros = [c for c in bot.slack.calls_to("chat.postMessage") if "Meet your" in c.params["text"]]
    assert len(intros) == 2  # the rest of the program goes on


async def test_a_guide_decided_at_night_arrives_in_working_hours(bot, clock):
    # Monday 09:00 UTC is 04:00 in New York: the junior's guide waits for 09:00 there.
    await sign_up(bot, "UJ1", junior(), tz=NEW_YORK)
    await sign_up(bot, "UL1", leader("Operations"))
    await match(bot)
    assert guides_to(bot, "UJ1") == []
    assert len(guides_to(bot, "UL1")) == 1  # London is at work: the leader's goes now
    arrived_at = None
    while arrived_at is None and clock.now < MONDAY_9_UTC + timedelta(days=1):
        clock.advance(minutes=15)
        await run_tick(bot)
        if guides_to(bot, "UJ1"):
            arrived_at = clock.now
    assert arrived_at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York
    [guide] = guides_to(bot, "UJ1")
    assert_is_the_guide(guide, "junior")


async def test_a_guide_decided_before_the_admins_turned_them_off_is_dropped(bot, clock):
    await sign_up(bot, "UJ1", junior(), tz=NEW_YORK)
    await sign_up(bot, "UL1", leader("Operations"), tz=NEW_YORK)
    await match(bot)  # 04:00 in New York: both guides wait
    assert [status for _, status in guide_rows(bot)] == ["pending", "pending"]
    await save_settings(bot, send_guides="off")

    clock.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York
    await run_tick(bot)
    assert guides_to(bot, "UJ1") == [] and guides_to(bot, "UL1") == []
    assert [status for _, status in guide_rows(bot)] == ["expired", "expired"]
    # The introduction still went: only the guides were turned off.
    assert any("Meet your" in c.params["text"] for c in bot.slack.calls_to("chat.postMessage"))


async def test_someone_who_paused_before_their_guide_went_out_does_not_get_it(bot, clock):
    await sign_up(bot, "UJ1", junior(), tz=NEW_YORK)
    await sign_up(bot, "UL1", leader("Operations"), tz=NEW_YORK)
    await match(bot)
    await bot.command("pause", user="UL1")  # asks about the pair: keep it
    await bot.click(
        "pause_keep_pair", user="UL1", container={"type": "message", "message_ts": "1.2"}
    )
    clock.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    await run_tick(bot)
    assert guides_to(bot, "UL1") == []
    assert len(guides_to(bot, "UJ1")) == 1
    cohort = first_cohort_id(bot)
    assert dict(guide_rows(bot)) == {
        f"guide:UJ1:{cohort}": "sent",
        f"guide:UL1:{cohort}": "expired",
    }


async def test_someone_who_left_before_their_guide_went_out_does_not_get_it(bot, clock):
    await sign_up(bot, "UJ1", junior(), tz=NEW_YORK)
    await sign_up(bot, "UL1", leader("Operations"), tz=NEW_YORK)
    await match(bot)
    await bot.command("leave", user="UL1")
    await bot.click("leave_confirm", user="UL1", container={"type": "message", "message_ts": "1"})
    clock.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    await run_tick(bot)
    assert guides_to(bot, "UL1") == []
    assert dict(guide_rows(bot))[f"guide:UL1:{first_cohort_id(bot)}"] in ("skipped", "expired")
