"""The cadence engine end to end on a controllable clock: prompts, check-ins, nudges, alerts."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.driver import make_settings, start_driver, stop_driver
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage.models import HeldSession, OutboxMessage, Pair, PromptSent
from tests.kit.databases import everything_stored
from tests.kit.guides import without_guides

LONDON = "Europe/London"
PEOPLE = {
    "UJ1": (
        LONDON,
        SignupAnswers(role="junior", level="1", department="Finance", topics=("ai", "hybrid")),
    ),
    "UL1": (
        LONDON,
        SignupAnswers(role="leader", level="6", department="Ops", topics=("ai", "hybrid")),
    ),
    "UJ2": (
        LONDON,
        SignupAnswers(role="junior", level="2", department="Sales", topics=("social",)),
    ),
    "UL2": (
        LONDON,
        SignupAnswers(role="leader", level="5", department="Legal", topics=("social",)),
    ),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def sign_up(bot, user: str, tz: str, answers: SignupAnswers) -> None:
    bot.slack.add_user(user, tz=tz, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


def pairs_by_mentor(bot) -> dict[str, Pair]:
    return bot.runtime.deps.db.run_sync(
        lambda s: {p.mentor_id: p for p in s.exec(select(Pair)).all()}
    )


def posts(bot, channel: str | None = None):
    """What the bot posted, leaving out the preparation guides (their own tests count them)."""
    calls = without_guides(bot.slack.calls_to("chat.postMessage"))
    return [c for c in calls if channel is None or c.params["channel"] == channel]


def outbox_keys(bot) -> list[str]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            m.key for m in s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        ]
    )


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


@pytest.fixture
async def program(bot, clock):
    for user, (tz, answers) in PEOPLE.items():
        await sign_up(bot, user, tz, answers)
    await bot.command("admin match", user="UADMIN")
    assert len(posts(bot)) == 2  # the two introductions
    return bot


async def test_prompt_checkin_we_met_and_the_next_prompt(program, clock):
    bot = program
    pair = pairs_by_mentor(bot)["UJ1"]
    channel = pair.dm_channel_id
    intro = posts(bot, channel)[0]
    # The leader picks Wednesday 11 March for the first session.
    await bot.click_in_message(intro, "pick_session_date", user="UL1", selected_date="2026-03-11")
    assert "Wednesday 11 March 2026" in posts(bot, channel)[-1].params["text"]
    before = len(posts(bot))

    clock.now = at("2026-03-10 08:59")  # 24 h before 09:00 London on the 11th, minus a minute
    await run_tick(bot)
    assert len(posts(bot)) == before
    clock.now = at("2026-03-10 09:00")
    await run_tick(bot)
    [prompt] = posts(bot)[before:]
    assert prompt.params["channel"] == channel
    assert "conversation prompt" in prompt.params["text"]
    first_prompt = bot.runtime.deps.db.run_sync(
        lambda s: s.exec(select(PromptSent.prompt_id).where(PromptSent.pair_id == pair.id)).all()
    )
    assert len(first_prompt) == 1 and first_prompt[0].split("-")[0] in ("ai", "hybrid")
    await run_tick(bot)  # ticking again sends nothing new
    assert len(posts(bot)) == before + 1

    clock.now = at("2026-03-11 18:00")  # the session date has passed, at the end of the day:
    await run_tick(bot)
    assert len(posts(bot)) == before + 1  # the check-in waits for the morning
    clock.now = at("2026-03-12 09:00")
    await run_tick(bot)
    [checkin] = posts(bot)[before + 1 :]
    assert checkin.params["channel"] == channel
    buttons = [e for b in checkin.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in buttons] == [
        "checkin_met",
        "checkin_reschedule",
        "checkin_skip",
    ]
    value = buttons[0]["value"]

    # Both press "We met", one of them twice: one session is logged.
    await bot.click_in_message(checkin, "checkin_met", user="UJ1", value=value)
    await bot.click_in_message(checkin, "checkin_met", user="UJ1", value=value)
    await bot.click_in_message(checkin, "checkin_met", user="UL1", value=value)
    held = bot.runtime.deps.db.run_sync(lambda s: s.exec(select(HeldSession)).all())
    assert [(h.held_on, h.logged_by) for h in held] == [(date(2026, 3, 11), "UJ1")]
    assert "logged your session" in bot.slack.calls_to("response_url")[-3].params["text"]
    pair = pairs_by_mentor(bot)["UJ1"]
    assert pair.next_session_on == date(2026, 3, 25)  # the cadence: 14 days on

    # After the first session, each is asked privately whether the pairing is a good fit.
    dms = {bot.slack.conversation_id(u): u for u in ("UJ1", "UL1")}
    private = [c for c in posts(bot) if c.params["channel"] in dms]
    assert sorted(dms[c.params["channel"]] for c in private) == ["UJ1", "UL1"]
    assert all("good fit" in c.params["text"] for c in private)

    count = len(posts(bot, channel))
    clock.now = at("2026-03-24 09:00")
    await run_tick(bot)
    [second] = posts(bot, channel)[count:]
    assert "conversation prompt" in second.params["text"]
    prompts = bot.runtime.deps.db.run_sync(
        lambda s: s.exec(select(PromptSent.prompt_id).where(PromptSent.pair_id == pair.id)).all()
    )
    assert len(prompts) == 2 and prompts[0] != prompts[1]  # no repeat


async def test_stalled_pair_is_nudged_then_escalated_once(program, clock):
    bot = program
    pair = pairs_by_mentor(bot)["UJ2"]
    channel = pair.dm_channel_id

    def nudges():
        return [c for c in posts(bot, channel) if "since your last session" in c.params["text"]]

    def alerts():
        texts = [c.params["text"] for c in posts(bot, bot.slack.conversation_id("UADMIN"))]
        return [t for t in texts if "has stalled" in t and "<@UJ2>" in t]

    clock.now = at("2026-03-23 08:45")  # 21 days after the intro, less a quarter hour
    await run_tick(bot)
    assert nudges() == []
    clock.now = at("2026-03-23 09:00")
    await run_tick(bot)
    await run_tick(bot)
    [nudge] = nudges()
    assert "21 days" in nudge.params["text"]
    actions = [
        e["action_id"]
        for b in nudge.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert actions == ["pick_session_date", "log_met_today", "send_prompt"]
    assert alerts() == []

    clock.now = at("2026-03-30 09:00")  # a week after the nudge, still nothing
    await run_tick(bot)
    await run_tick(bot)
    [alert] = alerts()
    assert "<@UL2>" in alert and "28 days" in alert
    assert len(nudges()) == 1


async def test_a_message_in_the_pair_dm_counts_as_activity(program, clock, caplog):
    bot = program
    pair = pairs_by_mentor(bot)["UJ2"]
    clock.now = at("2026-03-20 10:00")
    event = {
        "type": "message",
        "channel": pair.dm_channel_id,
        "channel_type": "mpim",
        "user": "UL2",
        "text": "Shall we meet on Thursday? My private thoughts are here.",
        "ts": "1774000000.000100",
    }
    assert await bot.event(event, event_id="EvMsg1") == 200
    clock.now = at("2026-03-23 09:00")
    await run_tick(bot)
    nudged = [c for c in posts(bot, pair.dm_channel_id) if "since your last" in c.params["text"]]
    assert nudged == []
    assert pairs_by_mentor(bot)["UJ2"].last_activity_at == at("2026-03-20 10:00")
    # The text is kept nowhere: not in the database, not in the logs.
    stored = await asyncio.to_thread(everything_stored, bot.runtime.settings.database_url)
    assert str(pair.dm_channel_id).encode() in stored  # the oracle does read the rows
    assert b"private thoughts" not in stored
    assert "private thoughts" not in caplog.text


async def test_a_paused_participant_gets_nothing(program, clock):
    bot = program
    await bot.command("pause", user="UL2")
    await bot.click("pause_keep_pair", user="UL2", container={"type": "message", "message_ts": "1"})
    channel = pairs_by_mentor(bot)["UJ2"].dm_channel_id
    before = len(posts(bot, channel))
    for day in ("2026-03-15 09:00", "2026-03-16 20:00", "2026-03-23 09:00", "2026-04-06 09:00"):
        clock.now = at(day)
        await run_tick(bot)
    assert len(posts(bot, channel)) == before


async def test_overlapping_ticks_and_a_restart_send_nothing_twice(
    program, clock, slack, database_url, timer
):
    bot = program
    clock.now = at("2026-03-15 09:00")  # Sunday: the prompts for the 16th are decided...
    await asyncio.gather(tick(bot.runtime.deps), tick(bot.runtime.deps), tick(bot.runtime.deps))
    await bot.settle()
    decided = outbox_keys(bot)
    prompt_keys = [k for k in decided if k.startswith("prompt:")]
    assert len(prompt_keys) == 2 and len(set(decided)) == len(decided)
    sent_so_far = len(posts(bot))  # ...but wait for Monday's working hours

    # Restart: a new process on the same database file picks up where the first stopped.
    await stop_driver(bot)
    again = await start_driver(make_settings(slack, database_url), slack, clock=clock, timer=timer)
    try:
        clock.now = at("2026-03-16 09:00")
        await asyncio.gather(tick(again.runtime.deps), tick(again.runtime.deps))
        await again.settle()
        await tick(again.runtime.deps)
        prompts = [
            c for c in posts(again)[sent_so_far:] if "conversation prompt" in c.params["text"]
        ]
        assert len(prompts) == 2
        assert len({c.params["channel"] for c in prompts}) == 2
        # Nothing decided before the restart is decided again (what is new since: the pulse
        # surveys that fell due at 09:00 on the 16th, 14 days after the introductions).
        after = outbox_keys(again)
        assert after[: len(decided)] == decided and len(set(after)) == len(after)
        assert sorted(after[len(decided) :]) == [
            "pulse:1:cadence:2026-03-16",
            "pulse:2:cadence:2026-03-16",
        ]
    finally:
        await stop_driver(again)
    bot.runtime.scheduler.start(paused=True)  # the fixture's teardown stops it again


async def test_a_crash_between_deciding_and_sending_loses_nothing(
    program, clock, slack, database_url, timer
):
    from handlers.rhythm import tick as rhythm

    bot = program
    clock.now = at("2026-03-16 09:00")
    await rhythm.decide_due(bot.runtime.deps)  # decided, then the process dies before sending
    before = len(posts(bot))
    await stop_driver(bot)
    again = await start_driver(make_settings(slack, database_url), slack, clock=clock, timer=timer)
    try:
        await tick(again.runtime.deps)
        await tick(again.runtime.deps)
        new = [c for c in posts(again)[before:] if "conversation prompt" in c.params["text"]]
        assert len(new) == 2
    finally:
        await stop_driver(again)
    bot.runtime.scheduler.start(paused=True)


async def test_permanent_error_pauses_the_pair_and_tells_admins(program, clock):
    bot = program
    pair = pairs_by_mentor(bot)["UJ1"]
    bot.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    clock.now = at("2026-03-15 09:00")
    await run_tick(bot)
    clock.now = at("2026-03-16 09:00")
    await run_tick(bot)
    failed = bot.runtime.deps.db.run_sync(
        lambda s: [m.key for m in s.exec(select(OutboxMessage)).all() if m.status == "failed"]
    )
    assert len(failed) == 1
    paused = [p for p in pairs_by_mentor(bot).values() if p.status == "paused"]
    assert len(paused) == 1 and paused[0].paused_reason == "delivery_failed"
    assert any(
        "channel_not_found" in c.params["text"]
        for c in posts(bot, bot.slack.conversation_id("UADMIN"))
    )
    assert pair.id in {p.id for p in pairs_by_mentor(bot).values()}


async def test_met_command_and_on_demand_prompt(program, clock):
    bot = program
    status, body = await bot.command("met", user="UJ1")
    assert "Logged today's session" in body["text"]
    status, body = await bot.command("met", user="UL1")
    assert "already logged" in body["text"]
    status, body = await bot.command("prompt", user="UJ1")
    assert body["response_type"] == "ephemeral" and "To open:" in str(body["blocks"])
    status, body = await bot.command("met", user="UADMIN")
    assert "don't have an active pair" in body["text"]


async def test_poor_fit_offers_a_rematch_and_tells_admins_not_the_partner(program, clock):
    bot = program
    await bot.command("met", user="UJ1")
    await bot.settle()
    leader_dm = bot.slack.conversation_id("UL1")
    [survey] = [c for c in posts(bot) if c.params["channel"] == leader_dm]
    pair_id = survey.params["blocks"][-1]["elements"][1]["value"]
    container = {"type": "message", "channel_id": leader_dm, "message_ts": "1"}
    await bot.click("fit_poor", user="UL1", container=container, value=pair_id)
    offer = bot.slack.calls_to("response_url")[-1]
    assert "Find me a different match" in str(offer.params["blocks"])
    admin = [
        c
        for c in posts(bot, bot.slack.conversation_id("UADMIN"))
        if "not a good fit" in c.params["text"]
    ]
    assert len(admin) == 1 and "<@UL1>" in admin[0].params["text"]
    dm = pairs_by_mentor(bot)["UJ1"].dm_channel_id
    assert not [c for c in posts(bot, dm) if "good fit" in str(c.params)]

    await bot.click("fit_rematch", user="UL1", container=container, value=pair_id)
    assert pairs_by_mentor(bot)["UJ1"].status == "ended"
    ended = posts(bot, dm)[-1]
    assert (
        "different match was requested" in ended.params["text"]
        and "UL1" not in ended.params["text"]
    )
