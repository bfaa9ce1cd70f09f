"""`python app.py import-roster FILE [--rejoin] [--cohort NAME]`: load a cohort from CSV, all
rows or none.

Someone who left the program is brought back only with --rejoin: a roster made before they
left must not quietly sign them up again."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import TextIO

from sqlmodel import Session

from bot.cadence import zone
from bot.cohort import CohortStatus
from bot.profiles import Profile, Status
from bot.roster import ParsedRoster, RosterProblem, RosterRow, parse_roster
from handlers.cohorts.use_cases import place_new_member
from handlers.core.deps import Deps
from handlers.core.slack import NotInstalled, SlackCallError
from storage import cohorts, pairs, participants, program
from storage.models import Cohort

# A row that passed every check: the row, the person's Slack profile, the profile to save.
_Ready = tuple[RosterRow, dict, Profile]


async def _lookup(deps: Deps, team_id: str, reference: str) -> dict:
    if "@" in reference:
        data = await deps.slack.call(
            "users.lookupByEmail", team_id=team_id, email=reference, budget=120
        )
    else:
        data = await deps.slack.call("users.info", team_id=team_id, user=reference, budget=120)
    return data.get("user") or {}


async def import_roster(
    deps: Deps, *, team_id: str, text: str, rejoin: bool = False, cohort: str | None = None
) -> tuple[int, list[RosterProblem]]:
    """Validate every row against the CSV rules and Slack, then store all in one transaction.
    A row for someone who left is refused unless `rejoin`. Everyone joins the cohort named
    `cohort` (a running one), else the one open for signups as if they had signed up."""
    parsed: ParsedRoster = parse_roster(text)
    if parsed.problems:
        return 0, parsed.problems
    if cohort is not None:
        problem = await deps.db.run(lambda s: _cohort_problem(s, team_id=team_id, name=cohort))
        if problem is not None:
            return 0, [RosterProblem(0, problem)]
    problems: list[RosterProblem] = []
    resolved: dict[str, dict] = {}
    for row, _ in parsed.rows:
        for reference in filter(None, (row.user, row.manager)):
            if reference in resolved:
                continue
            try:
                user = await _lookup(deps, team_id, reference)
            except NotInstalled:
                raise  # no row is at fault: the workspace has no installation
            except SlackCallError as exc:
                if exc.transient:
                    return 0, [RosterProblem(0, f"Slack did not answer ({exc.error}); try again")]
                problems.append(RosterProblem(row.line, f"no Slack user {reference} ({exc.error})"))
                resolved[reference] = {}
                continue
            if user.get("deleted"):
                problems.append(RosterProblem(row.line, f"{reference} is deactivated in Slack"))
            resolved[reference] = user
    ready: list[_Ready] = []
    for row, profile in parsed.rows:
        user = resolved.get(row.user) or {}
        manager_id = (resolved.get(row.manager) or {}).get("id") if row.manager else None
        if not user.get("id"):
            continue
        if manager_id == user["id"]:
            problems.append(RosterProblem(row.line, "manager: someone can't be their own manager"))
            continue
        ready.append((row, user, dataclasses.replace(profile, manager_id=manager_id)))
    if not rejoin:  # reported with every other problem, so one fix-up round is enough
        problems += await deps.db.run(lambda s: _left_the_program(s, team_id=team_id, ready=ready))
    if problems:
        return 0, sorted(problems, key=lambda p: p.line)

    def store(session: Session) -> tuple[int, list[RosterProblem]]:
        # Again in the transaction that saves: someone may have left in the meantime.
        if not rejoin:
            refused = _left_the_program(session, team_id=team_id, ready=ready)
            if refused:
                return 0, refused
        target = None
        if cohort is not None:
            if (problem := _cohort_problem(session, team_id=team_id, name=cohort)) is not None:
                return 0, [RosterProblem(0, problem)]
            target = cohorts.cohort_named(session=session, team_id=team_id, name=cohort)
            refused = _paired_elsewhere(session, team_id=team_id, ready=ready, cohort=target)
            if refused:
                return 0, refused
        now = deps.clock()
        for _, user, profile in ready:
            before = participants.get_participant(
                session=session, team_id=team_id, user_id=user["id"]
            )
            person, _ = participants.save_profile(
                session=session,
                team_id=team_id,
                user_id=user["id"],
                profile=profile,
                timezone=user.get("tz"),
                title=(user.get("profile") or {}).get("title") or None,
                now=now,
            )
            if target is not None:
                cohorts.join(session=session, person=person, cohort_id=target.id, now=now)
            else:
                rejoined = before is not None and before.status == Status.LEFT
                place_new_member(session, person=person, rejoined=rejoined, now=now)
        return len(ready), []

    return await deps.db.run(store)


def _cohort_problem(session: Session, *, team_id: str, name: str) -> str | None:
    found = cohorts.cohort_named(session=session, team_id=team_id, name=name)
    if found is None:
        return f"there is no cohort called {name!r} (see /mentor admin cohort list)"
    if found.status != CohortStatus.RUNNING:
        return f"the cohort {found.name!r} has ended; name a running one"
    return None


def _paired_elsewhere(
    session: Session, *, team_id: str, ready: list[_Ready], cohort: Cohort | None
) -> list[RosterProblem]:
    """A problem for each row whose person is in a live pair of another cohort: moving them
    would split them from their pair."""
    refused: list[RosterProblem] = []
    for row, user, _ in ready:
        for pair in pairs.live_pairs_of(session=session, team_id=team_id, user_id=user["id"]):
            if cohort is not None and pair.cohort_id != cohort.id:
                refused.append(
                    RosterProblem(
                        row.line,
                        f"{row.user} is in a live pair of another cohort; end it or leave them out",
                    )
                )
                break
    return refused


def _left_the_program(
    session: Session, *, team_id: str, ready: list[_Ready]
) -> list[RosterProblem]:
    """A problem for each row whose person has left, dated in the workspace's time zone."""
    place = zone(program.get_program_settings(session=session, team_id=team_id).timezone)
    refused: list[RosterProblem] = []
    for row, user, _ in ready:
        person = participants.get_participant(session=session, team_id=team_id, user_id=user["id"])
        if person is None or person.status != Status.LEFT:
            continue
        when = (
            f" on {person.left_at.astimezone(place).date().isoformat()}" if person.left_at else ""
        )
        refused.append(
            RosterProblem(
                row.line,
                f"{row.user} left the program{when}; add --rejoin to bring them back",
            )
        )
    return refused


async def run_import(
    deps: Deps,
    path: str,
    *,
    out: TextIO,
    err: TextIO,
    rejoin: bool = False,
    team_id: str | None = None,
    cohort: str | None = None,
) -> int:
    """Import a roster file into the bot's workspace (with many workspaces, `team_id`), into
    the cohort named `cohort` if given."""
    if deps.settings.oauth and team_id is None:
        print(
            "import-roster: the bot serves many workspaces (OAuth): say which one with "
            "--team TEAM_ID.",
            file=err,
        )
        return 2
    if not deps.settings.oauth and team_id is not None:
        print(
            "import-roster: --team is for many workspaces (OAuth); with SLACK_BOT_TOKEN the "
            "roster goes to that token's workspace.",
            file=err,
        )
        return 2
    try:
        text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"import-roster: cannot read {path}: {exc}", file=err)
        return 2
    if team_id is None:
        identity = await deps.slack.call("auth.test", budget=60)
        team_id = identity["team_id"]
    count, problems = await import_roster(
        deps, team_id=team_id, text=text, rejoin=rejoin, cohort=cohort
    )
    if problems:
        print(f"import-roster: nothing was imported; fix these rows in {path}:", file=err)
        for problem in problems:
            print(f"  {problem}", file=err)
        return 1
    print(f"import-roster: imported {count} participants from {path}.", file=out)
    return 0
