"""`/mentor admin settings` through the real HTTP path: who may open it, field errors, what
is saved, and that the next tick decides by the new settings."""

from __future__ import annotations

from datetime import UTC, date, datetime

from slack_sdk.models.views import View
from sqlmodel import select

from bot.cadence import ProgramSettings
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.fake_slack import validate_view
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage import program
from storage.models import OutboxMessage, Pair, WorkspaceSchedule

LONDON = "Europe/London"


def settings_state(**changes: str | None) -> dict:
    """The settings modal's answers as Slack reports them; the defaults unless changed."""
    answers: dict[str, str | None] = {
        "program_start": None,
        "program_end": None,
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
        "admin_channel": None,
        "working_days": "0,1,2,3,4",
        "send_guides": "on",
    }
    answers.update(changes)
    state: dict = {}
    for name, value in answers.items():
        element: dict[str, object]
        if name == "working_days":
            chosen = [{"value": day} for day in (value or "").split(",") if day]
            element = {"type": "checkboxes", "selected_options": chosen}
        elif name in ("program_start", "program_end"):
            element = {"type": "datepicker", "selected_date": value}
        elif name in ("summary_weekday", "summary_hour", "timezone", "send_guides"):
            option = {"value": value} if value else None
            element = {"type": "static_select", "selected_option": option}
        elif name == "admin_channel":
            element = {"type": "conversations_select", "selected_conversation": value}
        else:
            element = {"type": "number_input", "value": value}
        state[name] = {"value": element}
    return state


def stored(bot) -> ProgramSettings:
    return bot.runtime.deps.db.run_sync(
        lambda s: program.get_program_settings(session=s, team_id=TEAM_ID)
    )


async def open_settings(bot, user: str = "UADMIN") -> dict:
    before = len(bot.slack.calls_to("views.open"))
    status, body = await bot.command("admin settings", user=user, trigger_id="trig-settings")
    assert status == 200
    opened = bot.slack.calls_to("views.open")[before:]
    assert len(opened) == 1
    assert opened[0].params["trigger_id"] == "trig-settings"
    return opened[0].params["view"]


def initial_values(view: dict) -> dict[str, object]:
    found = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        found[block["block_id"]] = (
            element.get("initial_value")
            or element.get("initial_date")
            or element.get("initial_conversation")
            or (element.get("initial_option") or {}).get("value")
            or [o["value"] for o in element.get("initial_options") or []]
            or None
        )
    return found


async def test_a_non_admin_is_refused_and_nothing_opens(bot):
    status, body = await bot.command("admin settings", user="U1")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert "for the program's admins" in str(body["blocks"])
    assert bot.slack.calls_to("views.open") == []


async def test_admin_help_lists_settings(bot):
    status, body = await bot.command("admin help", user="UADMIN")
    assert "/mentor admin settings" in str(body["blocks"])


async def test_the_modal_opens_with_the_defaults_and_fits_slack(bot):
    view = await open_settings(bot)
    assert validate_view(view) == []
    assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100
    View(**view).to_dict()  # slack_sdk's own checks
    assert view["callback_id"] == "program_settings"
    assert initial_values(view) == {
        "program_start": None,
        "program_end": None,
        "cadence_days": "14",
        "prompt_lead_hours": "24",
        "stall_days": "21",
        "escalate_after_days": "7",
        "pulse_cadence_days": "14",
        "pulse_close_days": "7",
        "min_responses": "3",
        "summary_weekday": "0",
        "summary_hour": "9",
        "timezone": "UTC",
        "admin_channel": None,
        "working_days": ["0", "1", "2", "3", "4"],
        "send_guides": "on",
    }
    channel = next(b for b in view["blocks"] if b.get("block_id") == "admin_channel")
    assert channel["element"]["type"] == "conversations_select"


async def test_an_owner_from_slack_may_open_it_too(bot):
    await open_settings(bot, user="UOWNER")


async def test_field_errors_come_back_in_the_modal_and_nothing_is_saved(bot):
    view = await open_settings(bot)
    state = settings_state(
        cadence_days="3",
        min_responses="1",
        program_start="2026-06-01",
        program_end="2026-05-01",
        timezone="Mars/Olympus",
        admin_channel="D0DIRECT1",
        send_guides=None,
    )
    status, body = await bot.submit_view(filled(view, state), user="UADMIN")
    assert status == 200
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {
        "cadence_days",
        "min_responses",
        "program_end",
        "timezone",
        "admin_channel",
        "send_guides",
    }
    assert body["errors"]["min_responses"] == "Enter a whole number from 2 to 50."
    assert body["errors"]["program_end"] == "The program must end after it starts."
    # Every error names a block of the modal, so Slack shows it next to that field.
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert set(body["errors"]) <= block_ids
    assert stored(bot) == ProgramSettings()


async def test_valid_settings_are_saved_and_shown_next_time(bot):
    bot.slack.add_channel("C0PROGRAM", name="mentoring-admins", is_private=True)
    view = await open_settings(bot)
    state = settings_state(
        program_start="2026-03-02",
        program_end="2026-09-01",
        cadence_days="21",
        prompt_lead_hours="48",
        stall_days="30",
        escalate_after_days="5",
        pulse_cadence_days="28",
        pulse_close_days="5",
        summary_weekday="4",
        summary_hour="16",
        timezone="Asia/Kathmandu",
        min_responses="4",
        admin_channel="C0PROGRAM",
        send_guides="off",
    )
    status, body = await bot.submit_view(filled(view, state), user="UADMIN")
    assert body["response_action"] == "update"
    assert validate_view(body["view"]) == []
    shown = str(body["view"]["blocks"])
    assert "Saved." in shown and "Fridays at 16:00 (Asia/Kathmandu)" in shown
    assert "*Preparation guides:* not sent" in shown
    assert "<#C0PROGRAM>" in shown
    assert stored(bot) == ProgramSettings(
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
        timezone="Asia/Kathmandu",
        min_responses=4,
        admin_channel="C0PROGRAM",
        send_guides=False,
    )
    # Opening the modal again shows what was saved, including a zone not in the usual list.
    again = await open_settings(bot)
    values = initial_values(again)
    assert values["cadence_days"] == "21" and values["program_end"] == "2026-09-01"
    assert values["timezone"] == "Asia/Kathmandu" and values["admin_channel"] == "C0PROGRAM"
    assert values["send_guides"] == "off"
    assert validate_view(again) == []

    # Emptying the optional fields clears them.
    status, body = await bot.submit_view(
        filled(again, settings_state(cadence_days="21", stall_days="30")), user="UADMIN"
    )
    assert body["response_action"] == "update"
    saved = stored(bot)
    assert (saved.program_start, saved.program_end, saved.admin_channel) == (None, None, None)
    assert saved.send_guides is True  # the guides are on again


async def test_saving_clears_the_summary_schedule_so_it_is_recomputed(bot):
    due = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    bot.runtime.deps.db.run_sync(
        lambda s: s.add(WorkspaceSchedule(team_id=TEAM_ID, summary_due_at=due))
    )
    view = await open_settings(bot)
    await bot.submit_view(
        filled(view, settings_state(summary_weekday="2", summary_hour="15")), user="UADMIN"
    )
    schedule = bot.runtime.deps.db.run_sync(lambda s: s.get(WorkspaceSchedule, TEAM_ID))
    assert schedule.summary_due_at is None


async def test_a_submission_from_someone_no_longer_admin_saves_nothing(bot):
    view = await open_settings(bot)
    status, body = await bot.submit_view(filled(view, settings_state(cadence_days="21")), user="U1")
    assert body["response_action"] == "update"
    assert "Only the program's admins" in str(body["view"])
    assert stored(bot) == ProgramSettings()


async def test_when_slack_is_too_slow_the_admin_is_told(bot):
    status, body = await bot.command("admin settings", user="UADMIN", trigger_id="expired")
    assert status == 200
    [reply] = bot.slack.calls_to("response_url")
    assert "run `/mentor admin settings` again" in reply.params["text"]


# --- The next tick decides by the new settings ------------------------------------------------


async def _sign_up(bot, user: str, answers: SignupAnswers) -> None:
    bot.slack.add_user(user, tz=LONDON, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


async def _paired(bot) -> Pair:
    await _sign_up(bot, "UJ1", SignupAnswers(role="junior", level="1", department="Finance"))
    await _sign_up(bot, "UL1", SignupAnswers(role="leader", level="6", department="Ops"))
    await bot.command("admin match", user="UADMIN")  # introduced on Monday 2 March, 09:00
    [pair] = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair)).all()))
    assert pair.status == "active"
    return pair


def _nudges(bot) -> list[OutboxMessage]:
    return bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(OutboxMessage).where(OutboxMessage.kind == "nudge")).all())
    )


async def _tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


async def test_a_lower_stall_threshold_nudges_from_the_next_tick(bot, clock):
    pair = await _paired(bot)
    clock.now = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # nine quiet days later
    await _tick(bot)
    assert _nudges(bot) == []  # the default waits 21 days

    view = await open_settings(bot)
    await bot.submit_view(
        filled(view, settings_state(cadence_days="7", stall_days="8")), user="UADMIN"
    )
    await _tick(bot)
    [nudge] = _nudges(bot)
    assert nudge.pair_id == pair.id and nudge.payload["days"] == 9
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if "9 days" in c.params["text"]]
    assert [c.params["channel"] for c in posted] == [pair.dm_channel_id]


async def test_a_longer_stall_threshold_holds_the_nudge_back(bot, clock):
    await _paired(bot)
    view = await open_settings(bot)
    await bot.submit_view(filled(view, settings_state(stall_days="40")), user="UADMIN")
    clock.now = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # 21 days: the default would nudge
    await _tick(bot)
    assert _nudges(bot) == []
    clock.now = datetime(2026, 4, 13, 9, 0, tzinfo=UTC)  # 42 days
    await _tick(bot)
    assert len(_nudges(bot)) == 1


async def test_a_new_cadence_sets_the_next_proposed_session(bot, clock):
    pair = await _paired(bot)
    assert pair.next_session_on == date(2026, 3, 16)  # 14 days after the introduction
    view = await open_settings(bot)
    await bot.submit_view(
        filled(view, settings_state(cadence_days="7", stall_days="8")), user="UADMIN"
    )
    clock.now = datetime(2026, 3, 17, 9, 0, tzinfo=UTC)  # the session date has passed
    await _tick(bot)
    pair = bot.runtime.deps.db.run_sync(lambda s: s.get(Pair, pair.id))
    assert pair.next_session_on == date(2026, 3, 24)  # a week on, not a fortnight
