"""Admin summaries and the export end to end: the real app, a fake Slack, a controllable clock."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import logging
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.cadence import ProgramSettings
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.fake_slack import validate_blocks
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from handlers.reports import blocks as report_blocks
from handlers.reports import use_cases as summary
from storage import cohorts, program
from storage.models import (
    OutboxMessage,
    OutcomeAnswer,
    Pair,
    PromptSent,
    PulseResponse,
    PulseSurvey,
    WorkspaceSchedule,
    saved_id,
)

ADMIN_CHANNEL = "CADMIN01"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LONDON = "Europe/London"
PEOPLE = {
    "UJ1": SignupAnswers(role="junior", level="1", department="Finance", topics=("ai", "hybrid")),
    "UL1": SignupAnswers(role="leader", level="6", department="Ops", topics=("ai", "hybrid")),
    "UJ2": SignupAnswers(role="junior", level="2", department="Sales", topics=("social",)),
    "UL2": SignupAnswers(role="leader", level="5", department="Legal", topics=("social",)),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def save_settings(bot, **changes) -> None:
    settings = dataclasses.replace(ProgramSettings(), **changes)
    bot.runtime.deps.db.run_sync(
        lambda s: program.save_program_settings(
            session=s, team_id=TEAM_ID, settings=settings, now=at("2026-03-01 00:00")
        )
    )


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


def pairs_by_mentor(bot) -> dict[str, Pair]:
    return bot.runtime.deps.db.run_sync(
        lambda s: {p.mentor_id: p for p in s.exec(select(Pair)).all()}
    )


def summaries(bot, title: str = "Weekly program summary") -> list:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == ADMIN_CHANNEL and c.params["text"].startswith(title)
    ]


def block_text(call_or_blocks) -> str:
    """The text of every block, fields and context elements of a post (or a list of blocks)."""
    content = call_or_blocks
    if not isinstance(content, list):
        content = content.params["blocks"]
    parts = []
    for block in content:
        if "text" in block:
            parts.append(block["text"]["text"])
        for item in block.get("fields", []) + block.get("elements", []):
            parts.append(item.get("text", ""))
    return "\n".join(parts)


def uploaded(bot) -> list[bytes]:
    """The bytes of every file completed into a conversation, in order."""
    found = []
    for call in bot.slack.calls_to("files.completeUploadExternal"):
        for entry in call.params["files"]:
            found.append(bot.slack.files[entry["id"]]["content"])
    return found


def add_ratings(bot, pair: Pair, period: str, ratings: dict[str, int], when: datetime) -> None:
    def add(session):
        survey = PulseSurvey(
            team_id=TEAM_ID, pair_id=saved_id(pair), period=period, opened_at=when, closes_at=when
        )
        session.add(survey)
        session.flush()
        for user_id, rating in ratings.items():
            session.add(
                PulseResponse(
                    team_id=TEAM_ID,
                    survey_id=saved_id(survey),
                    user_id=user_id,
                    rating=rating,
                    updated_at=when,
                )
            )

    bot.runtime.deps.db.run_sync(add)


def add_prompt(bot, pair: Pair, topic: str, when: datetime) -> None:
    prompt = next(p for p in bot.runtime.deps.prompts if p.topic == topic)
    pair_id = saved_id(pair)
    bot.runtime.deps.db.run_sync(
        lambda s: s.add(
            PromptSent(team_id=TEAM_ID, pair_id=pair_id, prompt_id=prompt.id, sent_at=when)
        )
    )


@pytest.fixture
async def program_bot(bot, slack, clock):
    """Four people signed up and matched on Monday 2 March 2026, 09:00 (London = UTC)."""
    slack.add_channel(ADMIN_CHANNEL, name="mentor-admins")
    for user, answers in PEOPLE.items():
        slack.add_user(user, tz=LONDON, title=f"Title of {user}", real_name=f"Person {user}")
        await bot.command("signup", user=user)
        view = slack.calls_to("views.open")[-1].params["view"]
        status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
        assert body["response_action"] == "update", body
    save_settings(bot, admin_channel=ADMIN_CHANNEL, timezone=LONDON)
    await bot.command("admin match", user="UADMIN")
    assert {p.status for p in pairs_by_mentor(bot).values()} == {"active"}
    return bot


async def test_weekly_summary_posts_once_at_the_configured_time(program_bot, clock, slack):
    bot = program_bot
    await run_tick(bot)  # first sight: the next Monday 09:00 London is set, nothing posted
    schedule = bot.runtime.deps.db.run_sync(lambda s: s.get(WorkspaceSchedule, TEAM_ID))
    assert schedule.summary_due_at == at("2026-03-09 09:00")
    assert summaries(bot) == []

    first, second = pairs_by_mentor(bot)["UJ1"], pairs_by_mentor(bot)["UJ2"]
    for day in ("2026-03-04 10:00", "2026-03-05 10:00"):
        clock.now = at(day)
        await bot.command("met", user="UJ1")
    add_prompt(bot, first, "ai", at("2026-03-03 10:00"))
    add_prompt(bot, first, "hybrid", at("2026-03-04 10:00"))
    add_prompt(bot, second, "ai", at("2026-03-04 11:00"))
    add_prompt(bot, second, "social", at("2026-02-28 11:00"))  # before the week
    # Two ratings only: their average (4.5) would say what each of two people gave.
    add_ratings(bot, first, "test:w1", {"UJ1": 4, "UL1": 5}, at("2026-03-05 12:00"))

    clock.now = at("2026-03-09 08:59")
    await run_tick(bot)
    assert summaries(bot) == []
    clock.now = at("2026-03-09 09:00")
    await asyncio.gather(*(tick(bot.runtime.deps) for _ in range(3)))  # overlapping ticks
    await bot.settle()
    await run_tick(bot)
    [weekly] = summaries(bot)
    text = block_text(weekly)
    assert "*Signed up*\n4" in text and "*Waiting for a pair*\n0" in text
    for field in ("*Active pairs*\n2", "*Paused*\n0", "*Stalled*\n0", "*Ended*\n0"):
        assert field in text
    assert "2 held this week · 2 in total" in text
    # 7 days active each over a 14-day cadence: 0.5 expected; 2 sessions over 2 pairs: 1.0.
    assert "1.0 per pair against 0.5 expected (one every 14 days): 200% of the cadence" in text
    assert (
        "Not enough responses this week (2 responses by 2 people; an average needs at least 3 "
        "different people)" in text
    )
    assert "4.5" not in text and "4.5" not in weekly.params["text"]
    assert "Digital trends & AI (2) · Hybrid & flexible work (1)" in text
    assert "Social media" not in text
    assert "No stalled pairs." in text
    assert "2 Mar – 8 Mar 2026" in text
    assert not validate_blocks(weekly.params["blocks"])
    keys = bot.runtime.deps.db.run_sync(
        lambda s: [m.key for m in s.exec(select(OutboxMessage)).all() if m.kind == summary.KIND]
    )
    assert keys == [f"summary:{TEAM_ID}:2026-03-09"]
    schedule = bot.runtime.deps.db.run_sync(lambda s: s.get(WorkspaceSchedule, TEAM_ID))
    assert schedule.summary_due_at == at("2026-03-16 09:00")
    assert schedule.last_summary_at == at("2026-03-09 09:00")

    # The chart: a real PNG of a plausible size, shared in the admin channel.
    [get_url] = slack.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"].endswith(".png")
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == ADMIN_CHANNEL
    [png] = uploaded(bot)
    assert png.startswith(PNG_SIGNATURE)
    assert 5_000 <= len(png) <= 200_000
    assert int(get_url.params["length"]) == len(png)

    # Week two: a third response makes the average a number.
    add_ratings(bot, second, "test:w2", {"UJ2": 3, "UL2": 4}, at("2026-03-10 12:00"))
    add_ratings(bot, first, "test:w2", {"UJ1": 5}, at("2026-03-11 12:00"))
    clock.now = at("2026-03-16 09:00")
    await run_tick(bot)
    _, week_two = summaries(bot)
    text = block_text(week_two)
    assert "4.0 out of 5 from 3 responses by 3 people this week." in text  # no change: hidden
    assert "0 held this week · 2 in total" in text
    assert "No prompts went out this week." in text

    # The clocks go forward on 29 March: Monday 09:00 London is then 08:00 UTC.
    clock.now = at("2026-03-23 09:00")
    await run_tick(bot)
    clock.now = at("2026-03-30 07:59")
    await run_tick(bot)
    assert len(summaries(bot)) == 3
    clock.now = at("2026-03-30 08:00")
    await run_tick(bot)
    await run_tick(bot)
    assert len(summaries(bot)) == 4
    text = block_text(summaries(bot)[-1])
    # UJ2 and UL2 never met: 28 days less an hour since their introduction.
    assert "*Stalled*\n2" in text
    assert "<@UJ2> and <@UL2>: 27 days without a session or message" in text
    assert "<@UJ1> and <@UL1>: 24 days without a session or message" in text
    assert len(uploaded(bot)) == 4


async def test_a_long_outage_posts_one_summary_of_the_last_week(program_bot, clock):
    bot = program_bot
    await run_tick(bot)
    clock.now = at("2026-03-25 12:00")  # down over two summary times
    await run_tick(bot)
    await run_tick(bot)
    [late] = summaries(bot)
    assert "16 Mar – 22 Mar 2026" in block_text(late)
    keys = bot.runtime.deps.db.run_sync(
        lambda s: [m.key for m in s.exec(select(OutboxMessage)).all() if m.kind == summary.KIND]
    )
    assert keys == [f"summary:{TEAM_ID}:2026-03-23"]


@pytest.mark.parametrize(
    ("method", "failure"),
    [
        ("files.getUploadURLExternal", dict(status=200, error="not_allowed_token_type")),
        ("upload", dict(status=500, times=5)),
        ("files.completeUploadExternal", dict(status=200, error="channel_not_found")),
    ],
)
async def test_the_summary_still_posts_when_the_chart_upload_fails(
    program_bot, clock, slack, caplog, method, failure
):
    bot = program_bot
    await run_tick(bot)
    slack.fail_next(method, **failure)
    clock.now = at("2026-03-09 09:00")
    await run_tick(bot)
    assert len(summaries(bot)) == 1
    if method != "files.completeUploadExternal":
        assert slack.calls_to("files.completeUploadExternal") == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(w.startswith("file upload failed at") for w in warnings), warnings
    assert not any("UJ1" in w or "Person" in w for w in warnings)
    # Posted once and not retried: the chart is an extra, the summary is sent.
    await run_tick(bot)
    assert len(summaries(bot)) == 1
    status = bot.runtime.deps.db.run_sync(
        lambda s: [m.status for m in s.exec(select(OutboxMessage)).all() if m.kind == summary.KIND]
    )
    assert status == ["sent"]


async def test_admin_summary_command_posts_now(program_bot, slack):
    bot = program_bot
    status, body = await bot.command("admin summary", user="UADMIN")
    assert status == 200
    assert body["text"] == f"Posting the program summary in <#{ADMIN_CHANNEL}>…"
    [posted] = summaries(bot, "Program summary")
    assert "*Active pairs*\n2" in block_text(posted)
    assert "0 held this week · 0 in total" in block_text(posted)
    assert slack.calls_to("response_url")[-1].params["text"] == (
        f"Posted the program summary in <#{ADMIN_CHANNEL}>."
    )
    [png] = uploaded(bot)
    assert png.startswith(PNG_SIGNATURE)


async def test_admin_summary_without_an_admin_channel_answers_with_the_summary(bot, slack):
    slack.add_user("UJ1", tz=LONDON)
    status, body = await bot.command("admin summary", user="UADMIN")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"] == "Program summary"
    assert "only you see this" in body["blocks"][-1]["elements"][0]["text"]
    assert slack.calls_to("chat.postMessage") == []
    assert slack.calls_to("files.getUploadURLExternal") == []
    ok = await summary.post_summary(bot.runtime.deps, team_id=TEAM_ID, now=at("2026-03-02 09:00"))
    assert ok is False


async def test_admin_export_sends_a_csv_to_the_admins_dm(program_bot, clock, slack):
    bot = program_bot
    first, second = pairs_by_mentor(bot)["UJ1"], pairs_by_mentor(bot)["UJ2"]
    clock.now = at("2026-03-04 10:00")
    await bot.command("met", user="UJ1")
    add_ratings(bot, first, "test:a", {"UJ1": 4, "UL1": 5}, at("2026-03-05 12:00"))
    add_ratings(bot, first, "test:b", {"UJ1": 2}, at("2026-03-12 12:00"))
    add_ratings(bot, second, "test:a", {"UJ2": 1, "UL2": 2}, at("2026-03-05 12:00"))
    await bot.command("admin unpair <@UJ2> <@UL2>", user="UADMIN")

    status, body = await bot.command("admin export", user="UADMIN")
    assert body["text"] == "Preparing the pairs export for your DMs…"
    [complete] = slack.calls_to("files.completeUploadExternal")
    dm = slack.conversation_id("UADMIN")
    assert complete.params["channel_id"] == dm
    assert slack.calls_to("conversations.open")[-1].params["users"] == "UADMIN"
    [get_url] = slack.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"] == "reverse-mentor-pairs-2026-03-04.csv"
    [data] = uploaded(bot)
    header, *rows = csv.reader(io.StringIO(data.decode("utf-8")))
    assert [header, *sorted(rows)] == [
        [
            "mentor",
            "mentor_id",
            "mentee",
            "mentee_id",
            "status",
            "created",
            "ended",
            "sessions_held",
            "survey_responses",
            "cohorts",
        ],
        # No averages at all: a pair is two people, so its average points to one of them.
        [
            "Person UJ1",
            "UJ1",
            "Person UL1",
            "UL1",
            "active",
            "2026-03-02",
            "",
            "1",
            "3",
            "Cohort 1",
        ],
        [
            "Person UJ2",
            "UJ2",
            "Person UL2",
            "UL2",
            "ended",
            "2026-03-02",
            "2026-03-04",
            "0",
            "2",
            "Cohort 1",
        ],
    ]
    text = data.decode("utf-8")
    assert "Help a leader" not in text  # no goals
    assert "1.5" not in text and "3.7" not in text  # nor any average
    assert slack.calls_to("response_url")[-1].params["text"] == (
        "The pairs export is in your DMs with me."
    )


async def test_export_reports_a_failed_upload(program_bot, slack):
    bot = program_bot
    slack.fail_next("files.getUploadURLExternal", status=200, error="invalid_auth")
    await bot.command("admin export", user="UADMIN")
    assert slack.calls_to("files.completeUploadExternal") == []
    assert "couldn't send the export" in slack.calls_to("response_url")[-1].params["text"]


@pytest.mark.parametrize("command", ["admin summary", "admin export"])
async def test_non_admins_are_refused(program_bot, slack, command):
    bot = program_bot
    before = len(slack.calls_to("chat.postMessage"))
    status, body = await bot.command(command, user="UJ1")
    assert "for the program's admins" in body["blocks"][0]["text"]["text"]
    assert len(slack.calls_to("chat.postMessage")) == before
    assert slack.calls_to("files.getUploadURLExternal") == []
    assert slack.calls_to("files.completeUploadExternal") == []


async def test_headline_numbers_for_the_app_home(program_bot, clock):
    bot = program_bot
    first = pairs_by_mentor(bot)["UJ1"]
    clock.now = at("2026-03-04 10:00")
    await bot.command("met", user="UJ1")
    add_ratings(bot, first, "test:a", {"UJ1": 4, "UL1": 5}, at("2026-03-05 12:00"))
    numbers = await summary.headline_numbers(
        bot.runtime.deps, team_id=TEAM_ID, now=at("2026-03-20 12:00")
    )
    assert numbers == {
        "Participants": "4",
        "Active pairs": "2",
        "Sessions this month": "1",
        "Pulse this month": "not enough responses",
    }
    add_ratings(bot, first, "test:b", {"UJ1": 3}, at("2026-03-06 12:00"))
    numbers = await summary.headline_numbers(
        bot.runtime.deps, team_id=TEAM_ID, now=at("2026-03-20 12:00")
    )
    assert numbers["Pulse this month"] == "not enough responses"  # 3 responses, 2 people
    second = pairs_by_mentor(bot)["UJ2"]
    add_ratings(bot, second, "test:b", {"UJ2": 4}, at("2026-03-06 12:00"))
    numbers = await summary.headline_numbers(
        bot.runtime.deps, team_id=TEAM_ID, now=at("2026-03-20 12:00")
    )
    assert numbers["Pulse this month"] == "4.0"
    april = await summary.headline_numbers(
        bot.runtime.deps, team_id=TEAM_ID, now=at("2026-04-02 12:00")
    )
    assert april["Sessions this month"] == "0"
    assert april["Pulse this month"] == "not enough responses"


async def test_summary_blocks_stay_within_slack_limits_and_escape_text(program_bot, clock):
    bot = program_bot

    def add_answers(session):
        first = cohorts.first_cohort(session=session, team_id=TEAM_ID, now=clock.now)
        for n in range(60):
            session.add(
                OutcomeAnswer(
                    team_id=TEAM_ID,
                    cohort_id=saved_id(first),
                    user_id=f"UX{n:03d}",
                    checkpoint="end",
                    progress="achieved",
                    change=f"<!channel> change number {n} " + "x" * 400,
                    answered_at=at("2026-03-05 12:00"),
                )
            )

    bot.runtime.deps.db.run_sync(add_answers)
    # The changes of people who are not leaders are never shown: make these leaders.
    bot.runtime.deps.db.run_sync(
        lambda s: [
            s.add(
                Pair(
                    team_id=TEAM_ID,
                    mentor_id=f"UM{n:03d}",
                    mentee_id=f"UX{n:03d}",
                    status="active",
                    created_at=at("2026-01-01 09:00"),
                    updated_at=at("2026-01-01 09:00"),
                    dm_channel_id=f"G{n:09d}",
                )
            )
            for n in range(60)
        ]
    )
    report = await summary.build_summary(
        bot.runtime.deps, team_id=TEAM_ID, end=at("2026-03-09 09:00"), now=at("2026-03-09 09:00")
    )
    text, content = report_blocks.summary_blocks(report, title="Weekly program summary")
    as_dicts = [block.to_dict() for block in content]
    assert len(as_dicts) <= 50
    assert not validate_blocks(as_dicts)
    rendered = block_text(as_dicts)
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered
    assert "*Stalled*\n60" in rendered  # every made-up pair has been quiet since January
    assert "…and 45 more." in rendered  # 15 shown of 60


async def test_the_final_summary_covers_the_whole_program(program_bot, clock, slack):
    bot = program_bot
    save_settings(
        bot,
        admin_channel=ADMIN_CHANNEL,
        timezone=LONDON,
        program_start=datetime(2026, 3, 2).date(),
    )
    for day in ("2026-03-04 10:00", "2026-03-18 10:00"):
        clock.now = at(day)
        await bot.command("met", user="UJ1")
    clock.now = at("2026-04-01 09:00")
    ok = await summary.post_summary(bot.runtime.deps, team_id=TEAM_ID, now=clock.now, final=True)
    assert ok is True
    [final] = summaries(bot, "Final program summary")
    text = block_text(final)
    assert "2 Mar – 31 Mar 2026" in text
    assert "2 held in the program · 2 in total" in text
    [png] = uploaded(bot)
    assert png.startswith(PNG_SIGNATURE)


async def test_the_gateway_upload_follows_the_retry_rules(bot, slack, timer):
    from handlers.core.slack import SlackCallError

    gateway = bot.runtime.deps.slack
    ticket = await gateway.call("files.getUploadURLExternal", filename="a.png", length=3)
    slack.fail_next("upload", status=429, retry_after=2)
    slack.fail_next("upload", status=503)
    await gateway.upload(ticket["upload_url"], b"abc", budget=60)
    assert timer.sleeps[0] == 2  # Retry-After waited out, then a 5xx retried with backoff
    assert len(timer.sleeps) == 2
    assert slack.files[ticket["file_id"]]["content"] == b"abc"
    slack.fail_next("upload", status=403, error="forbidden")
    with pytest.raises(SlackCallError) as refused:
        await gateway.upload(ticket["upload_url"], b"abc", budget=60)
    assert refused.value.transient is False and refused.value.method == "upload"
