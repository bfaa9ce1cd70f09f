"""The working week is a workspace setting (Monday to Friday unless chosen otherwise): the
settings form, its validation and storage, and what follows it: quiet hours, proposed
session dates, prompts, the checkpoints and the weekly summary. Expected moments are worked
out with plain zoneinfo arithmetic (tests/kit/zones.py), not the product's helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot import cadence, cohort
from bot.cadence import ProgramSettings
from bot.program_settings import describe_settings, describe_weekdays, validate_settings
from handlers.devkit.fake_slack import validate_view
from handlers.devkit.forms import filled
from storage import legacy_migrations as legacy
from storage.db import make_engine
from storage.migrations import head_revision, migrate
from storage.models import OutboxMessage, ProgramSettingsRow
from tests.kit.zones import (
    LONDON,
    SUNDAY_TO_THURSDAY,
    local,
    message_text,
    pair_of,
    sign_up,
    step,
    utc,
    working,
)
from tests.test_settings_modal import initial_values, open_settings, settings_state, stored

SUN_THU = ProgramSettings(working_days=(0, 1, 2, 3, 6))
DUBAI = "Asia/Dubai"  # +04:00, where Sunday to Thursday is a common week


# --- the pure rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "tz", "monday_to_friday", "sunday_to_thursday"),
    [
        ("2026-03-08 06:00", DUBAI, False, True),  # Sunday 10:00 in Dubai
        ("2026-03-06 06:00", DUBAI, True, False),  # Friday 10:00
        ("2026-03-07 06:00", DUBAI, False, False),  # Saturday
        ("2026-03-05 13:59", DUBAI, True, True),  # Thursday 17:59
        ("2026-03-05 14:00", DUBAI, False, False),  # Thursday 18:00: closed
        ("2026-03-07 21:00", "Pacific/Auckland", False, True),  # Sunday 10:00 (+13)
    ],
)
def test_working_time_follows_the_working_week(moment, tz, monday_to_friday, sunday_to_thursday):
    at = utc(moment)
    assert cadence.is_working_time(at, tz, ProgramSettings()) is monday_to_friday
    assert cadence.is_working_time(at, tz, SUN_THU) is sunday_to_thursday
    # The oracle agrees.
    assert working(at, tz) is monday_to_friday
    assert working(at, tz, SUNDAY_TO_THURSDAY) is sunday_to_thursday


@pytest.mark.parametrize(
    ("after", "monday_to_friday", "sunday_to_thursday"),
    [
        (date(2026, 3, 5), date(2026, 3, 19), date(2026, 3, 19)),  # Thursday + 14: Thursday
        (date(2026, 3, 6), date(2026, 3, 20), date(2026, 3, 22)),  # Friday: to Sunday
        (date(2026, 3, 7), date(2026, 3, 23), date(2026, 3, 22)),  # Saturday: to Sunday
        (date(2026, 3, 8), date(2026, 3, 23), date(2026, 3, 22)),  # Sunday
    ],
)
def test_proposed_sessions_fall_on_working_days(after, monday_to_friday, sunday_to_thursday):
    assert cadence.proposed_session(after, ProgramSettings()) == monday_to_friday
    assert cadence.proposed_session(after, SUN_THU) == sunday_to_thursday


def test_a_prompt_due_on_a_day_off_comes_on_the_last_working_day_before():
    # A Sunday session in Dubai: 24 hours before is Saturday, a day off in both weeks; in a
    # Sunday-to-Thursday week Friday is off too, so the prompt comes on Thursday.
    dues = cadence.dues_for_session(
        date(2026, 3, 22), now=utc("2026-03-09 06:00"), leader_tz=DUBAI, settings=SUN_THU
    )
    assert dues.prompt_due_at is not None
    assert local(dues.prompt_due_at, DUBAI) == datetime(2026, 3, 19, 17, 45, tzinfo=ZoneInfo(DUBAI))


@pytest.mark.parametrize(
    ("end", "week", "midpoint_on", "end_on"),
    [
        # Midpoint Saturday 4 April, end Saturday 9 May: both days off in both weeks.
        (date(2026, 5, 9), (0, 1, 2, 3, 6), date(2026, 4, 5), date(2026, 5, 7)),
        (date(2026, 5, 9), (0, 1, 2, 3, 4), date(2026, 4, 6), date(2026, 5, 8)),
        # Midpoint Tuesday 31 March stays; the end, Friday 1 May, is off from Sunday to Thursday.
        (date(2026, 5, 1), (0, 1, 2, 3, 6), date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 5, 1), (0, 1, 2, 3, 4), date(2026, 3, 31), date(2026, 5, 1)),
    ],
)
def test_checkpoints_move_to_working_days(end, week, midpoint_on, end_on):
    settings = ProgramSettings(
        program_start=date(2026, 3, 1), program_end=end, timezone=DUBAI, working_days=week
    )
    nine = time(9, tzinfo=ZoneInfo(DUBAI))
    assert cohort.checkpoint_moments(settings) == {
        "midpoint": datetime.combine(midpoint_on, nine),
        "end": datetime.combine(end_on, nine),
    }


def test_validation_of_the_working_week():
    def raw(**changes):
        answers = {
            "cadence_days": "14",
            "prompt_lead_hours": "24",
            "stall_days": "21",
            "escalate_after_days": "7",
            "pulse_cadence_days": "14",
            "pulse_close_days": "7",
            "summary_weekday": "0",
            "summary_hour": "9",
            "timezone": "UTC",
            "min_responses": "3",
            "working_days": "0,1,2,3,4",
            "send_guides": "on",
        }
        answers.update(changes)
        return answers

    assert validate_settings(raw())[0] == ProgramSettings()
    settings, errors = validate_settings(raw(working_days="6,0,1,2,3"))
    assert errors == {} and settings is not None and settings.working_days == (0, 1, 2, 3, 6)
    for nothing in (None, "", " , "):
        assert validate_settings(raw(working_days=nothing)) == (
            None,
            {"working_days": "Choose at least one working day."},
        )
    for junk in ("7", "0,1,x", "-1", "Monday"):
        assert set(validate_settings(raw(working_days=junk))[1]) == {"working_days"}
    # The weekly summary must go out on a working day.
    settings, errors = validate_settings(raw(working_days="6,0,1,2,3", summary_weekday="4"))
    assert settings is None
    assert errors == {"summary_weekday": "Choose one of the working days (Sunday to Thursday)."}
    assert validate_settings(raw(working_days="6,0,1,2,3", summary_weekday="6"))[1] == {}


def test_the_working_week_is_described_in_words():
    assert describe_weekdays((0, 1, 2, 3, 4)) == "Monday to Friday"
    assert describe_weekdays((0, 1, 2, 3, 6)) == "Sunday to Thursday"
    assert describe_weekdays((0, 2, 4)) == "Monday, Wednesday and Friday"
    assert describe_weekdays((5, 6)) == "Saturday and Sunday"
    assert describe_weekdays(tuple(range(7))) == "every day"
    assert dict(describe_settings(SUN_THU))["Working days"] == "Sunday to Thursday"


def test_an_older_database_gets_the_usual_week(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'v4.db'}")
    assert legacy.migrate(engine, legacy.MIGRATIONS[:4]) == 4
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO program_settings (team_id, cadence_days, prompt_lead_hours, "
            "stall_days, escalate_after_days, updated_at) VALUES ('T1', 14, 24, 21, 7, "
            "'2026-03-02 09:00:00.000000')"
        )
    assert migrate(engine).after == head_revision()
    with Session(engine) as session:
        [row] = session.exec(select(ProgramSettingsRow)).all()
    assert row.working_days == "0,1,2,3,4"
    engine.dispose()


# --- through the settings form -----------------------------------------------------------------


async def test_the_form_sets_the_working_week(bot):
    view = await open_settings(bot)
    assert validate_view(view) == []
    block = next(b for b in view["blocks"] if b.get("block_id") == "working_days")
    assert block["element"]["type"] == "checkboxes" and len(block["element"]["options"]) == 7

    # None chosen, or the summary on a day off: field errors, nothing saved.
    for changes, field in (
        ({"working_days": ""}, "working_days"),
        ({"working_days": "6,0,1,2,3", "summary_weekday": "4"}, "summary_weekday"),
    ):
        state = settings_state(**changes)
        status, body = await bot.submit_view(filled(view, state), user="UADMIN")
        assert body["response_action"] == "errors" and set(body["errors"]) == {field}
        assert stored(bot) == ProgramSettings()

    status, body = await bot.submit_view(
        filled(view, settings_state(working_days="6,0,1,2,3")), user="UADMIN"
    )
    assert body["response_action"] == "update"
    assert "*Working days:* Sunday to Thursday" in str(body["view"]["blocks"])
    assert stored(bot).working_days == (0, 1, 2, 3, 6)
    again = await open_settings(bot)
    assert initial_values(again)["working_days"] == ["0", "1", "2", "3", "6"]
    assert validate_view(again) == []


async def test_a_sunday_to_thursday_workspace_end_to_end(bot, clock, slack):
    """Quiet hours, the first proposed date, the prompt, a checkpoint and the weekly summary
    in a Sunday-to-Thursday workspace, for a London pair."""
    slack.add_channel("CADMIN", is_private=True)
    view = await open_settings(bot)
    status, body = await bot.submit_view(
        filled(
            view,
            settings_state(
                working_days="6,0,1,2,3",
                summary_weekday="6",
                timezone=LONDON,
                admin_channel="CADMIN",
                # Midpoint Friday 20 March (a day off): asked on Sunday 22 March.
                program_start="2026-03-05",
                program_end="2026-04-05",
            ),
        ),
        user="UADMIN",
    )
    assert body["response_action"] == "update"
    clock.now = utc("2026-03-06 10:00")  # Friday: a day off
    await sign_up(bot, "UJ", LONDON, role="junior", level="1", department="A")
    await sign_up(bot, "UL", LONDON, role="leader", level="6", department="B")
    await bot.command("admin match", user="UADMIN")

    seen = 0
    sent: list[tuple[datetime, dict]] = []
    while clock.now < utc("2026-03-30 00:00"):
        await step(bot, clock, most=timedelta(hours=6))
        calls = bot.slack.calls_to("chat.postMessage")
        sent += [(clock.now, c.params) for c in calls[seen:]]
        seen = len(calls)

    people = [(when, p) for when, p in sent if p["channel"] != "CADMIN"]
    for when, params in people:
        assert working(when, LONDON, SUNDAY_TO_THURSDAY), (when, params["text"][:60])
    intro = next(when for when, p in people if "Meet your" in p["text"])
    assert local(intro, LONDON) == datetime(2026, 3, 8, 9, tzinfo=ZoneInfo(LONDON))  # Sunday
    # The first session: 14 days after the introduction, a Sunday, which is a working day.
    first = date(2026, 3, 22)
    prompt = next(p for when, p in people if "conversation prompt" in p["text"])
    assert "Sunday 22 March 2026" in message_text(prompt)
    prompted = next(when for when, p in people if p is prompt)
    assert local(prompted, LONDON).date() == date(2026, 3, 19)  # Thursday, before the weekend
    next_session_on = pair_of(bot, "UJ").next_session_on
    assert next_session_on is not None
    assert next_session_on > first  # the cadence went on from there

    # The midpoint question came on Sunday 22 March at 09:00 London, not on Friday.
    questions = bot.runtime.deps.db.run_sync(
        lambda s: list(
            s.exec(select(OutboxMessage).where(OutboxMessage.kind == "outcome_question"))
        )
    )
    assert {q.payload["checkpoint"] for q in questions} == {"midpoint"}
    assert {q.created_at for q in questions} == {
        datetime(2026, 3, 22, 9, tzinfo=ZoneInfo(LONDON)).astimezone(UTC)
    }

    # Weekly summaries: Sundays at 09:00 London.
    summaries = [when for when, p in sent if p["channel"] == "CADMIN" and "summary" in p["text"]]
    sundays = [datetime(2026, 3, d, 9, tzinfo=ZoneInfo(LONDON)) for d in (8, 15, 22, 29)]
    assert summaries == [moment.astimezone(UTC) for moment in sundays]
