"""Saving settings cannot end a program by surprise: an end that has already come (which the
next tick would act on by closing every live pair) is refused in the settings form.

The pure rule (bot/cohort.surprise_end), then signed requests into the real app: live pairs,
a settings form with a past end (or a start seven months ago and no end), a tick, and the
pairs still live with nothing saved.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from bot.cadence import ProgramSettings
from bot.cohort import surprise_end
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage import cohorts, program
from storage.models import OutboxMessage, Pair
from tests.test_settings_modal import open_settings, settings_state, stored

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the driver's clock starts here


def cohort(start: date | None, end: date | None = None, tz: str = "UTC") -> ProgramSettings:
    return replace(ProgramSettings(), program_start=start, program_end=end, timezone=tz)


# --- The rule -------------------------------------------------------------------------------


def refusal(new: ProgramSettings, live_pairs: int) -> tuple[str, str]:
    """(field, why) for a change from the defaults, which the test expects to be refused."""
    found = surprise_end(new, ProgramSettings(), now=NOW, end_decided=False, live_pairs=live_pairs)
    assert found is not None, "the change was not refused"
    return found


def test_an_end_that_has_passed_is_refused_on_the_end_date():
    new = cohort(date(2026, 1, 5), date(2026, 3, 1))
    field, why = refusal(new, live_pairs=7)
    assert field == "program_end"
    assert "2026-03-01" in why
    assert why.endswith("would end the program now and close all 7 live pairs; pick a later date.")


def test_without_an_end_the_six_months_after_the_start_count_and_the_start_is_blamed():
    # Seven months ago, no end: the default end (2 February) has passed.
    new = cohort(date(2025, 8, 2))
    field, why = refusal(new, live_pairs=3)
    assert field == "program_start"
    assert "2026-02-02" in why and "close all 3 live pairs" in why
    # Five months ago: the end is still a month away.
    new = cohort(date(2025, 10, 2))
    assert surprise_end(new, ProgramSettings(), now=NOW, end_decided=False, live_pairs=3) is None


def test_the_end_comes_at_09_00_on_the_end_date_in_the_workspace_zone_compared_as_instants():
    today = date(2026, 3, 2)  # NOW is 09:00 UTC on this day
    start = date(2026, 1, 5)

    def refused(tz: str, now: datetime) -> bool:
        found = surprise_end(
            cohort(start, today, tz), cohort(start), now=now, end_decided=False, live_pairs=1
        )
        return found is not None

    assert refused("UTC", NOW)  # 09:00 UTC: the end is now
    assert not refused("UTC", datetime(2026, 3, 2, 8, 59, tzinfo=UTC))
    assert refused("Asia/Tokyo", NOW)  # 09:00 in Tokyo was 00:00 UTC
    assert not refused("America/New_York", NOW)  # 09:00 in New York is 14:00 UTC
    assert refused("America/New_York", datetime(2026, 3, 2, 14, 0, tzinfo=UTC))


def test_the_words_fit_the_number_of_pairs():
    new = cohort(date(2026, 1, 5), date(2026, 3, 1))
    texts = {n: refusal(new, live_pairs=n)[1] for n in (0, 1, 2)}
    assert "would end the program now; pick a later date." in texts[0]
    assert "would end the program now and close its 1 live pair;" in texts[1]
    assert "close all 2 live pairs;" in texts[2]


def test_a_finished_program_keeps_its_end_but_may_not_move_it_to_another_past_day():
    old = cohort(date(2026, 1, 5), date(2026, 3, 1))
    same_end = replace(old, cadence_days=21, stall_days=30)
    assert surprise_end(same_end, old, now=NOW, end_decided=True, live_pairs=0) is None
    # Not decided yet: the same past end is still a surprise (the tick has not acted on it).
    assert surprise_end(same_end, old, now=NOW, end_decided=False, live_pairs=2) is not None
    moved = replace(old, program_end=date(2026, 2, 27))
    assert surprise_end(moved, old, now=NOW, end_decided=True, live_pairs=0) is not None
    # The end is the effective one: six months after the start, written out, is the same end.
    only_start = cohort(date(2025, 8, 2))
    written = cohort(date(2025, 8, 2), date(2026, 2, 2))
    assert surprise_end(written, only_start, now=NOW, end_decided=True, live_pairs=0) is None


def test_no_dates_or_a_future_end_are_fine():
    assert (
        surprise_end(ProgramSettings(), ProgramSettings(), now=NOW, end_decided=False, live_pairs=4)
        is None
    )
    future = cohort(date(2026, 3, 2), date(2026, 9, 1))
    assert surprise_end(future, ProgramSettings(), now=NOW, end_decided=False, live_pairs=4) is None


# --- Through the settings form --------------------------------------------------------------

PEOPLE = {
    "UJ1": SignupAnswers(role="junior", level="1", department="Finance", topics=("ai", "hybrid")),
    "UL1": SignupAnswers(role="leader", level="6", department="Ops", topics=("ai", "hybrid")),
    "UJ2": SignupAnswers(role="junior", level="2", department="Sales", topics=("social",)),
    "UL2": SignupAnswers(role="leader", level="5", department="Legal", topics=("social",)),
}


def pairs(bot) -> list[Pair]:
    return bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair)).all()))


def end_decided(bot) -> datetime | None:
    row = bot.runtime.deps.db.run_sync(
        lambda s: next(iter(cohorts.cohorts_of(session=s, team_id=TEAM_ID)), None)
    )
    return row.end_decided_at if row else None


def outbox_kinds(bot) -> set[str]:
    rows = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(OutboxMessage)).all()))
    return {row.kind for row in rows}


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


@pytest.fixture
async def paired_bot(bot):
    """Four people signed up and matched into two live pairs, on Monday 2 March 2026."""
    for user, answers in PEOPLE.items():
        bot.slack.add_user(user, tz="Europe/London", title=f"Title of {user}")
        await bot.command("signup", user=user)
        view = bot.slack.calls_to("views.open")[-1].params["view"]
        status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
        assert body["response_action"] == "update", body
    await bot.command("admin match", user="UADMIN")
    assert sorted((p.mentor_id, p.status) for p in pairs(bot)) == [
        ("UJ1", "active"),
        ("UJ2", "active"),
    ]
    return bot


async def save(bot, **changes):
    view = await open_settings(bot)
    status, body = await bot.submit_view(filled(view, settings_state(**changes)), user="UADMIN")
    assert status == 200
    return body


@pytest.mark.parametrize(
    ("dates", "field", "end_shown"),
    [
        (dict(program_start="2026-01-05", program_end="2026-03-01"), "program_end", "2026-03-01"),
        (dict(program_start="2025-08-02"), "program_start", "2026-02-02"),  # seven months ago
    ],
)
async def test_one_save_cannot_close_every_live_pair(paired_bot, dates, field, end_shown):
    bot = paired_bot
    before = stored(bot)
    body = await save(bot, **dates)
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field]
    assert end_shown in body["errors"][field]
    assert body["errors"][field].endswith(
        "would end the program now and close all 2 live pairs; pick a later date."
        if field == "program_end"
        else "would end the program now and close all 2 live pairs; pick a later date, or "
        "set an end date."
    )
    assert stored(bot) == before == ProgramSettings()

    await run_tick(bot)
    assert {p.status for p in pairs(bot)} == {"active"}
    assert end_decided(bot) is None
    assert not {"outcome_question", "summary"} & outbox_kinds(bot)


async def test_an_end_later_today_is_saved_and_ends_the_program_when_it_comes(paired_bot, clock):
    bot = paired_bot
    # 09:00 in New York on 2 March is 14:00 UTC: five hours from now.
    body = await save(
        bot, program_start="2026-01-05", program_end="2026-03-02", timezone="America/New_York"
    )
    assert body["response_action"] == "update"
    await run_tick(bot)
    assert {p.status for p in pairs(bot)} == {"active"}
    clock.now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    await run_tick(bot)
    assert {p.status for p in pairs(bot)} == {"ended"}


async def test_a_finished_programs_other_settings_stay_editable(paired_bot, clock):
    bot = paired_bot
    body = await save(bot, program_start="2026-01-05", program_end="2026-03-09")
    assert body["response_action"] == "update"
    clock.now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    await run_tick(bot)  # the program ends as planned
    assert {p.status for p in pairs(bot)} == {"ended"} and end_decided(bot) is not None

    clock.now = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    body = await save(bot, program_start="2026-01-05", program_end="2026-03-09", min_responses="5")
    assert body["response_action"] == "update"
    assert stored(bot).min_responses == 5

    # Moving the end to another day that has passed is still refused.
    body = await save(bot, program_start="2026-01-05", program_end="2026-03-10")
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["program_end"]
    assert stored(bot).program_end == date(2026, 3, 9)


async def test_an_invalid_field_is_reported_first_then_the_end(paired_bot):
    bot = paired_bot
    body = await save(bot, program_start="2026-01-05", program_end="2026-03-01", stall_days="2")
    # The rule needs valid settings, so an invalid field is reported first, then the end.
    assert body["response_action"] == "errors"
    assert "stall_days" in body["errors"]
    body = await save(bot, program_start="2026-01-05", program_end="2026-03-01")
    assert list(body["errors"]) == ["program_end"]
    assert (
        bot.runtime.deps.db.run_sync(
            lambda s: program.get_program_settings(session=s, team_id=TEAM_ID)
        )
        == ProgramSettings()
    )
