"""bot/cadence.py: working hours, send windows across zones, and session due times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cadence import (
    ProgramSettings,
    dues_for_session,
    is_working_time,
    last_send_time_before,
    next_send_time,
    proposed_session,
)

RULES = ProgramSettings()
TOKYO, LONDON, LA, NEPAL = "Asia/Tokyo", "Europe/London", "America/Los_Angeles", "Asia/Kathmandu"
ZONES = [TOKYO, LONDON, LA, NEPAL, "Europe/Berlin", "America/New_York", "Australia/Sydney", None]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "tz", "working"),
    [
        ("2026-03-02 09:00", LONDON, True),  # Monday, opening time
        ("2026-03-02 08:59", LONDON, False),
        ("2026-03-02 17:59", LONDON, True),
        ("2026-03-02 18:00", LONDON, False),  # closing time is out
        ("2026-03-07 12:00", LONDON, False),  # Saturday
        ("2026-03-02 00:30", TOKYO, True),  # 09:30 in Tokyo
        ("2026-03-06 23:00", TOKYO, False),  # Saturday 08:00 in Tokyo
        ("2026-03-02 12:00", None, True),  # unknown zone: UTC
        ("2026-03-02 12:00", "Not/AZone", True),
    ],
)
def test_is_working_time(moment, tz, working):
    assert is_working_time(utc(moment), tz, RULES) is working


def test_inside_everyones_hours_is_now():
    now = utc("2026-03-03 10:07")
    assert next_send_time(now, (LONDON, "Europe/Paris"), leader_tz=LONDON, settings=RULES) == now


def test_friday_evening_waits_for_monday_morning():
    now = utc("2026-03-06 18:30")
    assert next_send_time(now, (LONDON,), leader_tz=LONDON, settings=RULES) == utc(
        "2026-03-09 09:00"
    )


def test_tokyo_and_los_angeles_share_two_hours():
    # Monday 20:00 UTC: LA lunchtime, Tokyo 05:00 Tuesday. Next shared: 00:00 UTC.
    found = next_send_time(utc("2026-03-02 20:00"), (TOKYO, LA), leader_tz=LA, settings=RULES)
    assert found == utc("2026-03-03 00:00")


def test_no_shared_hours_falls_back_to_the_leader():
    found = next_send_time(
        utc("2026-03-02 20:00"), (TOKYO, LONDON), leader_tz=LONDON, settings=RULES
    )
    assert found == utc("2026-03-03 09:00") and is_working_time(found, LONDON, RULES)


def test_quarter_hour_zones():
    found = next_send_time(utc("2026-03-02 02:00"), (NEPAL,), leader_tz=NEPAL, settings=RULES)
    assert found == utc("2026-03-02 03:15")  # 09:00 in Kathmandu (+05:45)


@settings(max_examples=60, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3),
)
def test_next_send_time_is_the_first_moment_that_fits(now, zones):
    leader = zones[-1]
    found = next_send_time(now, zones, leader_tz=leader, settings=RULES)
    assert found >= now
    fits_all = all(is_working_time(found, tz, RULES) for tz in zones)
    assert fits_all or is_working_time(found, leader, RULES)
    if fits_all:  # nothing earlier fits everyone
        probe = now
        while probe < found:
            assert not all(is_working_time(probe, tz, RULES) for tz in zones)
            probe = (probe + timedelta(minutes=15)).replace(second=0, microsecond=0)
            probe -= timedelta(minutes=probe.minute % 15)


def test_last_send_time_before_a_weekend_deadline_is_friday_afternoon():
    found = last_send_time_before(
        utc("2026-03-08 09:00"), (LONDON,), not_before=utc("2026-03-02 09:00"), settings=RULES
    )
    assert found == utc("2026-03-06 17:45")


def test_prompt_due_a_day_before_in_working_hours():
    dues = dues_for_session(
        date(2026, 3, 11), now=utc("2026-03-02 09:00"), leader_tz=LONDON, settings=RULES
    )
    assert dues.prompt_due_at == utc("2026-03-10 09:00")
    assert dues.checkin_due_at == utc("2026-03-11 18:00")


def test_prompt_for_a_monday_session_comes_on_friday():
    dues = dues_for_session(
        date(2026, 3, 9),
        now=utc("2026-03-02 09:00"),
        leader_tz=LONDON,
        mentor_tz=LONDON,
        settings=RULES,
    )
    assert dues.prompt_due_at == utc("2026-03-06 17:45")


def test_no_prompt_for_a_session_already_under_way():
    dues = dues_for_session(
        date(2026, 3, 2), now=utc("2026-03-02 10:00"), leader_tz=LONDON, settings=RULES
    )
    assert dues.prompt_due_at is None and dues.checkin_due_at == utc("2026-03-02 18:00")


def test_a_late_pick_gets_its_prompt_now():
    dues = dues_for_session(
        date(2026, 3, 3), now=utc("2026-03-02 15:00"), leader_tz=LONDON, settings=RULES
    )
    assert dues.prompt_due_at == utc("2026-03-02 15:00")


@pytest.mark.parametrize(
    ("after", "expected"),
    [(date(2026, 3, 2), date(2026, 3, 16)), (date(2026, 3, 7), date(2026, 3, 23))],
)
def test_proposed_session_is_on_a_weekday(after, expected):
    assert proposed_session(after, RULES) == expected
