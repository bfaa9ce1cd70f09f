"""Matching and introductions end to end: signups -> preview -> match -> re-run -> unpair."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage.models import OutboxMessage, Pair
from tests.kit.guides import is_guide, without_guides

PEOPLE = {
    # user: (tz, title, signup answers)
    "UJ1": (
        "Europe/London",
        "Graduate analyst",
        SignupAnswers(
            role="junior",
            level="1",
            department="Finance",
            topics=("ai", "hybrid"),
            goals="Show leaders practical AI",
        ),
    ),
    "UJ2": (
        "Europe/Paris",
        "Marketing associate",
        SignupAnswers(
            role="junior",
            level="2",
            department="Marketing",
            topics=("social", "genz"),
            goals="Teach social media habits",
        ),
    ),
    "UL1": (
        "Europe/London",
        "Chief Operating Officer",
        SignupAnswers(
            role="leader",
            level="6",
            department="Operations",
            topics=("ai", "hybrid"),
            goals="Learn practical AI for my team",
        ),
    ),
    "UL2": (
        "Europe/Berlin",
        "Sales Director",
        SignupAnswers(
            role="leader",
            level="4",
            department="Sales",
            topics=("social", "genz"),
            goals="Understand social media and Gen Z",
        ),
    ),
}
LATECOMERS = {
    "UL3": (
        "Europe/Dublin",
        "Head of HR",
        SignupAnswers(
            role="leader", level="5", department="People", topics=("ai",), goals="AI in hiring"
        ),
    ),
}


async def sign_up(bot, user: str) -> None:
    tz, title, answers = (PEOPLE | LATECOMERS)[user]
    bot.slack.add_user(user, tz=tz, title=title)
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


def pairs_in_db(bot) -> list[Pair]:
    return bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(Pair).order_by(col(Pair.id))).all())
    )


def sent(bot, method: str):
    """Calls to `method`; posts leave out the preparation guides (tests/test_guides_flow.py)."""
    calls = bot.slack.calls_to(method)
    return without_guides(calls) if method == "chat.postMessage" else calls


@pytest.fixture
async def cohort(bot):
    for user in PEOPLE:
        await sign_up(bot, user)
    bot.slack.clear_calls()
    return bot


async def test_preview_sends_nothing_and_match_introduces_each_pair_once(cohort):
    bot = cohort
    status, body = await bot.command("admin match preview", user="UADMIN")
    assert status == 200 and body["response_type"] == "ephemeral"
    [preview] = sent(bot, "response_url")
    text = str(preview.params["blocks"])
    assert "Proposed 2 pairs" in text and "Nothing has been sent" in text
    assert "<@UJ1> mentors <@UL1>" in text and "<@UJ2> mentors <@UL2>" in text
    assert "Digital trends &amp; AI and Hybrid &amp; flexible work" in text  # why, escaped
    assert sent(bot, "conversations.open") == [] and sent(bot, "chat.postMessage") == []
    assert pairs_in_db(bot) == []

    await bot.command("admin match", user="UADMIN")

    opened = sent(bot, "conversations.open")
    # The pairs' group DMs, and each person's own DM for their preparation guide.
    assert sorted(c.params["users"] for c in opened) == [
        "UJ1",
        "UJ1,UL1",
        "UJ2",
        "UJ2,UL2",
        "UL1",
        "UL2",
    ]
    guides = [c for c in bot.slack.calls_to("chat.postMessage") if is_guide(c)]
    assert sorted(c.params["channel"] for c in guides) == sorted(
        bot.slack.conversation_id(user) for user in ("UJ1", "UJ2", "UL1", "UL2")
    )
    intros = sent(bot, "chat.postMessage")
    assert len(intros) == 2
    for intro in intros:
        members = {"UJ1", "UL1"} if "UJ1" in str(intro.params["blocks"]) else {"UJ2", "UL2"}
        assert intro.params["channel"] == bot.slack.conversation_id(*members)
        for user in members:
            assert f"<@{user}>" in str(intro.params["blocks"])
        assert "Mentor:" in str(intro.params["blocks"]) and "stays in the pair" in str(
            intro.params["blocks"]
        )
        kinds = {
            e["type"]
            for b in intro.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        }
        assert kinds == {"datepicker", "button"}
    stored = pairs_in_db(bot)
    assert [(p.mentor_id, p.mentee_id, p.status) for p in stored] == [
        ("UJ1", "UL1", "active"),
        ("UJ2", "UL2", "active"),
    ]
    assert all(p.dm_channel_id and p.intro_ts for p in stored)
    assert "Matched 2 pairs" in str(sent(bot, "response_url")[-1].params["blocks"])

    bot.slack.clear_calls()
    await bot.command("admin match", user="UADMIN")
    assert sent(bot, "conversations.open") == [] and sent(bot, "chat.postMessage") == []
    assert len(pairs_in_db(bot)) == 2
    assert "Matched 0 pairs" in str(sent(bot, "response_url")[-1].params["blocks"])


async def test_unpair_tells_both_and_rematch_never_repeats_a_pair(cohort):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    first = pairs_in_db(bot)[0]
    bot.slack.clear_calls()

    status, body = await bot.command("admin unpair <@UJ1|jo> <@UL1|lee>", user="UADMIN")
    assert "Ended the pair" in body["text"]
    [told] = sent(bot, "chat.postMessage")
    assert told.params["channel"] == first.dm_channel_id and "pool" in told.params["text"]
    assert pairs_in_db(bot)[0].status == "ended"

    # A new leader joins; UJ1 goes to them, never back to UL1.
    await sign_up(bot, "UL3")
    bot.slack.clear_calls()
    await bot.command("admin match", user="UADMIN")
    live = [(p.mentor_id, p.mentee_id) for p in pairs_in_db(bot) if p.status == "active"]
    assert ("UJ1", "UL3") in live and ("UJ1", "UL1") not in live
    result = str(sent(bot, "response_url")[-1].params["blocks"])
    assert "<@UL1>" in result and "Not matched this time" in result


async def test_unpair_input_errors_change_nothing(cohort):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    for text in ("admin unpair", "admin unpair <@UJ1>", "admin unpair <@UJ1> <@UL2>"):
        status, body = await bot.command(text, user="UADMIN")
        assert body["response_type"] == "ephemeral"
    assert [p.status for p in pairs_in_db(bot)] == ["active", "active"]


async def test_non_admin_cannot_match(cohort):
    status, body = await cohort.command("admin match", user="UJ1")
    assert "for the program's admins" in str(body["blocks"])
    assert pairs_in_db(cohort) == []


async def test_status_shows_pair_reason_and_next_session(cohort, clock):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    intro = next(c for c in sent(bot, "chat.postMessage") if "UJ1" in str(c.params["blocks"]))

    await bot.click_in_message(intro, "pick_session_date", user="UL1", selected_date="2026-03-10")

    pair = pairs_in_db(bot)[0]
    assert pair.next_session_on == date(2026, 3, 10)
    note = sent(bot, "chat.postMessage")[-1]
    assert note.params["channel"] == pair.dm_channel_id
    assert "Tuesday 10 March 2026" in note.params["text"]
    status, body = await bot.command("status", user="UJ1")
    text = str(body["blocks"])
    assert "You're mentoring <@UL1> (Chief Operating Officer)" in text
    assert "Why you were matched" in text and "Tuesday 10 March 2026" in text


async def test_past_date_and_outsiders_cannot_set_sessions(cohort):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    proposed = [p.next_session_on for p in pairs_in_db(bot)]
    assert all(proposed)  # the cadence proposes a first date when nobody has picked one
    intro = sent(bot, "chat.postMessage")[0]
    await bot.click_in_message(intro, "pick_session_date", user="UL1", selected_date="2020-01-01")
    await bot.click_in_message(intro, "pick_session_date", user="UJ2", selected_date="2026-03-10")
    replies = [c.params["text"] for c in sent(bot, "response_url")[-2:]]
    assert "from today onwards" in replies[0] and "Only the two people" in replies[1]
    assert [p.next_session_on for p in pairs_in_db(bot)] == proposed


async def test_asking_for_a_different_match_frees_both_and_tells_admins(cohort):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    intro = next(c for c in sent(bot, "chat.postMessage") if "UJ1" in str(c.params["blocks"]))
    bot.slack.clear_calls()
    await bot.click_in_message(intro, "request_rematch", user="UL1")
    assert pairs_in_db(bot)[0].status == "ended"
    assert "back in the pool" in sent(bot, "response_url")[-1].params["text"]
    messages = {c.params["channel"]: c.params["text"] for c in sent(bot, "chat.postMessage")}
    assert "asked for a different match" in messages[bot.slack.conversation_id("UADMIN")]
    assert "UL1" not in messages[intro.params["channel"]]  # the partner isn't told who asked


async def test_leaving_frees_the_partner(cohort):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    await bot.command("leave", user="UL1")
    await bot.click("leave_confirm", user="UL1", container={"type": "message", "message_ts": "1.2"})
    pair = pairs_in_db(bot)[0]
    assert pair.status == "ended" and pair.end_reason == "participant_left"
    assert "left the program" in sent(bot, "chat.postMessage")[-1].params["text"]


async def test_failed_introduction_is_kept_and_reported_not_dropped(cohort):
    bot = cohort
    bot.slack.users["UL2"]["deleted"] = True  # deactivated after signing up
    await bot.command("admin match", user="UADMIN")
    by_mentee = {p.mentee_id: p for p in pairs_in_db(bot)}
    assert by_mentee["UL1"].status == "active"
    assert by_mentee["UL2"].status == "intro_failed"
    alert = sent(bot, "chat.postMessage")[-1]
    assert alert.params["channel"] == bot.slack.conversation_id("UADMIN")
    assert "couldn't introduce" in alert.params["text"]
    assert "user_disabled" in alert.params["text"]


async def test_introductions_survive_a_slack_outage(cohort, clock):
    bot = cohort
    bot.slack.fail_next("conversations.open", status=500, times=50)
    await bot.command("admin match", user="UADMIN")
    assert [p.status for p in pairs_in_db(bot)] == ["introducing", "introducing"]
    assert sent(bot, "chat.postMessage") == []

    bot.slack.clear_failures()
    clock.advance(minutes=5)
    await tick(bot.runtime.deps)
    assert [p.status for p in pairs_in_db(bot)] == ["active", "active"]
    assert len(sent(bot, "chat.postMessage")) == 2
    await tick(bot.runtime.deps)  # nothing left to send
    assert len(sent(bot, "chat.postMessage")) == 2
    statuses = bot.runtime.deps.db.run_sync(
        lambda s: [(m.kind, m.status) for m in s.exec(select(OutboxMessage)).all()]
    )
    # The introductions, and the four guides (their DMs waited out the outage too).
    assert sorted(statuses) == [("guide", "sent")] * 4 + [("intro", "sent")] * 2


async def test_rate_limited_introductions_wait_and_are_sent_once(cohort, timer):
    bot = cohort
    bot.slack.fail_next("conversations.open", status=429, retry_after=3)
    await bot.command("admin match", user="UADMIN")
    assert 3 in timer.sleeps
    assert len(sent(bot, "chat.postMessage")) == 2


async def test_pausing_with_a_pair_asks_and_can_keep_it(cohort):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    status, body = await bot.command("pause", user="UL1")
    assert "What about your pairing with <@UJ1>" in str(body["blocks"])
    msg = {"type": "message", "message_ts": "1.2"}
    await bot.click("pause_keep_pair", user="UL1", container=msg)
    pair = pairs_in_db(bot)[0]
    assert (pair.status, pair.paused_reason) == ("paused", "participant")  # kept, but quiet
    assert pair.prompt_due_at is None and pair.stall_due_at is None
    assert "Your pair stays" in sent(bot, "response_url")[-1].params["text"]
    status, body = await bot.command("status", user="UL1")
    assert "paused" in str(body["blocks"])
    await bot.command("resume", user="UL1")
    pair = pairs_in_db(bot)[0]
    assert pair.status == "active" and pair.stall_due_at is not None


async def test_pausing_for_good_frees_the_partner(cohort):
    bot = cohort
    await bot.command("admin match", user="UADMIN")
    await bot.command("pause", user="UL1")
    await bot.click(
        "pause_release_pair", user="UL1", container={"type": "message", "message_ts": "1"}
    )
    pair = pairs_in_db(bot)[0]
    assert (pair.status, pair.end_reason) == ("ended", "participant_paused")
    assert "stepping back" in sent(bot, "chat.postMessage")[-1].params["text"]
    status, body = await bot.command("status", user="UJ1")
    assert "waiting to be paired" in str(body["blocks"])


async def test_matching_rules_come_from_settings(slack, tmp_path, clock, timer):
    from handlers.devkit.driver import make_settings, start_driver, stop_driver

    settings = make_settings(slack, tmp_path / "strict.db", MENTOR_MIN_LEVEL_GAP="5")
    bot = await start_driver(settings, slack, clock=clock, timer=timer)
    try:
        for user in PEOPLE:
            await sign_up(bot, user)
        await bot.command("admin match preview", user="UADMIN")
        preview = str(sent(bot, "response_url")[-1].params["blocks"])
        # Only UJ1 (level 1) and UL1 (level 6) are five levels apart.
        assert "Proposed 1 pair" in preview and "<@UJ1> mentors <@UL1>" in preview
    finally:
        await stop_driver(bot)
