""" "Today" is the acting person's today, on their own calendar; the cadence's today is the
leader's; and one meeting is logged once, even when the pair's calendars disagree on the
date. The expected dates come from plain zoneinfo arithmetic (tests/kit/zones.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from bot import cadence
from handlers.devkit.driver import TEAM_ID
from storage.models import HeldSession, Participant, saved_id
from tests.kit.zones import (
    AUCKLAND,
    KATHMANDU,
    KIRITIMATI,
    LONDON,
    LOS_ANGELES,
    PAGO_PAGO,
    TOKYO,
    all_pairs,
    pair_of,
    posts,
    sign_up,
    step,
    today_in,
    utc,
)


def held(bot) -> list[tuple[int, date, str]]:
    rows = bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(HeldSession).order_by(col(HeldSession.id))))
    )
    return [(h.pair_id, h.held_on, h.logged_by) for h in rows]


def in_dm(pair) -> dict:
    return {"type": "message", "channel_id": pair.dm_channel_id, "message_ts": "1"}


def replies(bot) -> list[str]:
    return [c.params.get("text", "") for c in bot.slack.calls_to("response_url")]


async def until(bot, clock, found, *, days: int = 8):
    end = clock.now + timedelta(days=days)
    while not found():
        assert clock.now < end, "never happened"
        await step(bot, clock, most=timedelta(hours=6))
    return found()


async def tokyo_and_los_angeles(bot, clock, *, leader: str = "ULAX"):
    """UTYO in Tokyo and ULAX in Los Angeles, `leader` the leader (two shared hours,
    00:00-02:00 UTC, until LA moves its clocks on 8 March), introduced in their first shared
    hour."""
    for user, tz in (("UTYO", TOKYO), ("ULAX", LOS_ANGELES)):
        role, level = ("leader", "6") if user == leader else ("junior", "1")
        await sign_up(bot, user, tz, role=role, level=level, department=user)
    await bot.command("admin match", user="UADMIN")
    await until(bot, clock, lambda: [c for c in posts(bot) if "Meet your" in c.params["text"]])
    assert clock.now == utc("2026-03-03 00:00")
    [pair] = all_pairs(bot)
    assert pair.mentee_id == leader
    return pair


async def test_los_angeles_can_pick_today_in_the_evening(bot, clock):
    pair = await tokyo_and_los_angeles(bot, clock)
    clock.now = utc("2026-03-03 04:00")  # Monday 20:00 in LA, Tuesday 13:00 in Tokyo
    la_today, tokyo_today = today_in(LOS_ANGELES, clock.now), today_in(TOKYO, clock.now)
    assert (la_today, tokyo_today) == (date(2026, 3, 2), date(2026, 3, 3))

    # Tokyo's yesterday is LA's today: refused for Tokyo, nothing changes.
    before = len(posts(bot))
    pick = la_today.isoformat()
    await bot.click("pick_session_date", user="UTYO", container=in_dm(pair), selected_date=pick)
    assert "from today onwards" in replies(bot)[-1]
    assert pair_of(bot, "UTYO").next_session_on != la_today and len(posts(bot)) == before
    # The day before LA's today: refused for LA too.
    yesterday = (la_today - timedelta(days=1)).isoformat()
    await bot.click(
        "pick_session_date", user="ULAX", container=in_dm(pair), selected_date=yesterday
    )
    assert "from today onwards" in replies(bot)[-1] and len(posts(bot)) == before
    # LA's today: taken.
    await bot.click("pick_session_date", user="ULAX", container=in_dm(pair), selected_date=pick)
    assert pair_of(bot, "UTYO").next_session_on == la_today

    # That session is over: the check-in comes, and on LA's next evening "We rescheduled"
    # to LA's today is taken too.
    checkin = await until(
        bot, clock, lambda: [c for c in posts(bot) if "happen?" in c.params["text"]]
    )
    clock.now = utc("2026-03-04 04:00")  # Tuesday 20:00 in LA, Wednesday in UTC and Tokyo
    la_today = today_in(LOS_ANGELES, clock.now)
    assert la_today == date(2026, 3, 3)
    await bot.click_in_message(
        checkin[-1],
        "checkin_reschedule",
        user="ULAX",
        block_id=f"checkin:{pair.id}:2026-03-02",
        selected_date=la_today.isoformat(),
    )
    assert "moved your session to Tuesday 3 March 2026" in replies(bot)[-1]
    assert pair_of(bot, "UTYO").next_session_on == la_today


async def test_both_pressing_we_met_today_across_the_date_line_log_one_session(bot, clock):
    pair = await tokyo_and_los_angeles(bot, clock)
    clock.now = utc("2026-03-03 01:00")  # Tuesday 10:00 in Tokyo, Monday 17:00 in LA
    await bot.click("log_met_today", user="ULAX", container=in_dm(pair))
    await bot.click("log_met_today", user="UTYO", container=in_dm(pair))
    assert held(bot) == [(pair.id, today_in(LOS_ANGELES, clock.now), "ULAX")]
    assert held(bot)[0][1] == date(2026, 3, 2)
    assert "Logged today's session" in replies(bot)[-2]
    assert "already logged" in replies(bot)[-1]


async def test_met_command_and_the_checkin_log_one_session_across_the_date_line(bot, clock):
    pair = await tokyo_and_los_angeles(bot, clock)
    # The leader picks Wednesday 4 March; they meet on LA's Wednesday evening, which is
    # Thursday morning in Tokyo. The check-in has been decided by the time Tokyo logs it.
    await bot.click(
        "pick_session_date", user="ULAX", container=in_dm(pair), selected_date="2026-03-04"
    )
    clock.now = utc("2026-03-05 03:00")  # Thursday 12:00 in Tokyo, Wednesday 19:00 in LA
    await step(bot, clock, most=timedelta(0))
    status, body = await bot.command("met", user="UTYO")
    assert "Logged today's session" in body["text"]
    assert held(bot) == [(pair.id, today_in(TOKYO, clock.now), "UTYO")]
    assert held(bot)[0][1] == date(2026, 3, 5)

    # LA answers the check-in it had for that session: the same meeting, logged once.
    await bot.click(
        "checkin_met",
        user="ULAX",
        container=in_dm(pair),
        value=f"{pair.id}:2026-03-04",
        block_id=f"checkin:{pair.id}:2026-03-04",
    )
    assert "was already logged" in replies(bot)[-1]
    assert held(bot) == [(pair.id, date(2026, 3, 5), "UTYO")]
    # A check-in still waiting for LA's working hours is moot once the session is logged:
    # it is dropped, not sent.
    clock.now = utc("2026-03-06 18:00")
    await step(bot, clock, most=timedelta(0))
    assert not [c for c in posts(bot) if "happen?" in c.params["text"]]


async def test_a_meeting_logged_across_the_date_line_is_the_planned_session(bot, clock):
    pair = await tokyo_and_los_angeles(bot, clock, leader="UTYO")
    await bot.click(
        "pick_session_date", user="UTYO", container=in_dm(pair), selected_date="2026-03-04"
    )
    # They meet on the Tokyo leader's Wednesday morning, LA's Tuesday evening, and LA logs
    # it: a day before the planned date on LA's calendar, but that session is the one held,
    # so the next is planned from it and no check-in asks about Wednesday.
    clock.now = utc("2026-03-04 00:30")
    status, body = await bot.command("met", user="ULAX")
    assert "Logged today's session" in body["text"]
    assert held(bot) == [(pair.id, date(2026, 3, 3), "ULAX")]
    assert pair_of(bot, "ULAX").next_session_on == date(2026, 3, 18)  # Tokyo's today + 14
    end = clock.now + timedelta(days=4)
    while clock.now < end:
        await step(bot, clock, most=timedelta(hours=6))
    assert not [c for c in posts(bot) if "happen?" in c.params["text"]]


async def test_two_sessions_a_day_apart_in_one_zone_are_two(bot, clock):
    await sign_up(bot, "UJ", LONDON, role="junior", level="1", department="A")
    await sign_up(bot, "UL", LONDON, role="leader", level="6", department="B")
    await bot.command("admin match", user="UADMIN")
    pair = pair_of(bot, "UJ")
    for moment in ("2026-03-03 10:00", "2026-03-04 10:00"):
        clock.now = utc(moment)
        status, body = await bot.command("met", user="UJ")
        assert "Logged today's session" in body["text"]
    assert [h[1] for h in held(bot) if h[0] == pair.id] == [date(2026, 3, 3), date(2026, 3, 4)]


# --- every actor's own today, from UTC+14 to UTC-11 --------------------------------------------

PEOPLE = {
    # Kathmandu mentors London, Pago Pago mentors Auckland, Kiritimati mentors Pago Pago.
    "UKTM": (KATHMANDU, dict(role="junior", level="1", department="A", topics=("hybrid",))),
    "ULON": (LONDON, dict(role="leader", level="6", department="B", topics=("hybrid",))),
    "UPAGO": (PAGO_PAGO, dict(role="junior", level="1", department="A", topics=("social",))),
    "UAKL": (AUCKLAND, dict(role="leader", level="6", department="B", topics=("social",))),
    "UKIR": (KIRITIMATI, dict(role="junior", level="1", department="A", topics=("career",))),
    "UPAGO2": (PAGO_PAGO, dict(role="leader", level="6", department="B", topics=("career",))),
}
PAIRS = (("UKTM", "ULON"), ("UPAGO", "UAKL"), ("UKIR", "UPAGO2"))


async def test_each_person_logs_their_own_today_and_a_pair_one_meeting(bot, clock):
    for user, (tz, answers) in PEOPLE.items():
        await sign_up(bot, user, tz, **answers)
    await bot.command("admin match", user="UADMIN")
    await until(bot, clock, lambda: all(p.status == "active" for p in all_pairs(bot)))
    pairs = {mentor: pair_of(bot, mentor) for mentor, _ in PAIRS}
    assert {p.mentee_id for p in pairs.values()} == {"ULON", "UAKL", "UPAGO2"}

    # Three moments: Monday 10:30 UTC, when Kiritimati is already on Tuesday and Pago Pago
    # still on Sunday; and two later, after London's and Auckland's clocks change. Each
    # round, one member logs first, then the other: one session per pair and round.
    rounds = (
        (utc("2026-03-09 10:30"), "mentor"),
        (utc("2026-03-30 10:30"), "leader"),  # London on summer time, Auckland still too
        (utc("2026-04-20 22:30"), "mentor"),  # Auckland on winter time (+12)
    )
    expected: dict[int, list[tuple[date, str]]] = {saved_id(p): [] for p in pairs.values()}
    for moment, first in rounds:
        clock.now = moment
        for mentor, leader in PAIRS:
            pair = pairs[mentor]
            order = (mentor, leader) if first == "mentor" else (leader, mentor)
            status, body = await bot.command("met", user=order[0])
            assert "Logged today's session" in body["text"], (order[0], body["text"])
            expected[saved_id(pair)].append((today_in(PEOPLE[order[0]][0], moment), order[0]))
            status, body = await bot.command("met", user=order[1])
            assert "already logged" in body["text"], (order[1], moment, body["text"])
    for pair_id, logs in expected.items():
        assert [(d, who) for p, d, who in held(bot) if p == pair_id] == logs
    # Not vacuous: the first round's dates span three calendar days.
    assert {logs[0][0] for logs in expected.values()} == {
        date(2026, 3, 8),
        date(2026, 3, 9),
        date(2026, 3, 10),
    }


# --- the cadence's today is the leader's --------------------------------------------------------


async def test_the_next_proposed_session_counts_from_the_leaders_today(bot, clock):
    # A Kiritimati leader (UTC+14) and a Pago Pago leader (UTC-11), each with a mentor in
    # the other zone: their days start and end on different UTC dates.
    await sign_up(bot, "UPAGO1", PAGO_PAGO, role="junior", level="1", department="A")
    await sign_up(bot, "UKIR1", KIRITIMATI, role="leader", level="6", department="B")
    await sign_up(
        bot, "UKIR2", KIRITIMATI, role="junior", level="2", department="C", topics=("social",)
    )
    await sign_up(
        bot, "UPAGO2", PAGO_PAGO, role="leader", level="5", department="D", topics=("social",)
    )
    await bot.command("admin match", user="UADMIN")
    assert pair_of(bot, "UPAGO1").mentee_id == "UKIR1"
    assert pair_of(bot, "UKIR2").mentee_id == "UPAGO2"
    # The first date is proposed when the introduction goes out (in their first shared
    # hour, 20:00 UTC on Monday: already Tuesday in Kiritimati), from the leader's today.
    await until(bot, clock, lambda: all(p.status == "active" for p in all_pairs(bot)))
    introduced = clock.now
    kiritimati_today = today_in(KIRITIMATI, introduced)
    assert kiritimati_today == introduced.date() + timedelta(days=1)
    assert pair_of(bot, "UPAGO1").next_session_on == kiritimati_today + timedelta(days=14)

    # After a session, at the end of the Pago Pago leader's day (already tomorrow in UTC),
    # the cadence proposes the next one 14 days after the session, not after UTC's date.
    first = pair_of(bot, "UKIR2").next_session_on
    assert first == today_in(PAGO_PAGO, introduced) + timedelta(days=14)
    await until(bot, clock, lambda: pair_of(bot, "UKIR2").next_session_on != first, days=20)
    decided = clock.now
    assert today_in(PAGO_PAGO, decided) == first and decided.date() == first + timedelta(days=1)
    assert pair_of(bot, "UKIR2").next_session_on == first + timedelta(days=14)


async def test_a_person_without_a_stored_zone_uses_their_slack_profile(bot, clock):
    pair = await tokyo_and_los_angeles(bot, clock)

    def forget_zone(session) -> None:
        person = session.exec(
            select(Participant).where(Participant.team_id == TEAM_ID, Participant.user_id == "ULAX")
        ).one()
        person.timezone = None
        session.add(person)

    bot.runtime.deps.db.run_sync(forget_zone)
    clock.now = utc("2026-03-03 04:00")  # Monday 20:00 in LA (Slack's profile says so)
    pick = today_in(LOS_ANGELES, clock.now).isoformat()
    await bot.click("pick_session_date", user="ULAX", container=in_dm(pair), selected_date=pick)
    assert pair_of(bot, "UTYO").next_session_on == date(2026, 3, 2)


async def test_with_no_zone_anywhere_today_is_utc(bot, clock, slack):
    slack.add_user("UNOTZ", tz=LOS_ANGELES)
    slack.users["UNOTZ"]["tz"] = None  # Slack knows no zone for them
    await sign_up(bot, "UNOTZ", None, role="junior", level="1", department="A")
    await sign_up(bot, "ULDN", LONDON, role="leader", level="6", department="B")
    await bot.command("admin match", user="UADMIN")
    clock.now = utc("2026-03-04 03:00")  # Tuesday 19:00 in LA, where their profile was
    status, body = await bot.command("met", user="UNOTZ")
    assert "Logged today's session" in body["text"]
    assert held(bot)[0][1] == date(2026, 3, 4)


@pytest.mark.parametrize(
    ("zones", "days"),
    [
        ((LONDON, LONDON), 0),
        ((LONDON, None), 0),  # no zone is UTC, and London is on UTC in March
        ((TOKYO, LOS_ANGELES), 1),
        ((KATHMANDU, LONDON), 1),
        ((AUCKLAND, PAGO_PAGO), 1),  # exactly 24 hours apart in Auckland's summer
        ((KIRITIMATI, PAGO_PAGO), 2),  # 25 hours apart
    ],
)
def test_how_far_apart_one_meetings_dates_can_be(zones, days):
    assert cadence.same_meeting_days(zones, utc("2026-03-09 10:30")) == days
