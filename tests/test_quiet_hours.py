"""Quiet hours: over four simulated weeks, nobody in Tokyo, London or Los Angeles gets a
message outside 09:00-18:00 on their own weekdays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.cadence import ProgramSettings, is_working_time
from handlers.core.scheduler import tick
from handlers.devkit.driver import make_settings, start_driver, stop_driver
from handlers.devkit.fake_slack import Call
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage.models import Pair
from tests.kit.guides import is_guide

TOKYO, LONDON, LA = "Asia/Tokyo", "Europe/London", "America/Los_Angeles"
# Same-zone pairs share a topic only with each other; the Tokyo-LA pair shares two
# working hours (00:00-02:00 UTC, before LA moves its clocks on 8 March).
PEOPLE = {
    "UTK1": (TOKYO, SignupAnswers(role="junior", level="1", department="A", topics=("ai",))),
    "UTK2": (TOKYO, SignupAnswers(role="leader", level="5", department="B", topics=("ai",))),
    "ULN1": (LONDON, SignupAnswers(role="junior", level="1", department="A", topics=("hybrid",))),
    "ULN2": (LONDON, SignupAnswers(role="leader", level="5", department="B", topics=("hybrid",))),
    "ULA1": (LA, SignupAnswers(role="junior", level="1", department="A", topics=("social",))),
    "ULA2": (LA, SignupAnswers(role="leader", level="5", department="B", topics=("social",))),
    "UTK3": (TOKYO, SignupAnswers(role="junior", level="2", department="C", topics=("career",))),
    "ULA3": (LA, SignupAnswers(role="leader", level="6", department="D", topics=("career",))),
}


async def test_nobody_hears_from_the_bot_outside_working_hours(slack, database_url, clock, timer):
    slack.add_channel("CADMIN")
    bot = await start_driver(
        make_settings(slack, database_url, MENTOR_ADMIN_CHANNEL="CADMIN"),
        slack,
        clock=clock,
        timer=timer,
    )
    sent_at: list[tuple[datetime, Call]] = []
    seen = 0

    def stamp() -> None:
        nonlocal seen
        calls = slack.calls_to("chat.postMessage")
        sent_at.extend((clock.now, call) for call in calls[seen:])
        seen = len(calls)

    try:
        for user, (tz, answers) in PEOPLE.items():
            slack.add_user(user, tz=tz)
            await bot.command("signup", user=user)
            view = slack.calls_to("views.open")[-1].params["view"]
            await bot.submit_view(filled(view, signup_state(**answers)), user=user)
        # Monday 09:00 UTC: 18:00 in Tokyo and 01:00 in Los Angeles.
        await bot.command("admin match", user="UADMIN")
        stamp()
        start = clock.now
        while clock.now < start + timedelta(days=28):
            clock.advance(hours=1)
            if clock.now == datetime(2026, 3, 4, 3, tzinfo=UTC):  # Tokyo, Wednesday noon
                await bot.command("met", user="UTK1")
            if clock.now == datetime(2026, 3, 5, 3, tzinfo=UTC):  # LA, Wednesday 19:00
                await bot.command("met", user="ULA1")
            await tick(bot.runtime.deps)
            await bot.settle()
            stamp()

        members = bot.runtime.deps.db.run_sync(
            lambda s: {p.dm_channel_id: (p.mentor_id, p.mentee_id) for p in s.exec(select(Pair))}
        )
        zones = {user: tz for user, (tz, _) in PEOPLE.items()}
        settings = ProgramSettings()
        kinds_per_pair: dict[str, set[str]] = {}
        for moment, call in sent_at:
            channel = call.params["channel"]
            if channel == "CADMIN":
                continue  # a channel, not a person
            recipients = members.get(channel) or slack.conversations[channel]["members"]
            for user in recipients:
                assert is_working_time(moment, zones[user], settings), (
                    f"{call.params['text'][:50]!r} reached {user} at {moment} "
                    f"({moment.astimezone(ZoneInfo(zones[user]))})"
                )
            text = call.params["text"]
            kind = (
                "guide"
                if is_guide(call)
                else next(
                    (
                        k
                        for k in ("Meet your", "prompt", "happen?", "since your last", "good fit")
                        if k in text
                    ),
                    "other",
                )
            )
            kinds_per_pair.setdefault(channel, set()).add(kind)
        # Not vacuous: every pair was introduced, prompted, checked in on and nudged.
        for channel in members:
            assert channel is not None  # every pair has its DM
            assert {"Meet your", "prompt", "happen?", "since your last"} <= kinds_per_pair[channel]
        # Each person's own DM: the preparation guide, and later the fit question.
        for user in ("UTK1", "ULA1"):
            assert kinds_per_pair[slack.conversation_id(user)] == {"guide", "good fit"}
    finally:
        await stop_driver(bot)
