"""The App Home tab through the real HTTP path: a participant's part, an admin's part above
it, the admin buttons, and Slack's limits (100 blocks, valid views) in the worst cases."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from slack_sdk.models.views import View
from sqlmodel import select

from bot.cadence import ProgramSettings
from bot.matching import MatchResult, ProposedPair, Unmatched
from bot.prompts import Prompt
from handlers.core import blocks as core_blocks
from handlers.core.scheduler import tick
from handlers.core.slack import SlackCallError
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.fake_slack import validate_view
from handlers.devkit.forms import filled, signup_state
from handlers.home import blocks as home_blocks
from handlers.home.blocks import HomeActions
from handlers.home.use_cases import ADMIN_ACTIONS
from handlers.pairing import blocks as pairing_blocks
from handlers.reports import use_cases as summary
from storage import program
from storage.models import Pair, Participant, PromptSent, PulseResponse, PulseSurvey, saved_id

LONDON = "Europe/London"
_events = itertools.count(1)


async def sign_up(bot, user: str, **answers) -> None:
    if user not in bot.slack.users:
        bot.slack.add_user(user, tz=LONDON, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


async def open_home(bot, user: str) -> dict:
    event = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
    assert await bot.event(event, event_id=f"EvHome{next(_events)}") == 200
    call = bot.slack.calls_to("views.publish")[-1]
    assert call.params["user_id"] == user
    return call.params["view"]


def within_limits(view: dict) -> None:
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    assert validate_view(view) == []
    View(**view).to_dict()  # slack_sdk's own checks


def texts(view: dict) -> str:
    return str(view["blocks"])


def action_ids(view: dict) -> list[str]:
    return [
        element["action_id"]
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def summary_module(monkeypatch, **functions) -> None:
    """Replace some of handlers/reports/use_cases.py's functions for one test."""
    for name, function in functions.items():
        monkeypatch.setattr(summary, name, function)


@pytest.fixture
def without_summaries(monkeypatch):
    """Headline numbers that fail: Home falls back to plain counts."""

    async def broken(*args, **kwargs):
        raise RuntimeError("summary figures unavailable")

    monkeypatch.setattr(summary, "headline_numbers", broken)


# --- A participant -------------------------------------------------------------------------


@pytest.fixture
async def mentor_of_three(bot, clock):
    """UJ1 mentors three leaders; each pair has had a prompt; UJ1 has rated two pulses."""
    await sign_up(bot, "UJ1", role="junior", level="1", department="Finance", capacity="3")
    for user, level, department in (("UL1", "6", "Ops"), ("UL2", "5", "Legal"), ("UL3", "4", "IT")):
        await sign_up(bot, user, role="leader", level=level, department=department)
    await bot.command("admin match", user="UADMIN")
    pairs = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair)).all()))
    assert len(pairs) == 3 and {p.mentor_id for p in pairs} == {"UJ1"}
    # The first sessions are on Monday 16 March: prompts go out on the Friday before.
    clock.now = datetime(2026, 3, 13, 17, 50, tzinfo=UTC)
    await tick(bot.runtime.deps)
    await bot.settle()

    def rate(session) -> None:
        for n, (pair, user, rating) in enumerate(
            [(pairs[0], "UJ1", 4), (pairs[1], "UJ1", 2), (pairs[0], "UL1", 5)]
        ):
            opened = datetime(2026, 3, 3 + n, 10, 0, tzinfo=UTC)
            survey = PulseSurvey(
                team_id=TEAM_ID,
                pair_id=pair.id,
                period=f"test:{n}",
                opened_at=opened,
                closes_at=opened + timedelta(days=7),
            )
            session.add(survey)
            session.flush()
            session.add(
                PulseResponse(
                    team_id=TEAM_ID,
                    survey_id=saved_id(survey),
                    user_id=user,
                    rating=rating,
                    updated_at=opened + timedelta(hours=n + 1),
                )
            )

    bot.runtime.deps.db.run_sync(rate)
    return pairs


async def test_a_participant_sees_pairs_sessions_prompts_and_own_ratings(bot, mentor_of_three):
    view = await open_home(bot, "UJ1")
    within_limits(view)
    shown = texts(view)
    assert shown.count("You're mentoring") == 3
    for leader in ("UL1", "UL2", "UL3"):
        assert f"<@{leader}> (Title of {leader})" in shown
    assert shown.count("*Next session:*") == 3
    assert shown.count("Latest prompt:") == 3
    library = {p.id: p for p in bot.runtime.deps.prompts}
    prompt_ids = bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(PromptSent.prompt_id)).all())
    )
    assert len(prompt_ids) == 3
    for prompt_id in prompt_ids:
        assert core_blocks.escape(library[prompt_id].question) in shown
    # Their own ratings, newest first; never their partner's.
    assert "Your pulse ratings" in shown
    assert shown.index("★★☆☆☆ (2)") < shown.index("★★★★☆ (4)")
    assert "(5)" not in shown
    # Their buttons, and no admin part.
    assert action_ids(view) == ["open_signup", "pause_participation", "leave_confirm"]
    assert "Program at a glance" not in shown


async def test_a_leader_sees_their_mentor_and_the_pair_prompt(bot, mentor_of_three):
    view = await open_home(bot, "UL1")
    within_limits(view)
    shown = texts(view)
    assert "You're mentored by <@UJ1>" in shown and shown.count("Latest prompt:") == 1
    assert "★★★★★ (5)" in shown and "(4)" not in shown


async def test_a_newcomer_sees_the_pitch_and_a_signup_button(bot):
    view = await open_home(bot, "U1")
    within_limits(view)
    assert action_ids(view) == ["open_signup"]
    assert "Your pulse ratings" not in texts(view)


async def test_no_ratings_no_prompts_no_empty_sections(bot):
    await sign_up(bot, "U1")
    view = await open_home(bot, "U1")
    within_limits(view)
    assert "waiting to be paired" in texts(view)
    assert "Latest prompt" not in texts(view) and "pulse ratings" not in texts(view)


# --- An admin ------------------------------------------------------------------------------


async def test_an_admin_sees_headline_counts_and_buttons_above_their_own_part(
    bot, without_summaries
):
    view = await open_home(bot, "UADMIN")
    within_limits(view)
    shown = texts(view)
    assert "Program at a glance" in shown
    assert "*Waiting for a pair*\\n0" in shown and "*Active pairs*\\n0" in shown
    assert action_ids(view) == [
        HomeActions.ADMIN_PREVIEW,
        HomeActions.ADMIN_SUMMARY,
        HomeActions.ADMIN_EXPORT,
        HomeActions.ADMIN_SETTINGS,
        "cohort_home_new",  # no cohort yet: only the button for the first
        "open_signup",  # an admin who has not signed up can still join
    ]

    await sign_up(bot, "UJ1", role="junior", level="1", department="Finance")
    await sign_up(bot, "UL1", role="leader", level="6", department="Ops")
    await sign_up(bot, "UADMIN", role="leader", level="5", department="People", topics=("career",))
    view = await open_home(bot, "UADMIN")
    within_limits(view)
    shown = texts(view)
    assert "*Waiting for a pair*\\n3" in shown
    # Admins may be participants too: their own part comes after the program's.
    assert shown.index("Program at a glance") < shown.index("waiting to be paired")
    assert action_ids(view)[-3:] == ["open_signup", "pause_participation", "leave_confirm"]

    await bot.command("admin match", user="UADMIN")
    await bot.command("met", user="UJ1")
    shown = texts(await open_home(bot, "UADMIN"))
    assert "*Waiting for a pair*\\n1" in shown  # UADMIN shares no topic with the junior
    assert "*Active pairs*\\n1" in shown and "*Sessions held*\\n1" in shown


async def test_a_workspace_owner_is_an_admin_and_others_are_not(bot, without_summaries):
    assert "Program at a glance" in texts(await open_home(bot, "UOWNER"))
    assert "Program at a glance" not in texts(await open_home(bot, "U1"))


async def test_the_summary_feature_supplies_the_headline_numbers(bot, clock, monkeypatch):
    asked = []

    async def headline_numbers(deps, *, team_id, now):
        asked.append((team_id, now))
        return {f"Number {n}": str(n) for n in range(25)}  # more than Home shows

    summary_module(monkeypatch, headline_numbers=headline_numbers)
    view = await open_home(bot, "UADMIN")
    within_limits(view)
    assert asked == [(TEAM_ID, clock.now)]
    shown = texts(view)
    assert "*Number 0*\\n0" in shown and "*Number 19*\\n19" in shown
    assert "Number 20" not in shown  # two sections of ten fields at most


async def test_headline_numbers_that_fail_fall_back_to_counts(bot, monkeypatch):
    async def headline_numbers(deps, *, team_id, now):
        raise RuntimeError("not ready")

    summary_module(monkeypatch, headline_numbers=headline_numbers)
    view = await open_home(bot, "UADMIN")
    assert "*Active pairs*\\n0" in texts(view)


# --- The admin buttons ---------------------------------------------------------------------


def modal_after(bot, before_open: int) -> tuple[dict, dict | None]:
    """The modal a click opened, and what it was updated with (None if it was not)."""
    [opened] = bot.slack.calls_to("views.open")[before_open:]
    # The fake keeps views in the order they were opened; an update keeps the view's place.
    view_id = [v for v in bot.slack.views.values() if v["type"] == "modal"][-1]["id"]
    updates = [c for c in bot.slack.calls_to("views.update") if c.params["view_id"] == view_id]
    assert len(updates) <= 1
    return opened.params, (updates[0].params["view"] if updates else None)


async def test_preview_button_shows_the_proposal_in_a_modal_and_changes_nothing(bot):
    await sign_up(bot, "UJ1", role="junior", level="1", department="Finance")
    await sign_up(bot, "UL1", role="leader", level="6", department="Ops")
    await sign_up(bot, "UJ2", role="junior", level="1", department="Sales", topics=("career",))
    before = len(bot.slack.calls_to("views.open"))
    posted = len(bot.slack.calls_to("chat.postMessage"))
    status, _ = await bot.click(HomeActions.ADMIN_PREVIEW, user="UADMIN")
    assert status == 200
    opened, result = modal_after(bot, before)
    assert opened["trigger_id"].startswith("trig-")
    assert "Working out the best pairs" in str(opened["view"])
    assert result is not None
    assert validate_view(result) == [] and result["title"]["text"] == "Match preview"
    shown = str(result["blocks"])
    assert "Proposed 1 pair" in shown and "<@UJ1> mentors <@UL1>" in shown
    assert "Not matched this time" in shown and "<@UJ2>" in shown
    assert bot.runtime.deps.db.run_sync(lambda s: s.exec(select(Pair)).all()) == []
    assert len(bot.slack.calls_to("chat.postMessage")) == posted


async def test_summary_button_posts_through_the_summary_feature(bot, clock, monkeypatch):
    calls = []

    async def post_summary(deps, *, team_id, now):
        calls.append((team_id, now))

    summary_module(monkeypatch, post_summary=post_summary)
    before = len(bot.slack.calls_to("views.open"))
    await bot.click(HomeActions.ADMIN_SUMMARY, user="UADMIN")
    assert calls == [(TEAM_ID, clock.now)]
    _, result = modal_after(bot, before)
    assert "Posted the program summary" in str(result)


async def test_summary_button_reports_a_slack_refusal(bot, monkeypatch):
    async def post_summary(deps, *, team_id, now):
        raise SlackCallError("chat.postMessage", "not_in_channel", transient=False)

    summary_module(monkeypatch, post_summary=post_summary)
    before = len(bot.slack.calls_to("views.open"))
    await bot.click(HomeActions.ADMIN_SUMMARY, user="UADMIN")
    _, result = modal_after(bot, before)
    assert "Slack refused the request (not_in_channel)" in str(result)


async def test_export_button_sends_the_export_to_whoever_asked(bot, monkeypatch):
    calls = []

    async def send_export(deps, *, team_id, user_id):
        calls.append((team_id, user_id))

    summary_module(monkeypatch, send_export=send_export)
    before = len(bot.slack.calls_to("views.open"))
    await bot.click(HomeActions.ADMIN_EXPORT, user="UADMIN")
    assert calls == [(TEAM_ID, "UADMIN")]
    _, result = modal_after(bot, before)
    assert "direct message" in str(result)


async def test_settings_button_opens_the_settings_modal(bot):
    await bot.click(HomeActions.ADMIN_SETTINGS, user="UADMIN")
    [opened] = bot.slack.calls_to("views.open")
    assert opened.params["view"]["callback_id"] == "program_settings"


@pytest.mark.parametrize("action_id", ADMIN_ACTIONS)
async def test_a_non_admin_pressing_an_admin_button_is_refused(bot, monkeypatch, action_id):
    called = []

    async def anything(*args, **kwargs):
        called.append(args)

    summary_module(monkeypatch, post_summary=anything, send_export=anything)
    await bot.click(action_id, user="U1")
    [opened] = bot.slack.calls_to("views.open")
    assert "for the program's admins" in str(opened.params["view"])
    assert called == [] and bot.slack.calls_to("views.update") == []


# --- Slack's limits in the worst cases -----------------------------------------------------


def _pair(n: int, user: str) -> Pair:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return Pair(
        id=n,
        team_id=TEAM_ID,
        mentor_id=user,
        mentee_id=f"UL{n}",
        status="active",
        explanation="You both care about Digital trends & AI. " * 10,
        next_session_on=date(2026, 3, 16),
        created_at=now,
        updated_at=now,
    )


def test_home_stays_within_100_blocks_however_much_there_is():
    me = Participant(
        team_id=TEAM_ID,
        user_id="UJ1",
        role="junior",
        level=1,
        department="Finance",
        topics=["ai"],
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
        updated_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    live = [_pair(n, "UJ1") for n in range(1, 61)]
    prompt = Prompt(
        id="ai-1", topic="ai", question="What AI tool saves you time? " * 20, reverse=""
    )
    view = home_blocks.home_view(
        me,
        admin_section=home_blocks.admin_blocks({f"Number {n}": "1" * 50 for n in range(40)}),
        pairs_section=home_blocks.pairs_with_prompts(
            live,
            pairing_blocks.pairs_status_blocks("UJ1", live, {}),
            {saved_id(p): prompt for p in live},
        ),
        extra_section=home_blocks.ratings_blocks(
            [(datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=n), 3) for n in range(50)]
        ),
    ).to_dict()
    assert len(view["blocks"]) <= 100
    assert validate_view(view) == []
    assert "…and 50 more pairs" in str(view["blocks"])


def test_a_large_match_preview_is_trimmed_to_fit_a_modal():
    result = MatchResult(
        pairs=[
            ProposedPair(f"UJ{n}", f"UL{n}", 10.0, (), "Shared topics; different departments.")
            for n in range(150)
        ],
        unmatched=[Unmatched(f"UX{n}", "no leader shares a topic") for n in range(40)],
        total_score=1500.0,
    )
    preview = pairing_blocks.match_preview_blocks(result, committed=False, shown_pairs=80)
    view = home_blocks.result_modal("Match preview", preview).to_dict()
    assert len(view["blocks"]) <= 100 and validate_view(view) == []
    assert "…and 70 more pairs." in str(view["blocks"])
    too_many = home_blocks.result_modal("Anything", [core_blocks.section("x")] * 150).to_dict()
    assert len(too_many["blocks"]) == 100 and validate_view(too_many) == []


# --- With the reports feature itself (handlers/reports) ----------------------------------


async def test_summary_button_that_posts_nothing_says_why(bot, monkeypatch):
    async def post_summary(deps, *, team_id, now):
        return False

    summary_module(monkeypatch, post_summary=post_summary)
    before = len(bot.slack.calls_to("views.open"))
    await bot.click(HomeActions.ADMIN_SUMMARY, user="UADMIN")
    _, result = modal_after(bot, before)
    assert "Nothing was posted" in str(result) and "admin channel" in str(result)


async def test_the_real_summary_feature_behind_the_buttons(bot):
    pytest.importorskip("handlers.reports")

    bot.slack.add_channel("C0ADMINS", name="mentoring-admins")
    now = bot.runtime.deps.clock()
    bot.runtime.deps.db.run_sync(
        lambda s: program.save_program_settings(
            session=s,
            team_id=TEAM_ID,
            settings=ProgramSettings(admin_channel="C0ADMINS"),
            now=now,
        )
    )
    home = await open_home(bot, "UADMIN")
    within_limits(home)
    assert "Active pairs" in texts(home)

    before = len(bot.slack.calls_to("views.open"))
    await bot.click(HomeActions.ADMIN_SUMMARY, user="UADMIN")
    _, result = modal_after(bot, before)
    assert "Posted the program summary" in str(result)
    posted = [c.params["channel"] for c in bot.slack.calls_to("chat.postMessage")]
    assert "C0ADMINS" in posted

    before = len(bot.slack.calls_to("views.open"))
    await bot.click(HomeActions.ADMIN_EXPORT, user="UADMIN")
    _, result = modal_after(bot, before)
    assert "direct message" in str(result)
    shared = bot.slack.calls_to("files.completeUploadExternal")
    assert shared[-1].params["channel_id"] == bot.slack.conversation_id("UADMIN")
