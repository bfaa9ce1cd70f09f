"""CSV roster import: a clear per-row report for bad rows, and nothing half-imported."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest
from sqlmodel import select

import app
from bot.cadence import ProgramSettings
from bot.roster import parse_roster
from handlers.devkit.driver import BOT_TOKEN, SIGNING_SECRET, TEAM_ID
from handlers.profile.roster import import_roster, run_import
from storage import cohorts, participants, program
from storage.models import Participant

HEADER = "user,role,level,department,manager,topics,goals,capacity\n"
GOOD = HEADER + (
    "U1,junior,1,Finance,,AI;hybrid,Show leaders practical AI,2\n"
    "u2@example.com,leader,Executive (C-level),Operations,U1,Digital trends & AI,Learn AI,\n"
)


def _stored(bot) -> list[Participant]:
    return bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Participant)).all()))


def test_parse_accepts_keys_labels_and_emails():
    parsed = parse_roster(GOOD)
    assert parsed.problems == []
    (first, first_profile), (second, second_profile) = parsed.rows
    assert first_profile.topics == ("ai", "hybrid") and first_profile.capacity == 2
    assert second.user == "u2@example.com" and second.manager == "U1"
    assert second_profile.level == 6 and second_profile.topics == ("ai",)


def test_parse_reports_every_bad_row_by_line():
    text = HEADER + (
        "U1,junior,1,Finance,,ai,Teach,1\n"
        "not-a-user,boss,9,,,astrology,,7\n"
        "U1,leader,5,Ops,,ai,Learn,\n"
    )
    parsed = parse_roster(text)
    lines = sorted({p.line for p in parsed.problems})
    assert lines == [3, 4]
    report = "\n".join(str(p) for p in parsed.problems)
    assert "line 3: user must be a Slack user ID" in report
    assert "line 3: role:" in report and "line 3: level:" in report and "line 3: topics:" in report
    assert "line 4: user is listed twice (first on line 2)" in report


def test_parse_rejects_a_file_without_the_columns():
    parsed = parse_roster("name,email\nJo,jo@example.com\n")
    assert parsed.rows == [] and "missing: user, role, level" in str(parsed.problems[0])


async def test_import_stores_all_rows_with_slack_profile_data(bot):
    bot.slack.add_user("U2", tz="America/New_York", title="COO", email="u2@example.com")
    count, problems = await import_roster(bot.runtime.deps, team_id="T0001", text=GOOD)
    assert (count, problems) == (2, [])
    stored = {p.user_id: p for p in _stored(bot)}
    assert stored["U2"].timezone == "America/New_York" and stored["U2"].manager_id == "U1"
    assert stored["U1"].capacity == 2


async def test_one_unknown_user_imports_nothing(bot):
    text = GOOD + "UNOBODY,junior,2,Legal,,career,Help,1\n"
    bot.slack.add_user("U2", email="u2@example.com")
    count, problems = await import_roster(bot.runtime.deps, team_id="T0001", text=text)
    assert count == 0
    assert [str(p) for p in problems] == ["line 4: no Slack user UNOBODY (user_not_found)"]
    assert _stored(bot) == []


async def test_cli_prints_a_report_and_exit_code(bot, tmp_path):
    roster = tmp_path / "pilot.csv"
    roster.write_text(HEADER + "U1,junior,1,Finance,,ai,,1\n")
    out, err = io.StringIO(), io.StringIO()
    assert await run_import(bot.runtime.deps, str(roster), out=out, err=err) == 1
    assert "nothing was imported" in err.getvalue() and "line 2: goals:" in err.getvalue()
    assert _stored(bot) == []

    roster.write_text(HEADER + "U1,junior,1,Finance,,ai,Teach AI,1\n")
    out, err = io.StringIO(), io.StringIO()
    assert await run_import(bot.runtime.deps, str(roster), out=out, err=err) == 0
    assert "imported 1 participants" in out.getvalue()
    assert len(_stored(bot)) == 1


# --- someone who left comes back only with --rejoin ----------------------------------------

AUCKLAND = "Pacific/Auckland"  # UTC+13 in March: the day there is ahead of UTC's


async def _leave(bot, clock, user: str, when: datetime) -> None:
    clock.now = when
    await bot.command("leave", user=user)
    await bot.click("leave_confirm", user=user, container={"type": "message", "message_ts": "1"})


def _workspace_zone(bot, tz: str) -> None:
    bot.runtime.deps.db.run_sync(
        lambda s: program.save_program_settings(
            session=s,
            team_id=TEAM_ID,
            settings=ProgramSettings(timezone=tz),
            now=datetime(2026, 3, 1, tzinfo=UTC),
        )
    )


async def test_someone_who_left_is_refused_and_nothing_is_imported(bot, clock):
    bot.slack.add_user("U2", tz="America/New_York", title="COO", email="u2@example.com")
    assert await import_roster(bot.runtime.deps, team_id=TEAM_ID, text=GOOD) == (2, [])
    _workspace_zone(bot, AUCKLAND)
    await _leave(bot, clock, "U1", datetime(2026, 3, 3, 20, 0, tzinfo=UTC))  # 4 March there
    again = GOOD.replace("Operations", "Strategy")  # U2's row changes too: it must not land

    count, problems = await import_roster(bot.runtime.deps, team_id=TEAM_ID, text=again)
    assert count == 0
    assert [str(p) for p in problems] == [
        "line 2: U1 left the program on 2026-03-04; add --rejoin to bring them back"
    ]
    stored = {p.user_id: p for p in _stored(bot)}
    assert (stored["U1"].status, stored["U1"].goals) == ("left", None)
    assert stored["U2"].department == "Operations"

    count, problems = await import_roster(
        bot.runtime.deps, team_id=TEAM_ID, text=again, rejoin=True
    )
    assert (count, problems) == (2, [])
    stored = {p.user_id: p for p in _stored(bot)}
    assert (stored["U1"].status, stored["U1"].left_at) == ("active", None)
    assert stored["U1"].goals == "Show leaders practical AI"
    assert stored["U2"].department == "Strategy"


async def test_the_cli_refuses_a_leaver_and_rejoin_brings_them_back(
    bot, clock, slack, database_url, tmp_path, monkeypatch, capsys
):
    roster = tmp_path / "pilot.csv"
    roster.write_text(HEADER + "U1,junior,1,Finance,,ai,Teach AI,1\n")
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,  # the database the `bot` fixture serves
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.setattr(app, "configure_logging", lambda level: None)  # keep pytest's logging

    async def main(*argv: str) -> int:  # its own event loop, in a thread, as from a shell
        return await asyncio.to_thread(app.main, list(argv))

    assert await main("import-roster", str(roster)) == 0
    await _leave(bot, clock, "U1", datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    capsys.readouterr()

    assert await main("import-roster", str(roster)) == 1
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert "line 2: U1 left the program on 2026-03-04; add --rejoin to bring them back" in err
    assert [p.status for p in _stored(bot)] == ["left"]

    for wrong in ([], [str(roster), "--rejoin", "--rejoin"], [str(roster), "--rejoyn"]):
        assert await main("import-roster", *wrong) == 2
        assert "import-roster FILE [--rejoin]" in capsys.readouterr().err
    assert [p.status for p in _stored(bot)] == ["left"]

    assert await main("import-roster", "--rejoin", str(roster)) == 0
    assert "imported 1 participants" in capsys.readouterr().out
    assert [(p.status, p.goals) for p in _stored(bot)] == [("active", "Teach AI")]


# --- the roster names its cohort ------------------------------------------------------------


def _cohort_of(bot) -> dict[str, str | None]:
    """user_id -> the name of the cohort whose pool they are in."""

    def load(session):
        names = {c.id: c.name for c in cohorts.cohorts_of(session=session, team_id=TEAM_ID)}
        return {p.user_id: names.get(p.cohort_id) for p in _stored_in(session)}

    return bot.runtime.deps.db.run_sync(load)


def _stored_in(session):
    return participants.all_participants(session=session, team_id=TEAM_ID)


async def test_a_roster_without_a_cohort_joins_the_one_open_for_signups(bot):
    bot.slack.add_user("U2", email="u2@example.com")
    await bot.command("admin cohort new Pilot start=2026-03-02", user="UADMIN")
    await bot.command("admin cohort new Spring start=2026-06-01", user="UADMIN")
    assert await import_roster(bot.runtime.deps, team_id=TEAM_ID, text=GOOD) == (2, [])
    assert _cohort_of(bot) == {"U1": "Spring", "U2": "Spring"}


async def test_a_roster_puts_everyone_in_the_cohort_it_names(bot):
    bot.slack.add_user("U2", email="u2@example.com")
    await bot.command("admin cohort new Pilot start=2026-03-02", user="UADMIN")
    await bot.command("admin cohort new Spring start=2026-06-01", user="UADMIN")
    deps = bot.runtime.deps
    assert await import_roster(deps, team_id=TEAM_ID, text=GOOD, cohort="pilot") == (2, [])
    assert _cohort_of(bot) == {"U1": "Pilot", "U2": "Pilot"}


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Autumn", "there is no cohort called 'Autumn' (see /mentor admin cohort list)"),
        ("Pilot", "the cohort 'Pilot' has ended; name a running one"),
    ],
)
async def test_a_roster_naming_no_running_cohort_imports_nothing(bot, name, problem):
    bot.slack.add_user("U2", email="u2@example.com")
    await bot.command("admin cohort new Pilot start=2026-03-02", user="UADMIN")
    await bot.command("admin cohort close Pilot", user="UADMIN")
    count, problems = await import_roster(bot.runtime.deps, team_id=TEAM_ID, text=GOOD, cohort=name)
    assert (count, [str(p) for p in problems]) == (0, [problem])
    assert _stored(bot) == []
