"""SQLModel tables. Every row carries the Slack team_id, so one file can serve many workspaces."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Protocol

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC: SQLite keeps no offset of its own."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _utc_column(*, nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: _Row) -> int:
    """The id of a row read from the database (or flushed to it). The models say `int | None`
    because a row built in Python has none until it is saved; a saved one always has one."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id: it was never saved")
    return row.id


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
    # The cohort whose pool they are in; None while no cohort is running for them to join.
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)


class Cohort(SQLModel, table=True):
    """One run of the program in a workspace: a name, dates, its own rhythm where an admin
    set one (None follows the workspace's settings), and which checkpoints were decided."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True)
    name: str
    starts_on: date | None = None
    ends_on: date | None = None
    signups_open: bool = True  # new signups join the newest cohort that is open for them
    status: str = "running"  # running -> ended (its end checkpoint came) -> closed
    cadence_days: int | None = None
    stall_days: int | None = None
    escalate_after_days: int | None = None
    pulse_cadence_days: int | None = None
    midpoint_decided_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    end_decided_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    created_at: datetime = Field(sa_column=_utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class CohortMember(SQLModel, table=True):
    """Everyone who was ever in a cohort's pool, and every cohort a pair ran in: a person or
    pair that moves on to the next cohort still counts in the one it came from."""

    __tablename__ = "cohort_member"

    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True)
    user_id: str = Field(primary_key=True)
    team_id: str


class PairCohort(SQLModel, table=True):
    __tablename__ = "pair_cohort"

    pair_id: int = Field(foreign_key="pair.id", primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True)
    team_id: str


class ProcessedEvent(SQLModel, table=True):
    """Slack event IDs already applied, so a retried delivery changes nothing."""

    __tablename__ = "processed_event"
    __table_args__ = (
        Index("ix_processed_event_received_at", "received_at"),
        # Only events not yet applied: the inbox reads these, and they are few.
        Index(
            "ix_processed_event_pending",
            "received_at",
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    team_id: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    received_at: datetime = Field(sa_column=_utc_column())
    # What the event said (never people's words), kept until it has been applied.
    event_type: str | None = None
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    attempts: int = 0


class Pair(SQLModel, table=True):
    """A junior mentor and a leader mentee. Ended pairs stay, so nobody is paired twice."""

    __tablename__ = "pair"
    __table_args__ = (
        Index("ix_pair_team_status", "team_id", "status"),
        Index("ix_pair_dm_channel", "team_id", "dm_channel_id"),
        # Someone's pairs (status, Home, every command about "my pair"), without reading the
        # workspace's every pair.
        Index("ix_pair_mentor", "team_id", "mentor_id"),
        Index("ix_pair_mentee", "team_id", "mentee_id"),
        Index("ix_pair_prompt_due", "prompt_due_at"),
        Index("ix_pair_checkin_due", "checkin_due_at"),
        Index("ix_pair_stall_due", "stall_due_at"),
        Index("ix_pair_escalate_due", "escalate_due_at"),
        Index("ix_pair_pulse_due", "pulse_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True)
    mentor_id: str
    mentee_id: str
    status: str = "introducing"  # introducing -> active (<-> paused) -> ended; or intro_failed
    score: float = 0.0
    explanation: str = ""
    # The cohort the pair runs in now: a pair that continues moves to the next one.
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    dm_channel_id: str | None = None
    intro_ts: str | None = None
    next_session_on: date | None = None
    end_reason: str | None = None
    created_at: datetime = Field(sa_column=_utc_column())
    updated_at: datetime = Field(sa_column=_utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    # The rhythm. Each *_due_at is indexed, so a tick reads only what is due.
    paused_reason: str | None = None  # "participant" or "delivery_failed"
    last_activity_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    prompt_due_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    checkin_due_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    stall_due_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    escalate_due_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    nudged_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    pulse_due_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class HeldSession(SQLModel, table=True):
    """A session a pair says it held: the date and who logged it, never what was said."""

    __tablename__ = "held_session"
    __table_args__ = (UniqueConstraint("pair_id", "held_on"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    pair_id: int = Field(foreign_key="pair.id", index=True)
    held_on: date
    logged_by: str
    logged_at: datetime = Field(sa_column=_utc_column())


class LearningAgreement(SQLModel, table=True):
    """What a pair agreed to get from the pairing: the leader's one to three things to learn
    and the junior mentor's one to three to gain. Only the two of them see it."""

    __tablename__ = "learning_agreement"
    __table_args__ = (UniqueConstraint("team_id", "pair_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    pair_id: int = Field(foreign_key="pair.id")
    leader_items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    junior_items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    saves: int = 0  # how many times it was saved: numbers each save's confirmation
    updated_by: str  # who saved it last
    updated_at: datetime = Field(sa_column=_utc_column())


class PromptSent(SQLModel, table=True):
    """Which library prompts a pair has had, so none repeats before the topics run out."""

    __tablename__ = "prompt_sent"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    pair_id: int = Field(foreign_key="pair.id", index=True)
    prompt_id: str
    sent_at: datetime = Field(sa_column=_utc_column())


class FitAnswer(SQLModel, table=True):
    """Each person's private answer to "is this pairing a good fit?"."""

    __tablename__ = "fit_answer"
    __table_args__ = (UniqueConstraint("pair_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    pair_id: int = Field(foreign_key="pair.id")
    user_id: str
    good_fit: bool
    answered_at: datetime = Field(sa_column=_utc_column())


class ProgramSettingsRow(SQLModel, table=True):
    """A workspace's own program settings; a workspace without a row uses the defaults."""

    __tablename__ = "program_settings"

    team_id: str = Field(primary_key=True)
    cadence_days: int
    prompt_lead_hours: int
    stall_days: int
    escalate_after_days: int
    updated_at: datetime = Field(sa_column=_utc_column())
    pulse_cadence_days: int = 14
    pulse_close_days: int = 7
    summary_weekday: int = 0
    summary_hour: int = 9
    timezone: str = "UTC"
    min_responses: int = 3
    admin_channel: str | None = None
    updated_by: str | None = None  # the admin who last saved: told when the channel breaks
    working_days: str = "0,1,2,3,4"  # weekday numbers, 0 = Monday
    # User IDs named admins of this workspace's program (OAuth mode), comma-separated.
    program_admins: str = ""
    # A preparation guide before each person's first session; on unless an admin turns it
    # off (rows saved before there was a choice keep them on).
    send_guides: bool = True


class Workspace(SQLModel, table=True):
    """A workspace the bot has heard from (OAuth mode), and the Enterprise Grid org it
    belongs to: an org-wide installation's token speaks for every workspace of its org, and
    outbox rows name only the workspace."""

    __tablename__ = "workspace"

    team_id: str = Field(primary_key=True)
    enterprise_id: str | None = Field(default=None, index=True)
    seen_at: datetime = Field(sa_column=_utc_column())


class SlackRateLimit(SQLModel, table=True):
    """Until when Slack asked us (HTTP 429, Retry-After) to leave a method alone, for a
    workspace ("" with one workspace): kept here so every instance sharing the database
    waits, not only the one that was told."""

    __tablename__ = "slack_rate_limit"

    team_id: str = Field(primary_key=True)
    method: str = Field(primary_key=True)
    until_at: datetime = Field(sa_column=_utc_column())


class SlackPace(SQLModel, table=True):
    """The pace of one of Slack's rate limits, shared by every instance: a token bucket per
    workspace and `bucket` (a Web API method, or chat.postMessage and its channel), kept as
    the moment the bucket would be full again if no one called (the generic cell rate
    algorithm's theoretical arrival time), in whole microseconds of wall-clock time since
    the epoch: integers add up exactly on both databases, where floats would drift. A call
    reserves its slot by moving it on, in one atomic statement (storage/rate_limits.py)."""

    __tablename__ = "slack_pace"

    team_id: str = Field(primary_key=True)
    bucket: str = Field(primary_key=True)
    next_free_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class WorkspaceSchedule(SQLModel, table=True):
    """Workspace-wide moments the tick watches: the weekly summary (each cohort keeps its own
    checkpoints)."""

    __tablename__ = "workspace_schedule"

    team_id: str = Field(primary_key=True)
    summary_due_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    last_summary_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    # Why the bot cannot post in the admin channel (Slack's error), until a post works again.
    admin_channel_problem: str | None = None
    admin_channel_problem_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )


class PulseSurvey(SQLModel, table=True):
    """One pulse question posted in a pair's group DM; reactions on its message are ratings."""

    __tablename__ = "pulse_survey"
    __table_args__ = (
        UniqueConstraint("pair_id", "period"),
        Index("ix_pulse_survey_message", "channel_id", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    pair_id: int = Field(foreign_key="pair.id")
    period: str  # "session:2026-03-11" or "cadence:2026-03-16": one survey per period
    channel_id: str | None = None
    ts: str | None = None  # the survey message; reactions arrive addressed to it
    opened_at: datetime = Field(sa_column=_utc_column())
    closes_at: datetime = Field(sa_column=_utc_column())


class PulseResponse(SQLModel, table=True):
    """Someone's current rating for a survey (last reaction or button wins)."""

    __tablename__ = "pulse_response"
    __table_args__ = (UniqueConstraint("survey_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    survey_id: int = Field(foreign_key="pulse_survey.id", index=True)
    user_id: str
    rating: int  # 1 (lowest) to 5
    updated_at: datetime = Field(sa_column=_utc_column())


class OutcomeAnswer(SQLModel, table=True):
    """At the midpoint and the end: progress on one's own goal, and a leader's one change."""

    __tablename__ = "outcome_answer"
    __table_args__ = (UniqueConstraint("team_id", "cohort_id", "user_id", "checkpoint"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    cohort_id: int = Field(foreign_key="cohort.id")
    user_id: str
    checkpoint: str  # "midpoint" or "end"
    progress: str | None = None  # "not_yet", "some", "achieved"
    change: str | None = None  # leaders only, optional; shown to admins only anonymously
    answered_at: datetime = Field(sa_column=_utc_column())


class AgreementItemAnswer(SQLModel, table=True):
    """At the midpoint and the end: progress on each of one's own learning-agreement items
    (a leader on the things to learn, the junior mentor on the things to gain), per pair and
    item, by its place in that side's list. A later press replaces the answer."""

    __tablename__ = "agreement_item_answer"
    __table_args__ = (
        UniqueConstraint("pair_id", "cohort_id", "user_id", "checkpoint", "item_index"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    pair_id: int = Field(foreign_key="pair.id")
    cohort_id: int = Field(foreign_key="cohort.id")  # a pair that continues is asked again
    user_id: str
    checkpoint: str  # "midpoint" or "end"
    item_index: int  # 0, 1 or 2: the item's place in the answerer's own side of the agreement
    progress: str  # "not_yet", "some", "achieved"
    answered_at: datetime = Field(sa_column=_utc_column())


class OutboxMessage(SQLModel, table=True):
    """A message the bot has decided to send. The unique key makes the decision happen once."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_lease", "status", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    key: str
    kind: str
    pair_id: int | None = Field(default=None, foreign_key="pair.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # pending -> sending (claimed) -> sent; or failed, skipped (moot), expired (stale)
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    channel_id: str | None = None
    ts: str | None = None
    not_before: datetime = Field(sa_column=_utc_column())
    created_at: datetime = Field(sa_column=_utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    # One sender at a time: who claimed the row, until when, and since when it was sending.
    claimed_by: str | None = None
    lease_until: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    sending_since: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    file_id: str | None = None  # a file share: the file Slack gave us, to look for after a crash


# slack_sdk's SQLAlchemy installation and OAuth state stores keep these (OAuth mode: each
# workspace's installation, its bot token, and the states of install links). They are
# declared here with slack_sdk's own table builders, so that the schema, its migrations and
# the schema tests know them like any other table; the stores build the same tables on
# MetaData of their own. slack_installations and slack_bots name the workspace in team_id
# (none for an org-wide installation).
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    SQLModel.metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(
    SQLModel.metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    SQLModel.metadata, SQLAlchemyOAuthStateStore.default_table_name
)
