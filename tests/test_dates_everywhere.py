"""A session date reads as the same calendar date for every reader, from Kiritimati (UTC+14)
to Pago Pago (UTC-11); an instant (when a pulse rating was given) keeps its real time.

Each check reads a message the way a reader's client would (tests/kit/zones.seen_dates):
Slack renders <!date^epoch…> in the reader's own zone, plain text stays as written."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from handlers.core import blocks
from storage.models import PulseResponse
from tests.kit.zones import (
    KIRITIMATI,
    PAGO_PAGO,
    local,
    message_text,
    pair_of,
    posts,
    seen_dates,
    sign_up,
    step,
)

MENTOR, LEADER = "UKIR", "UPAGO"
READERS = {MENTOR: KIRITIMATI, LEADER: PAGO_PAGO}
SESSION = date(2026, 3, 10)  # a Tuesday
_events = itertools.count(1)


async def until_posted(bot, clock, found, *, days: int = 8):
    """Tick at each due moment (at least hourly) until a message matching `found` is posted."""
    end = clock.now + timedelta(days=days)
    while clock.now < end:
        hits = [c for c in posts(bot) if found(c)]
        if hits:
            return hits[-1]
        await step(bot, clock, most=timedelta(hours=6))
    raise AssertionError("never posted")


def assert_read_as(text: str, expected: list[date], *, now: datetime) -> None:
    """Both readers see exactly `expected` (a date in the fallback text and again in the
    blocks counts once)."""
    for user, tz in READERS.items():
        seen = list(dict.fromkeys(seen_dates(text, tz, now=now)))
        assert seen == expected, (user, tz, text[:300])


async def open_home(bot, user: str) -> dict:
    event = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
    assert await bot.event(event, event_id=f"EvDates{next(_events)}") == 200
    return bot.slack.calls_to("views.publish")[-1].params["view"]


async def test_a_session_date_reads_the_same_from_kiritimati_to_pago_pago(bot, clock):
    await sign_up(bot, MENTOR, KIRITIMATI, role="junior", level="1", department="A")
    await sign_up(bot, LEADER, PAGO_PAGO, role="leader", level="6", department="B")
    await bot.command("admin match", user="UADMIN")
    intro = await until_posted(bot, clock, lambda c: "Meet your" in c.params["text"])
    channel = pair_of(bot, MENTOR).dm_channel_id

    # The leader picks Tuesday 10 March: the note in the group DM reads Tuesday 10 March for
    # both, though it is already Wednesday in Kiritimati for most of Slack's noon UTC.
    await bot.click_in_message(
        intro, "pick_session_date", user=LEADER, selected_date=SESSION.isoformat()
    )
    note = posts(bot, channel)[-1]
    assert "next session is set" in note.params["text"]
    assert_read_as(message_text(note.params), [SESSION], now=clock.now)

    for user, tz in READERS.items():
        status, body = await bot.command("status", user=user)
        assert seen_dates(str(body["blocks"]), tz, now=clock.now) == [SESSION]
        home = await open_home(bot, user)
        assert seen_dates(str(home["blocks"]), tz, now=clock.now) == [SESSION]

    prompt = await until_posted(bot, clock, lambda c: "conversation prompt" in c.params["text"])
    assert_read_as(message_text(prompt.params), [SESSION], now=clock.now)
    checkin = await until_posted(bot, clock, lambda c: "happen?" in c.params["text"])
    assert_read_as(message_text(checkin.params), [SESSION], now=clock.now)

    value = f"{pair_of(bot, MENTOR).id}:{SESSION.isoformat()}"
    await bot.click_in_message(checkin, "checkin_met", user=MENTOR, value=value)
    answered = bot.slack.calls_to("response_url")[-1].params["text"]
    next_session = pair_of(bot, MENTOR).next_session_on
    assert next_session is not None
    assert "logged your session" in answered
    assert_read_as(answered, [SESSION, next_session], now=clock.now)

    # `/mentor met` a few days later: the reply names the next proposed date.
    clock.advance(days=3)
    status, body = await bot.command("met", user=LEADER)
    proposed = pair_of(bot, MENTOR).next_session_on
    assert "proposed for" in body["text"]
    assert seen_dates(body["text"], PAGO_PAGO, now=clock.now) == [proposed]
    assert seen_dates(body["text"], KIRITIMATI, now=clock.now) == [proposed]


async def test_a_pulse_rating_on_home_shows_the_moment_it_was_given(bot, clock):
    await sign_up(bot, MENTOR, KIRITIMATI, role="junior", level="1", department="A")
    await sign_up(bot, LEADER, PAGO_PAGO, role="leader", level="6", department="B")
    await bot.command("admin match", user="UADMIN")
    await until_posted(bot, clock, lambda c: "Meet your" in c.params["text"])
    await bot.command("met", user=MENTOR)
    survey = await until_posted(bot, clock, lambda c: "How valuable" in c.params["text"])
    value = next(
        e["value"]
        for b in survey.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "pulse_rate_4"
    )
    clock.advance(minutes=7)
    given = clock.now
    await bot.click_in_message(survey, "pulse_rate_4", user=MENTOR, value=value)
    stored = bot.runtime.deps.db.run_sync(lambda s: s.exec(select(PulseResponse)).one())
    assert stored.updated_at == given

    home = str((await open_home(bot, MENTOR))["blocks"])
    ratings = home[home.index("Your pulse ratings") :]
    [stamp] = re.findall(r"<!date\^(\d+)\^", ratings)
    assert int(stamp) == int(given.timestamp())  # the instant itself, not a day at noon UTC
    assert seen_dates(ratings, KIRITIMATI, now=clock.now) == [local(given, KIRITIMATI).date()]


def test_date_text_names_the_day_and_the_year():
    for day in (date(2026, 12, 8), date(2027, 1, 1), date(2028, 2, 29)):
        shown = blocks.date_text(day)
        assert "<!date" not in shown and str(day.year) in shown
        for tz in (KIRITIMATI, PAGO_PAGO):
            assert seen_dates(shown, tz, now=datetime(2026, 3, 2, tzinfo=UTC)) == [day]
