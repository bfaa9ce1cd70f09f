"""Objectives and outcomes: the cohort's checkpoints end to end on a controllable clock, the
private goal question, a leader's change, the end of the program and the KPI functions."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from bot import cohort
from bot.cadence import ProgramSettings
from bot.outcomes import NOT_ENOUGH, leader_changes, outcome_figures, validate_change
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID, make_settings, start_driver, stop_driver
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage import cohorts, outcomes, program
from storage.models import Cohort, OutboxMessage, OutcomeAnswer, Pair
from tests.kit.guides import without_guides

LONDON = "Europe/London"
GOALS = {
    "UJ1": "Teach a leader to <!channel> prompt AI tools & *enjoy* it",
    "UL1": "Understand how my teams use AI day to day",
    "UJ2": "Get better at explaining social media to executives",
    "UL2": "Learn what younger colleagues expect from hybrid work",
}
PEOPLE = {
    "UJ1": SignupAnswers(role="junior", level="1", department="Finance", topics=("ai", "hybrid")),
    "UL1": SignupAnswers(role="leader", level="6", department="Ops", topics=("ai", "hybrid")),
    "UJ2": SignupAnswers(role="junior", level="2", department="Sales", topics=("social",)),
    "UL2": SignupAnswers(role="leader", level="5", department="Legal", topics=("social",)),
}
QUESTION_BUTTONS = ["outcome_not_yet", "outcome_some", "outcome_achieved"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def sign_up(bot, user: str, answers: SignupAnswers) -> None:
    bot.slack.add_user(user, tz=LONDON, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    state = signup_state(**(answers | {"goals": GOALS[user]}))
    status, body = await bot.submit_view(filled(view, state), user=user)
    assert body["response_action"] == "update", body


def set_cohort(
    bot, *, start: date, end: date | None = None, admin_channel: str | None = None
) -> None:
    """What the settings modal does: store the cohort dates for the workspace."""
    settings = replace(
        ProgramSettings(), program_start=start, program_end=end, admin_channel=admin_channel
    )
    bot.runtime.deps.db.run_sync(
        lambda s: program.save_program_settings(
            session=s, team_id=TEAM_ID, settings=settings, now=at("2026-03-02 09:00")
        )
    )


def posts(bot, channel: str | None = None):
    """What the bot posted, leaving out the preparation guides (their own tests count them)."""
    calls = without_guides(bot.slack.calls_to("chat.postMessage"))
    return [c for c in calls if channel is None or c.params["channel"] == channel]


def action_ids(call) -> list[str]:
    return [
        element["action_id"]
        for block in call.params.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def questions(bot) -> list:
    return [c for c in posts(bot) if "outcome_not_yet" in action_ids(c)]


def question_for(bot, user: str):
    [question] = [c for c in questions(bot) if c.params["channel"] == dm(bot, user)]
    return question


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def dm(bot, user: str) -> str:
    return bot.slack.conversation_id(user)


def block_text(call) -> str:
    return "\n".join(
        b["text"]["text"] for b in call.params.get("blocks") or [] if b["type"] == "section"
    )


def answers(bot) -> list[OutcomeAnswer]:
    return bot.runtime.deps.db.run_sync(lambda s: outcomes.answers_for(session=s, team_id=TEAM_ID))


def schedule(bot) -> Cohort | None:
    """The workspace's first cohort, which holds its checkpoints' stamps."""
    return bot.runtime.deps.db.run_sync(
        lambda s: next(iter(cohorts.cohorts_of(session=s, team_id=TEAM_ID)), None)
    )


def first_cohort_id(bot) -> int:
    row = schedule(bot)
    assert row is not None and row.id is not None
    return row.id


def all_pairs(bot) -> list[Pair]:
    return bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair)).all()))


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


@pytest.fixture
async def cohort_bot(bot):
    for user, answers_ in PEOPLE.items():
        await sign_up(bot, user, answers_)
    await bot.command("admin match", user="UADMIN")
    assert len(posts(bot)) == 2  # the two introductions
    return bot


# --- The checkpoints, end to end ------------------------------------------------------------


async def test_midpoint_asks_each_person_once_about_their_own_goal(
    cohort_bot, clock, slack, database_url, timer, caplog
):
    bot = cohort_bot
    # Only a start: the end defaults to six months later (2 September), so the midpoint is
    # 92 days in: Tuesday 2 June, at 09:00 in the workspace's zone (UTC).
    set_cohort(bot, start=date(2026, 3, 2))

    clock.now = at("2026-06-02 08:59")
    await run_tick(bot)
    assert questions(bot) == []
    before = schedule(bot)
    assert before is None or before.midpoint_decided_at is None

    clock.now = at("2026-06-02 09:00")
    # Two ticks at once (a slow one overlapping the next): one decision.
    await asyncio.gather(tick(bot.runtime.deps), tick(bot.runtime.deps))
    await bot.settle()
    await run_tick(bot)
    asked = sorted(c.params["channel"] for c in questions(bot))
    assert asked == sorted(dm(bot, u) for u in PEOPLE)  # each once, in their own DM
    stamps = schedule(bot)
    assert stamps is not None
    assert stamps.midpoint_decided_at == at("2026-06-02 09:00")
    assert stamps.end_decided_at is None

    # Each question shows the person's own goal, escaped, and nobody else's.
    mine = question_for(bot, "UJ1")
    assert "&lt;!channel&gt; prompt AI tools &amp; *enjoy* it" in block_text(mine)
    assert "<!channel>" not in str(mine.params)
    for user, goal in GOALS.items():
        for other in PEOPLE:
            shown = block_text(question_for(bot, other))
            assert (escaped(goal) in shown) == (other == user), (user, other)
    # The goals reached only their owners: no group DM or admin channel got one.
    own = {dm(bot, u) for u in PEOPLE}
    for call in posts(bot):
        if call.params["channel"] not in own:
            assert not any(escaped(goal) in str(call.params) for goal in GOALS.values())
    # Leaders are also offered to share one change; juniors are not.
    assert action_ids(question_for(bot, "UL1")) == [*QUESTION_BUTTONS, "outcome_change_open"]
    assert action_ids(question_for(bot, "UJ1")) == QUESTION_BUTTONS
    # The midpoint closes nothing.
    assert {p.status for p in all_pairs(bot)} == {"active"}

    # A restart decides nothing again.
    again = await start_driver(make_settings(slack, database_url), slack, clock=clock, timer=timer)
    try:
        clock.advance(hours=1)
        await tick(again.runtime.deps)
        await again.settle()
    finally:
        await stop_driver(again)
    assert len(questions(bot)) == 4
    keys = bot.runtime.deps.db.run_sync(
        lambda s: sorted(
            m.key for m in s.exec(select(OutboxMessage)).all() if m.kind == "outcome_question"
        )
    )
    assert keys == sorted(f"outcome:{first_cohort_id(bot)}:midpoint:{u}" for u in PEOPLE)
    # People's goals are never logged.
    assert not any(goal in caplog.text or escaped(goal) in caplog.text for goal in GOALS.values())


async def test_someone_who_left_is_not_asked(cohort_bot, clock):
    bot = cohort_bot
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))  # midpoint 17 March
    clock.now = at("2026-03-16 10:00")
    await bot.command("leave", user="UL2")
    await bot.click("leave_confirm", user="UL2")
    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)
    asked = sorted(c.params["channel"] for c in questions(bot))
    # UJ2 took part (their pair ended when UL2 left) and is still in the program.
    assert asked == sorted(dm(bot, u) for u in ("UJ1", "UL1", "UJ2"))


async def test_progress_answers_are_recorded_and_a_second_press_replaces(cohort_bot, clock):
    bot = cohort_bot
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))
    # Before any checkpoint, a forged press stores nothing.
    await bot.click("outcome_some", user="UJ1", value="midpoint")
    assert answers(bot) == []

    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)
    question = question_for(bot, "UJ1")
    await bot.click_in_message(question, "outcome_some", user="UJ1", value="midpoint")
    [row] = answers(bot)
    assert (row.user_id, row.checkpoint, row.progress, row.change) == (
        "UJ1",
        "midpoint",
        "some",
        None,
    )
    reply = bot.slack.calls_to("response_url")[-1].params
    assert reply["replace_original"] is True
    assert "You answered *Some progress*" in str(reply["blocks"])

    clock.advance(minutes=5)
    await bot.click_in_message(question, "outcome_achieved", user="UJ1", value="midpoint")
    [row] = answers(bot)
    assert (row.progress, row.answered_at) == ("achieved", at("2026-03-17 09:05"))
    assert "You answered *Achieved*" in str(bot.slack.calls_to("response_url")[-1].params)

    # The end has not been decided: an answer for it is refused, as is a made-up checkpoint.
    await bot.click_in_message(question, "outcome_not_yet", user="UL1", value="end")
    await bot.click_in_message(question, "outcome_not_yet", user="UL1", value="final")
    assert [(a.user_id, a.checkpoint) for a in answers(bot)] == [("UJ1", "midpoint")]


async def test_a_leader_shares_one_change_and_too_long_gets_a_field_error(
    cohort_bot, clock, caplog
):
    bot = cohort_bot
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))
    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)
    question = question_for(bot, "UL1")
    await bot.click_in_message(question, "outcome_some", user="UL1", value="midpoint")

    opened = len(bot.slack.calls_to("views.open"))
    await bot.click_in_message(question, "outcome_change_open", user="UJ1", value="midpoint")
    assert len(bot.slack.calls_to("views.open")) == opened  # juniors get no change form

    await bot.click_in_message(question, "outcome_change_open", user="UL1", value="midpoint")
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == "outcome_change"
    assert "max_length" not in view["blocks"][1]["element"]  # so too long gets an error

    def state(text: str) -> dict:
        return {"change": {"value": {"type": "plain_text_input", "value": text}}}

    status, body = await bot.submit_view(filled(view, state("x" * 501)), user="UL1")
    assert body["response_action"] == "errors"
    assert "500 characters" in body["errors"]["change"]
    assert answers(bot)[0].change is None

    change = "I now ask my team which AI tools they use before I decide on any budget."
    status, body = await bot.submit_view(filled(view, state(f"  {change} ")), user="UL1")
    assert body["response_action"] == "update"
    [row] = answers(bot)
    assert (row.progress, row.change) == ("some", change)  # on the same row, progress kept

    # Opening it again shows what they shared; a junior's submission is refused.
    await bot.click_in_message(question, "outcome_change_open", user="UL1", value="midpoint")
    reopened = bot.slack.calls_to("views.open")[-1].params["view"]
    assert reopened["blocks"][1]["element"]["initial_value"] == change
    status, body = await bot.submit_view(filled(view, state("mine")), user="UJ1")
    assert "for the program's leaders" in str(body["view"])
    assert [a.user_id for a in answers(bot)] == ["UL1"]

    # A second press replaces the progress, and keeps the change.
    await bot.click_in_message(question, "outcome_achieved", user="UL1", value="midpoint")
    [row] = answers(bot)
    assert (row.progress, row.change) == ("achieved", change)
    assert change not in caplog.text and "x" * 501 not in caplog.text


async def test_the_end_thanks_and_closes_every_pair_once(cohort_bot, clock, monkeypatch, caplog):
    bot = cohort_bot
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))
    pairs = all_pairs(bot)
    channels = [p.dm_channel_id for p in pairs if p.dm_channel_id is not None]
    assert len(channels) == len(pairs)  # every pair has its DM

    def thanks(channel: str) -> list:
        return [c for c in posts(bot, channel) if "come to its end" in c.params["text"]]

    clock.now = at("2026-03-17 09:00")  # the midpoint asks, and closes nothing
    await run_tick(bot)
    assert len(questions(bot)) == len(PEOPLE)
    clock.now = at("2026-04-01 08:59")
    await run_tick(bot)
    assert {p.status for p in all_pairs(bot)} == {"active"}
    assert len(questions(bot)) == len(PEOPLE)
    assert all(thanks(channel) == [] for channel in channels)

    clock.now = at("2026-04-01 09:00")
    await asyncio.gather(tick(bot.runtime.deps), tick(bot.runtime.deps))
    await bot.settle()
    await run_tick(bot)
    assert {(p.status, p.end_reason) for p in all_pairs(bot)} == {("ended", "program_ended")}
    for channel in channels:
        [message] = thanks(channel)
        text = message.params["text"]
        assert "Thank you both" in text and "pool" not in text
    last = questions(bot)[len(PEOPLE) :]
    assert sorted(c.params["channel"] for c in last) == sorted(dm(bot, u) for u in PEOPLE)
    assert all("come to an end" in c.params["text"] for c in last)
    stamps = schedule(bot)
    assert stamps is not None and stamps.end_decided_at == at("2026-04-01 09:00")

    clock.advance(days=1)
    await run_tick(bot)
    assert len(questions(bot)) == 2 * len(PEOPLE)
    assert all(len(thanks(channel)) == 1 for channel in channels)

    # Answers to the end question still count after the pairs have closed.
    [end_question] = [c for c in last if c.params["channel"] == dm(bot, "UJ2")]
    await bot.click_in_message(end_question, "outcome_achieved", user="UJ2", value="end")
    assert [(a.checkpoint, a.progress) for a in answers(bot)] == [("end", "achieved")]


async def test_the_end_posts_the_final_summary_once_and_skips_a_missed_midpoint(
    cohort_bot, clock, monkeypatch
):
    bot = cohort_bot
    bot.slack.add_channel("CADMIN")
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1), admin_channel="CADMIN")

    def finals() -> list:
        return [c for c in posts(bot, "CADMIN") if "Final program summary" in c.params["text"]]

    clock.now = at("2026-03-16 09:00")
    await run_tick(bot)
    assert finals() == []
    # The bot was down over the midpoint: at the end only the end question is asked.
    clock.now = at("2026-04-01 09:30")
    await asyncio.gather(tick(bot.runtime.deps), tick(bot.runtime.deps))
    await run_tick(bot)
    assert len(finals()) == 1
    assert len(questions(bot)) == len(PEOPLE)
    assert all("come to an end" in c.params["text"] for c in questions(bot))
    stamps = schedule(bot)
    assert stamps is not None
    assert stamps.end_decided_at == stamps.midpoint_decided_at == at("2026-04-01 09:30")


async def test_no_dates_no_checkpoints(cohort_bot, clock):
    bot = cohort_bot
    clock.now = at("2027-01-01 09:00")
    await run_tick(bot)
    assert questions(bot) == []
    stamps = schedule(bot)  # the weekly summary may keep a row here; the checkpoints don't
    assert stamps is None or (stamps.midpoint_decided_at, stamps.end_decided_at) == (None, None)


# --- The cohort's dates ----------------------------------------------------------------------


def test_the_end_defaults_to_six_months_after_the_start():
    assert cohort.default_end(date(2026, 3, 2)) == date(2026, 9, 2)
    assert cohort.default_end(date(2026, 8, 31)) == date(2027, 2, 28)
    assert cohort.default_end(date(2027, 8, 31)) == date(2028, 2, 29)
    assert cohort.program_end(ProgramSettings()) is None
    assert cohort.program_end(ProgramSettings(program_start=date(2026, 3, 2))) == date(2026, 9, 2)
    chosen = ProgramSettings(program_start=date(2026, 3, 2), program_end=date(2026, 5, 1))
    assert cohort.program_end(chosen) == date(2026, 5, 1)
    backwards = ProgramSettings(program_start=date(2026, 3, 2), program_end=date(2026, 3, 1))
    assert cohort.checkpoint_moments(backwards) == {}


def test_checkpoints_fall_at_the_start_of_the_working_day_in_the_workspace_zone():
    settings = ProgramSettings(
        program_start=date(2026, 3, 2), program_end=date(2026, 4, 1), timezone="Europe/Paris"
    )
    moments = cohort.checkpoint_moments(settings)
    assert moments["midpoint"] == at("2026-03-17 08:00")  # 09:00 in Paris (CET)
    assert moments["end"] == at("2026-04-01 07:00")  # 09:00 in Paris (CEST)

    def due(now: str, *, midpoint: bool = False, end: bool = False) -> str | None:
        return cohort.due_checkpoint(settings, at(now), midpoint_decided=midpoint, end_decided=end)

    assert due("2026-03-17 07:59") is None
    assert due("2026-03-17 08:00") == "midpoint"
    assert due("2026-03-20 08:00", midpoint=True) is None
    assert due("2026-04-01 07:00", midpoint=True) == "end"
    assert due("2026-04-01 07:00") == "end"  # the end wins over a missed midpoint
    assert due("2026-06-01 07:00", midpoint=True, end=True) is None


# --- The figures ---------------------------------------------------------------------------


def test_outcome_figures_count_and_share_each_answer():
    answers_: list[tuple[str, str, str | None]] = [
        ("UA", "midpoint", "not_yet"),
        ("UB", "midpoint", "some"),
        ("UC", "midpoint", "some"),
        ("UD", "midpoint", "achieved"),
        ("UE", "midpoint", None),  # a leader who only shared a change
        ("UA", "end", "achieved"),
        ("UB", "end", "achieved"),
        ("UC", "end", "some"),
        ("UD", "end", "bogus"),
    ]
    figures = outcome_figures(answers_, min_responses=3)
    assert figures == {
        "midpoint": {
            "responses": 4,
            "counts": {"not_yet": 1, "some": 2, "achieved": 1},
            "shares": {"not_yet": 0.25, "some": 0.5, "achieved": 0.25},
        },
        "end": {
            "responses": 3,
            "counts": {"not_yet": 0, "some": 1, "achieved": 2},
            "shares": {"not_yet": 0.0, "some": 1 / 3, "achieved": 2 / 3},
        },
    }


def test_outcome_figures_below_the_minimum_say_so():
    answers_: list[tuple[str, str, str | None]] = [
        ("UA", "midpoint", "some"),
        ("UB", "midpoint", "achieved"),
        ("UA", "end", "some"),
    ]
    assert outcome_figures(answers_, min_responses=3) == {
        "midpoint": NOT_ENOUGH,
        "end": NOT_ENOUGH,
    }
    assert outcome_figures([], min_responses=0) == {"midpoint": NOT_ENOUGH, "end": NOT_ENOUGH}
    midpoint = outcome_figures(answers_, min_responses=2)["midpoint"]
    assert not isinstance(midpoint, str) and midpoint["responses"] == 2


def test_leader_changes_are_anonymous_and_need_the_minimum():
    changes = [
        ("UL1", "I ask my team before buying tools"),
        ("UL2", "I post on the intranet myself now"),
        ("UL3", "  "),
        ("UL4", "I keep Fridays free of meetings"),
    ]
    assert leader_changes(changes[:2], min_responses=3) is None
    assert leader_changes(changes, min_responses=4) is None  # the blank one does not count
    shown = leader_changes(changes, min_responses=3)
    assert shown is not None
    assert sorted(shown) == sorted(c for _, c in changes if c.strip())
    # The order depends on the texts alone: whoever answered first is not first.
    for order in itertools.permutations(changes):
        assert leader_changes(list(order), min_responses=3) == shown
    assert shown != [c for _, c in changes if c.strip()]  # not simply the order of answering


def test_a_change_is_optional_and_at_most_500_characters():
    assert validate_change(None) == (None, None)
    assert validate_change("   ") == (None, None)
    assert validate_change(" a " + "b" * 497) == ("a " + "b" * 497, None)
    text, error = validate_change("c" * 501)
    assert text is None and error is not None and "500 characters" in error


async def test_leaving_takes_a_leaders_own_words_with_them(cohort_bot, clock):
    bot = cohort_bot
    leader = next(u for u, a in PEOPLE.items() if a["role"] == "leader")
    cohort_id = first_cohort_id(bot)
    bot.runtime.deps.db.run_sync(
        lambda s: (
            outcomes.record_progress(
                session=s,
                team_id=TEAM_ID,
                cohort_id=cohort_id,
                user_id=leader,
                checkpoint="midpoint",
                progress="some",
                now=clock.now,
            ),
            outcomes.record_change(
                session=s,
                team_id=TEAM_ID,
                cohort_id=cohort_id,
                user_id=leader,
                checkpoint="midpoint",
                change="I now ask the newest person first",
                now=clock.now,
            ),
        )
    )
    await bot.command("leave", user=leader)
    await bot.click("leave_confirm", user=leader, container={"type": "message", "message_ts": "1"})
    [row] = answers(bot)
    assert (row.progress, row.change) == ("some", None)
