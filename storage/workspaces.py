"""Workspaces as a whole: which Enterprise Grid org each belongs to (OAuth mode), stopping
everything decided for one at once (its app was uninstalled), and deleting all of one's rows
(`reverse-mentor delete-workspace`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlmodel import Session, SQLModel, col

from storage.models import SLACK_BOTS, SLACK_INSTALLATIONS, OutboxMessage, Workspace

# slack_sdk's installation tables: a workspace-level installation names its workspace in
# team_id; an org-wide one has none (it is the org's, and stays).
SLACK_TEAM_TABLES = (SLACK_INSTALLATIONS.name, SLACK_BOTS.name)


def note_workspace(
    *, session: Session, team_id: str, enterprise_id: str | None, now: datetime
) -> None:
    """Remember the org `team_id` belongs to (None outside Enterprise Grid)."""
    row = session.get(Workspace, team_id)
    if row is None:
        session.add(Workspace(team_id=team_id, enterprise_id=enterprise_id, seen_at=now))
    elif row.enterprise_id != enterprise_id:
        row.enterprise_id, row.seen_at = enterprise_id, now
        session.add(row)


def enterprise_of(*, session: Session, team_id: str) -> str | None:
    row = session.get(Workspace, team_id)
    return row.enterprise_id if row is not None else None


def teams_of_enterprise(*, session: Session, enterprise_id: str) -> list[str]:
    return list(
        session.execute(
            select(col(Workspace.team_id)).where(col(Workspace.enterprise_id) == enterprise_id)
        )
        .scalars()
        .all()
    )


def stop_sending(*, session: Session, team_ids: Iterable[str], reason: str) -> int:
    """Nothing more goes out to these workspaces: every message decided for them and not
    yet sent (pending, or held by a sender that has not finished with it) is skipped.
    Returns how many were."""
    teams = list(team_ids)
    if not teams:
        return 0
    skipped: int = session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.team_id).in_(teams),
            # "claimed": held before sending begins, where senders claim rows in batches.
            col(OutboxMessage.status).in_(("pending", "claimed", "sending")),
        )
        .values(status="skipped", last_error=reason, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return skipped


def _team_tables() -> list[Table]:
    """Every table with a team_id (slack_sdk's installation tables too), children before
    parents (foreign keys)."""
    return [t for t in reversed(SQLModel.metadata.sorted_tables) if "team_id" in t.c]


def workspace_counts(*, session: Session, team_id: str) -> dict[str, int]:
    """How many rows each table holds for `team_id` (tables with none are left out)."""
    counts: dict[str, int] = {}
    for each in _team_tables():
        found = session.execute(
            select(func.count()).select_from(each).where(each.c.team_id == team_id)
        ).scalar_one()
        if found:
            counts[each.name] = int(found)
    return counts


def delete_workspace(*, session: Session, team_id: str) -> dict[str, int]:
    """Delete every row of `team_id`: its people, pairs, answers, messages, settings, event
    records and its workspace-level installation (an org-wide installation is the org's and
    stays). Returns how many rows went, per table."""
    deleted: dict[str, int] = {}
    for each in _team_tables():
        gone: int = session.exec(delete(each).where(each.c.team_id == team_id)).rowcount
        if gone:
            deleted[each.name] = gone
    return deleted
