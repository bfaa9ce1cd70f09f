"""validate_settings: every bound, every relation between fields, and the round trip."""

from __future__ import annotations

from datetime import date

import pytest

from bot.cadence import ProgramSettings
from bot.program_settings import (
    BOUNDS,
    COMMON_TIMEZONES,
    FIELDS,
    describe_settings,
    is_timezone,
    raw_from_settings,
    validate_settings,
)


def raw(**changes: str | None) -> dict[str, str | None]:
    """The defaults as the modal would send them, with some answers changed. The related
    fields are set so that each bound can be tested on its own: sessions every 7 days (so any
    stall from 8 days is longer), pulses every 60 (so any closing time is shorter) and every
    day a working day (so the summary may fall on any)."""
    answers = raw_from_settings(ProgramSettings())
    answers.update(cadence_days="7", pulse_cadence_days="60", working_days="0,1,2,3,4,5,6")
    answers.update(changes)
    return answers


def test_the_defaults_round_trip():
    assert validate_settings(raw_from_settings(ProgramSettings())) == (ProgramSettings(), {})


def test_every_field_of_the_modal_is_a_stored_setting():
    stored = set(ProgramSettings.__dataclass_fields__) - {"work_start_hour", "work_end_hour"}
    assert set(FIELDS) == stored
    assert set(BOUNDS) <= stored


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_each_number_accepts_its_bounds_and_refuses_one_beyond(name):
    bound = BOUNDS[name]
    for inside in (bound.low, bound.high):
        _, errors = validate_settings(raw(**{name: str(inside)}))
        assert name not in errors, (name, inside, errors)
    for outside in (bound.low - 1, bound.high + 1):
        settings, errors = validate_settings(raw(**{name: str(outside)}))
        assert settings is None and name in errors, (name, outside)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("cadence_days", 7, 60),
        ("prompt_lead_hours", 1, 168),
        ("stall_days", 8, 90),
        ("escalate_after_days", 1, 30),
        ("pulse_cadence_days", 7, 60),
        ("pulse_close_days", 1, 14),
        ("summary_weekday", 0, 6),
        ("summary_hour", 0, 23),
        ("min_responses", 2, 50),
    ],
)
def test_the_documented_ranges(name, low, high):
    assert (BOUNDS[name].low, BOUNDS[name].high) == (low, high)


@pytest.mark.parametrize("text", [None, "", "  ", "abc", "1.5", "-3", "+7", "1e3", "１４", "9" * 9])
def test_a_number_must_be_a_plain_whole_number(text):
    settings, errors = validate_settings(raw(escalate_after_days=text))
    assert settings is None
    assert errors == {"escalate_after_days": "Enter a whole number from 1 to 30."}


def test_spaces_around_a_number_are_forgiven():
    settings, errors = validate_settings(raw(escalate_after_days=" 5 "))
    assert errors == {} and settings is not None and settings.escalate_after_days == 5


def test_minimum_responses_is_at_least_two():
    assert "min_responses" in validate_settings(raw(min_responses="1"))[1]
    settings, errors = validate_settings(raw(min_responses="2"))
    assert errors == {} and settings is not None and settings.min_responses == 2


def test_weekday_and_hour_errors_ask_to_choose():
    _, errors = validate_settings(raw(summary_weekday="7", summary_hour="24"))
    assert errors == {
        "summary_weekday": "Choose a day of the week.",
        "summary_hour": "Choose an hour of the day.",
    }


def test_a_pair_stalls_only_after_more_than_one_cadence():
    _, errors = validate_settings(raw(cadence_days="14", stall_days="14"))
    assert set(errors) == {"stall_days"} and "14 days" in errors["stall_days"]
    settings, errors = validate_settings(raw(cadence_days="14", stall_days="15"))
    assert errors == {} and settings is not None
    assert (settings.cadence_days, settings.stall_days) == (14, 15)


def test_a_pulse_survey_closes_before_the_next_one_opens():
    _, errors = validate_settings(raw(pulse_cadence_days="7", pulse_close_days="7"))
    assert set(errors) == {"pulse_close_days"}
    assert validate_settings(raw(pulse_cadence_days="8", pulse_close_days="7"))[1] == {}


def test_relations_are_not_reported_when_one_side_is_already_wrong():
    _, errors = validate_settings(raw(cadence_days="abc", stall_days="8"))
    assert set(errors) == {"cadence_days"}


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (None, None, None),
        ("2026-03-01", None, None),
        ("2026-03-01", "2026-09-01", None),
        ("2026-03-01", "2026-03-02", None),
        (None, "2026-09-01", "Set a start date too, or clear the end date."),
        ("2026-03-01", "2026-03-01", "The program must end after it starts."),
        ("2026-03-01", "2026-02-01", "The program must end after it starts."),
        ("2026-03-01", "next spring", "Pick a date from the calendar."),
    ],
)
def test_program_dates_are_optional_and_end_after_the_start(start, end, problem):
    settings, errors = validate_settings(raw(program_start=start, program_end=end))
    if problem is None:
        assert errors == {} and settings is not None
        assert settings.program_start == (date.fromisoformat(start) if start else None)
        assert settings.program_end == (date.fromisoformat(end) if end else None)
    else:
        assert settings is None and errors == {"program_end": problem}


def test_a_malformed_start_date_is_reported_on_the_start():
    _, errors = validate_settings(raw(program_start="01/03/2026"))
    assert errors == {"program_start": "Pick a date from the calendar."}


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "Asia/Kathmandu", "America/New_York"])
def test_iana_time_zones_are_accepted(zone):
    settings, errors = validate_settings(raw(timezone=zone))
    assert errors == {} and settings is not None and settings.timezone == zone


@pytest.mark.parametrize(
    "zone", [None, "", "europe/london", "Europe", "../../etc/passwd", "Mars/Olympus", "GMT+25"]
)
def test_anything_else_is_not_a_time_zone(zone):
    assert validate_settings(raw(timezone=zone))[1] == {
        "timezone": "Choose a time zone from the list."
    }


def test_every_zone_offered_in_the_menu_is_valid_and_fits_a_menu():
    assert all(is_timezone(zone) for zone in COMMON_TIMEZONES)
    assert len(COMMON_TIMEZONES) < 100 and len(set(COMMON_TIMEZONES)) == len(COMMON_TIMEZONES)


@pytest.mark.parametrize("channel", [None, "", "C0123ABCD", "G0123ABCD"])
def test_admin_channel_is_optional_and_a_channel_id(channel):
    settings, errors = validate_settings(raw(admin_channel=channel))
    assert errors == {} and settings is not None
    assert settings.admin_channel == (channel or None)


@pytest.mark.parametrize(
    "channel", ["D0123ABCD", "#general", "c0123abcd", "C0123 ABCD", "U0123ABC"]
)
def test_anything_else_is_not_an_admin_channel(channel):
    assert set(validate_settings(raw(admin_channel=channel))[1]) == {"admin_channel"}


def test_every_problem_is_reported_at_once():
    settings, errors = validate_settings({})
    assert settings is None
    assert set(errors) == set(BOUNDS) | {"timezone", "working_days", "send_guides"}


def test_a_full_valid_form_becomes_settings():
    settings, errors = validate_settings(
        {
            "program_start": "2026-03-02",
            "program_end": "2026-09-01",
            "cadence_days": "21",
            "prompt_lead_hours": "48",
            "stall_days": "30",
            "escalate_after_days": "5",
            "pulse_cadence_days": "28",
            "pulse_close_days": "5",
            "summary_weekday": "4",
            "summary_hour": "16",
            "timezone": "Europe/Paris",
            "min_responses": "4",
            "admin_channel": "C0PROGRAM",
            "working_days": "0,1,2,3,4",
            "send_guides": "off",
        }
    )
    assert errors == {}
    assert settings == ProgramSettings(
        cadence_days=21,
        prompt_lead_hours=48,
        stall_days=30,
        escalate_after_days=5,
        program_start=date(2026, 3, 2),
        program_end=date(2026, 9, 1),
        pulse_cadence_days=28,
        pulse_close_days=5,
        summary_weekday=4,
        summary_hour=16,
        timezone="Europe/Paris",
        min_responses=4,
        admin_channel="C0PROGRAM",
        send_guides=False,
    )
    described = dict(describe_settings(settings))
    assert described["Weekly summary"] == "Fridays at 16:00 (Europe/Paris)"
    assert described["Program end"] == "2026-09-01"
    assert described["Sessions every"] == "21 days"
    assert described["Preparation guides"] == "not sent"


def test_the_guides_are_on_by_default_and_switched_by_the_select():
    assert ProgramSettings().send_guides is True
    assert raw_from_settings(ProgramSettings())["send_guides"] == "on"
    on, errors = validate_settings(raw(send_guides="on"))
    assert errors == {} and on is not None and on.send_guides is True
    off, errors = validate_settings(raw(send_guides="off"))
    assert errors == {} and off is not None and off.send_guides is False
    assert raw_from_settings(off)["send_guides"] == "off"
    described = dict(describe_settings(on))
    assert described["Preparation guides"] == "sent before each person's first session"


@pytest.mark.parametrize("answer", [None, "", "yes", "true", "ON", "1"])
def test_anything_but_on_or_off_is_refused_on_the_guides_field(answer):
    settings, errors = validate_settings(raw(send_guides=answer))
    assert settings is None
    assert errors == {"send_guides": "Choose whether to send the preparation guides."}
