"""The command line with many workspaces: `delete-workspace` deletes every record of one
workspace after a confirmation, and `import-roster --team` names the workspace."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

import app
from storage import workspaces
from storage.models import Participant
from tests.test_oauth_install import installation, sign_up
from tests.test_roster import HEADER

T1, T2 = "T0001", "T0002"


async def two_workspaces(bot, slack) -> None:
    slack.add_workspace(T2)
    slack.add_user("UJ9", team_id=T2)
    await bot.install(T1)
    await bot.install(T2)
    await sign_up(bot, "U1", team=T1)
    await sign_up(bot, "UJ9", team=T2)


def counts(bot, team: str) -> dict[str, int]:
    return bot.runtime.deps.db.run_sync(
        lambda s: workspaces.workspace_counts(session=s, team_id=team)
    )


async def test_delete_workspace_asks_then_deletes_every_record_of_that_workspace(oauth_bot, slack):
    await two_workspaces(oauth_bot, slack)
    t1_before, t2_before = counts(oauth_bot, T1), counts(oauth_bot, T2)
    assert {"participant", "slack_installations", "slack_bots", "workspace"} <= set(t2_before)
    settings = oauth_bot.runtime.settings

    asked: list[str] = []

    def another_id(question: str) -> str:
        asked.append(question)
        return T1

    out = io.StringIO()
    wrong = app.delete_workspace(settings, T2, ask=another_id, out=out)
    assert wrong == 1 and asked == [f"Type {T2} to delete it: "]
    assert "not confirmed; nothing was deleted" in out.getvalue()
    assert "its installation: the bot stops serving it" in out.getvalue()
    assert counts(oauth_bot, T2) == t2_before

    def no_input(question: str) -> str:
        raise EOFError

    assert app.delete_workspace(settings, T2, ask=no_input, out=io.StringIO()) == 1
    assert counts(oauth_bot, T2) == t2_before

    out = io.StringIO()
    assert app.delete_workspace(settings, T2, ask=lambda q: T2, out=out) == 0
    assert f"deleted {sum(t2_before.values())} records of {T2}" in out.getvalue()
    assert counts(oauth_bot, T2) == {}
    assert counts(oauth_bot, T1) == t1_before
    assert installation(oauth_bot, T2) is None and installation(oauth_bot, T1) is not None
    people = oauth_bot.runtime.deps.db.run_sync(
        lambda s: [(p.team_id, p.user_id) for p in s.exec(select(Participant))]
    )
    assert people == [(T1, "U1")]

    out = io.StringIO()
    assert app.delete_workspace(settings, T2, yes=True, out=out) == 1
    assert "nothing is stored for T0002" in out.getvalue()


@pytest.mark.parametrize(
    ("argv", "parsed"),
    [
        (["delete-workspace", "T0002"], ("T0002", False)),
        (["delete-workspace", "--yes", "T0002"], ("T0002", True)),
        (["delete-workspace"], None),
        (["delete-workspace", "acme"], None),
        (["delete-workspace", "T1", "T2"], None),
    ],
)
def test_delete_workspace_arguments(argv, parsed):
    assert app.delete_workspace_arguments(argv) == parsed


@pytest.mark.parametrize(
    ("argv", "parsed"),
    [
        (["import-roster", "a.csv"], ("a.csv", False, None, None)),
        (
            ["import-roster", "--team", "T0002", "a.csv", "--rejoin"],
            ("a.csv", True, "T0002", None),
        ),
        (
            ["import-roster", "a.csv", "--cohort", "Pilot 2027"],
            ("a.csv", False, None, "Pilot 2027"),
        ),
        (["import-roster", "a.csv", "--cohort"], None),
        (["import-roster", "a.csv", "--cohort", "--rejoin"], None),
        (["import-roster", "a.csv", "--team"], None),
        (["import-roster", "a.csv", "--team", "acme"], None),
    ],
)
def test_import_roster_arguments(argv, parsed):
    assert app.roster_arguments(argv) == parsed


async def test_import_roster_names_its_workspace_with_many(oauth_bot, slack, tmp_path):
    slack.add_workspace(T2)
    slack.add_user("UJ9", team_id=T2, email="uj9@example.com")
    await oauth_bot.install(T2)
    roster = tmp_path / "pilot.csv"
    roster.write_text(HEADER + "uj9@example.com,junior,1,Finance,,ai,Teach AI,1\n")
    deps = oauth_bot.runtime.deps

    out, err = io.StringIO(), io.StringIO()
    assert await app.run_import(deps, str(roster), out=out, err=err) == 2
    assert "--team TEAM_ID" in err.getvalue()

    out, err = io.StringIO(), io.StringIO()
    assert await app.run_import(deps, str(roster), out=out, err=err, team_id=T2) == 0
    stored = deps.db.run_sync(
        lambda s: [(p.team_id, p.user_id) for p in s.exec(select(Participant))]
    )
    assert stored == [(T2, "UJ9")]
    [lookup] = slack.calls_to("users.lookupByEmail")
    assert lookup.token == slack.grant_of(T2).token
