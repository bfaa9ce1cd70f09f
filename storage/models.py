"""SQLModel tables. Every row carries the Slack team_id, so one file can serve many workspaces."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC: SQLite keeps no offset of its own."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _utc_column(*, nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class Participant(SQLModel, table=True):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True)
    user_id: str
    role: str
    level: int | None = None
    department: str | None = None
    manager_id: str | None = None
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    goals: str | None = None
    capacity: int = 1
    title: str | None = None
    timezone: str | None = None
    status: str = "active"
    created_at: datetime = Field(sa_column=_utc_column())
    updated_at: datetime = Field(sa_column=_utc_column())
    left_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class ProcessedEvent(SQLModel, table=True):
    """Slack event IDs already applied, so a retried delivery changes nothing."""

    __tablename__ = "processed_event"

    team_id: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    received_at: datetime = Field(sa_column=_utc_column())
