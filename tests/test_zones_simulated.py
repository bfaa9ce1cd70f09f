"""Five weeks of a program with people in Auckland, Kiritimati (UTC+14), Pago Pago (UTC-11),
Kathmandu (UTC+05:45) and London, across the spring and the autumn clock changes (London:
last Sunday of March and of October; Auckland: first Sunday of April and last Sunday of
September), in a Monday-to-Friday and in a Sunday-to-Thursday workspace.

Everything is checked against plain zoneinfo arithmetic written here and in
tests/kit/zones.py, never against the product's helpers:
- every message to a person arrives 09:00-18:00 on a working day on their own wall clock;
- a prompt arrives before its session's day starts for the leader;
- a date in a message reads as the session's calendar date for each reader;
- `/mentor met` logs the day it is for whoever runs it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from handlers.devkit.forms import filled
from storage.models import HeldSession, saved_id
from tests.kit.zones import (
    AUCKLAND,
    KATHMANDU,
    KIRITIMATI,
    LONDON,
    MONDAY_TO_FRIDAY,
    PAGO_PAGO,
    SUNDAY_TO_THURSDAY,
    all_pairs,
    local,
    message_text,
    seen_dates,
    sign_up,
    step,
    today_in,
    utc,
    working,
)
from tests.test_settings_modal import open_settings, settings_state

# Juniors mentor leaders; each pair shares one topic, so the matching is unambiguous.
PEOPLE = {
    "UKTM": (KATHMANDU, "junior", "hybrid"),
    "ULON": (LONDON, "leader", "hybrid"),
    "UPAGO": (PAGO_PAGO, "junior", "social"),
    "UAKL": (AUCKLAND, "leader", "social"),
    "UKIR": (KIRITIMATI, "junior", "career"),
    "UPAGO2": (PAGO_PAGO, "leader", "career"),
    "ULON2": (LONDON, "junior", "ai"),
    "UKTM2": (KATHMANDU, "leader", "ai"),
    "UAKL2": (AUCKLAND, "junior", "inclusion"),
    "UKIR2": (KIRITIMATI, "leader", "inclusion"),
}
ZONES = {user: tz for user, (tz, _, _) in PEOPLE.items()}
SEASONS = {
    # (first moment, last moment, program start, program end): the midpoint falls inside.
    "spring": (utc("2026-03-16 09:00"), utc("2026-04-20 00:00"), "2026-03-16", "2026-05-19"),
    "autumn": (utc("2026-09-21 09:00"), utc("2026-10-27 00:00"), "2026-09-21", "2026-11-20"),
}
WEEKS = {"monday-friday": MONDAY_TO_FRIDAY, "sunday-thursday": SUNDAY_TO_THURSDAY}


def offset(tz: str, moment: datetime) -> timedelta:
    delta = ZoneInfo(tz).utcoffset(moment.replace(tzinfo=None))
    assert delta is not None  # typed Optional for tzinfo in general; a ZoneInfo always has one
    return delta


def outbox_key(params: dict) -> str:
    metadata = params.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return (metadata.get("event_payload") or {}).get("outbox_key", "")


def button_value(params: dict, action_id: str) -> str:
    return next(
        e["value"]
        for b in params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


@pytest.mark.parametrize("week", WEEKS)
@pytest.mark.parametrize("season", SEASONS)
async def test_five_zones_across_the_clock_changes(bot, clock, slack, season, week):
    first, last, start, end = SEASONS[season]
    days = WEEKS[week]
    # Not vacuous: both London and Auckland change their clocks during the run.
    for tz in (LONDON, AUCKLAND):
        assert offset(tz, first) != offset(tz, last), tz

    clock.now = first
    slack.add_channel("CADMIN", is_private=True)
    view = await open_settings(bot)
    status, body = await bot.submit_view(
        filled(
            view,
            settings_state(
                working_days=",".join(str(d) for d in sorted(days)),
                admin_channel="CADMIN",
                program_start=start,
                program_end=end,
            ),
        ),
        user="UADMIN",
    )
    assert body["response_action"] == "update", body
    for user, (tz, role, topic) in PEOPLE.items():
        level = "1" if role == "junior" else "6"
        department = "A" if role == "junior" else "B"
        await sign_up(bot, user, tz, role=role, level=level, department=department, topics=(topic,))
    await bot.command("admin match", user="UADMIN")
    assert {(p.mentor_id, p.mentee_id) for p in all_pairs(bot)} == {
        ("UKTM", "ULON"),
        ("UPAGO", "UAKL"),
        ("UKIR", "UPAGO2"),
        ("ULON2", "UKTM2"),
        ("UAKL2", "UKIR2"),
    }

    sent: list[tuple[datetime, dict]] = []
    seen = 0
    checkins: dict[int, int] = {}
    logged_by_command: list[tuple[str, datetime]] = []

    async def observe() -> None:
        """Stamp what was posted since last time, and let the people answer at once (each
        message came in their working hours)."""
        nonlocal seen
        while new := bot.slack.calls_to("chat.postMessage")[seen:]:
            seen += len(new)
            sent.extend((clock.now, call.params) for call in new)
            await answer(new)

    async def answer(new) -> None:
        for call in new:
            kind, _, rest = outbox_key(call.params).partition(":")
            if kind not in ("intro", "checkin"):
                continue
            pair = next(p for p in all_pairs(bot) if p.id == int(rest.split(":")[0]))
            if kind == "intro":
                # The leader picks a date six days on, on their own calendar.
                pick = today_in(ZONES[pair.mentee_id], clock.now) + timedelta(days=6)
                await bot.click_in_message(
                    call, "pick_session_date", user=pair.mentee_id, selected_date=pick.isoformat()
                )
                continue
            pair_id = saved_id(pair)
            count = checkins[pair_id] = checkins.get(pair_id, 0) + 1
            if count == 1:  # the mentor logs it their way: "today", on their own calendar
                status, reply = await bot.command("met", user=pair.mentor_id)
                assert "Logged today's session" in reply["text"], reply
                logged_by_command.append((pair.mentor_id, clock.now))
            else:
                who = pair.mentor_id if count % 2 else pair.mentee_id
                value = button_value(call.params, "checkin_met")
                await bot.click_in_message(call, "checkin_met", user=who, value=value)

    await observe()
    while clock.now < last:
        await step(bot, clock, most=timedelta(hours=24))
        await observe()

    members = {p.dm_channel_id: (p.mentor_id, p.mentee_id) for p in all_pairs(bot)}
    kinds: dict[str, set[str]] = {}
    for moment, params in sent:
        channel, key = params["channel"], outbox_key(params)
        if channel == "CADMIN":
            continue
        recipients = members.get(channel) or slack.conversations[channel]["members"]
        kind = key.partition(":")[0]
        kinds.setdefault(kind, set()).update(recipients)
        text = message_text(params)
        for user in recipients:
            # 1. Inside the person's working hours, on their working days, on their clock.
            assert working(moment, ZONES[user], days), (
                f"{kind} reached {user} at {local(moment, ZONES[user]):%a %d %b %H:%M %Z}"
            )
        if kind in ("prompt", "checkin", "session_set"):
            session_day = date.fromisoformat(key.rsplit(":", 1)[1])
            for user in recipients:
                # 3. The date reads as the session's date for each reader.
                shown = list(dict.fromkeys(seen_dates(text, ZONES[user], now=moment)))
                assert shown == [session_day], (kind, user, text[:200])
        if kind == "prompt":
            # 2. Before the session's day has started for the leader.
            leader_tz = ZONES[members[channel][1]]
            day_starts = datetime.combine(session_day, time(0), tzinfo=ZoneInfo(leader_tz))
            assert moment < day_starts, (key, moment)
        assert "<!date" not in text  # no message dates anything by an instant
    # Not vacuous: everyone was introduced, prompted and checked in on, and asked at the
    # midpoint; every pair logged a session with `/mentor met`.
    everyone = set(PEOPLE)
    for kind in ("intro", "prompt", "checkin", "session_set", "fit", "outcome"):
        assert kinds.get(kind) == everyone, kind
    assert len(logged_by_command) == len(members)

    # 4. `/mentor met` logged the day it was for the mentor who ran it.
    held = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(HeldSession))))
    for mentor, moment in logged_by_command:
        [row] = [h for h in held if h.logged_by == mentor and h.logged_at == moment]
        assert row.held_on == today_in(ZONES[mentor], moment), mentor
    # ...and on some of those days UTC's date was another.
    assert any(today_in(ZONES[m], t) != t.astimezone(UTC).date() for m, t in logged_by_command)
