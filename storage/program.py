"""Per-workspace program settings; a workspace that never changed them gets the defaults."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from bot.cadence import MONDAY_TO_FRIDAY, ProgramSettings
from bot.cohort import CohortFacts, cohort_settings
from bot.program_settings import parse_user_ids, parse_weekdays, weekdays_text
from storage import cohorts
from storage.memo import recall
from storage.models import Cohort, ProgramSettingsRow, WorkspaceSchedule

# The settings a workspace stores; the working-day hours are fixed for everyone, and the
# program dates belong to each cohort.
STORED = tuple(
    f.name
    for f in dataclasses.fields(ProgramSettings)
    if f.name not in ("work_start_hour", "work_end_hour", "program_start", "program_end")
)


def facts_of(row: Cohort) -> CohortFacts:
    return CohortFacts(
        name=row.name,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        cadence_days=row.cadence_days,
        stall_days=row.stall_days,
        escalate_after_days=row.escalate_after_days,
        pulse_cadence_days=row.pulse_cadence_days,
    )


def workspace_settings(*, session: Session, team_id: str) -> ProgramSettings:
    """The workspace's own settings, without any cohort's dates or rhythm."""
    row = session.get(ProgramSettingsRow, team_id)
    if row is None:
        return ProgramSettings()
    values = {name: getattr(row, name) for name in STORED}
    # Stored as text ("6,0,1,2,3"); anything unreadable is the usual week.
    values["working_days"] = parse_weekdays(row.working_days) or MONDAY_TO_FRIDAY
    values["program_admins"] = parse_user_ids(row.program_admins)
    return ProgramSettings(**values)


def get_program_settings(
    *, session: Session, team_id: str, cohort_id: int | None = None
) -> ProgramSettings:
    """The settings of one cohort (`cohort_id`), or of the workspace's current cohort: the
    workspace's settings with that cohort's dates and own rhythm laid over them."""
    return recall(
        session,
        ("program_settings", team_id, cohort_id),
        lambda: _program_settings(session, team_id, cohort_id),
    )


def _program_settings(session: Session, team_id: str, cohort_id: int | None) -> ProgramSettings:
    workspace = workspace_settings(session=session, team_id=team_id)
    if cohort_id is not None:
        row = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=cohort_id)
    else:
        row = cohorts.current_cohort(session=session, team_id=team_id)
    return cohort_settings(workspace, facts_of(row) if row is not None else None)


def save_program_settings(
    *,
    session: Session,
    team_id: str,
    settings: ProgramSettings,
    now: datetime,
    saved_by: str | None = None,
) -> None:
    values = {name: getattr(settings, name) for name in STORED}
    values["working_days"] = weekdays_text(settings.working_days)
    values["program_admins"] = ",".join(settings.program_admins)
    row = session.get(ProgramSettingsRow, team_id)
    if row is None:
        row = ProgramSettingsRow(team_id=team_id, updated_at=now, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
    row.updated_by = saved_by or row.updated_by
    session.add(row)
    # The settings form shows, and saves, the current cohort's dates (dates given to a
    # workspace with no cohort yet start its first).
    current = cohorts.current_cohort(session=session, team_id=team_id)
    if current is None and (settings.program_start or settings.program_end):
        current = cohorts.first_cohort(session=session, team_id=team_id, now=now)
    if current is not None:
        current.starts_on, current.ends_on = settings.program_start, settings.program_end
        session.add(current)
    # The weekly summary's next time came from the old day, hour and zone: recompute it.
    schedule = session.get(WorkspaceSchedule, team_id)
    if schedule is not None and schedule.summary_due_at is not None:
        schedule.summary_due_at = None
        session.add(schedule)


def schedule_of(*, session: Session, team_id: str) -> WorkspaceSchedule:
    """The workspace's schedule row, created on first use."""
    row = session.get(WorkspaceSchedule, team_id)
    if row is None:
        row = WorkspaceSchedule(team_id=team_id)
        session.add(row)
        session.flush()
    return row


def summary_due_at(*, session: Session, team_id: str) -> datetime | None:
    """The workspace's next summary time, read only (None: not set, or no schedule yet)."""
    row = session.get(WorkspaceSchedule, team_id)
    return row.summary_due_at if row is not None else None


def settings_saved_by(*, session: Session, team_id: str) -> str | None:
    row = session.get(ProgramSettingsRow, team_id)
    return row.updated_by if row is not None else None


def note_admin_channel_problem(
    *, session: Session, team_id: str, problem: str, now: datetime
) -> bool:
    """Remember why the admin channel takes no posts; True when this is news (the problem
    was not known yet, or it changed)."""
    row = schedule_of(session=session, team_id=team_id)
    if row.admin_channel_problem == problem:
        return False
    row.admin_channel_problem, row.admin_channel_problem_at = problem, now
    session.add(row)
    return True


def clear_admin_channel_problem(*, session: Session, team_id: str) -> bool:
    """The admin channel works (a post went through, the bot was invited): True if a
    problem was recorded until now."""
    row = session.get(WorkspaceSchedule, team_id)
    if row is None or row.admin_channel_problem is None:
        return False
    row.admin_channel_problem = row.admin_channel_problem_at = None
    session.add(row)
    return True


def admin_channel_problem(*, session: Session, team_id: str) -> str | None:
    row = session.get(WorkspaceSchedule, team_id)
    return row.admin_channel_problem if row is not None else None


# Each next workspace is one search of the participant.team_id index ("loose index scan"):
# a plain DISTINCT reads the whole index, 20,000 entries for 10,000 pairs, twice a tick.
_WORKSPACES = text(
    """
    WITH RECURSIVE team(id) AS (
        SELECT MIN(team_id) FROM participant
        UNION ALL
        SELECT (SELECT MIN(p.team_id) FROM participant AS p WHERE p.team_id > team.id)
        FROM team WHERE team.id IS NOT NULL
    )
    SELECT id FROM team WHERE id IS NOT NULL
    """
)


def workspaces(*, session: Session) -> list[str]:
    """Every workspace with anyone in it: the few rows the tick checks for workspace events."""
    return [row[0] for row in session.execute(_WORKSPACES).all()]
