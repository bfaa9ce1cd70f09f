"""The schema as the legacy steps 1-6 left it (storage/legacy_migrations.py), on any database.

A SQLite file those steps made is stamped at this revision instead of running it
(storage.migrations adopts it), so this revision must create exactly what they create: the
same tables and columns in the same order, types, NOT NULLs, server defaults, unique
constraints, foreign keys and indexes, under the same names (tests/test_query_plans.py looks
for the index names). tests/test_migrations.py compares the two. Never change it: a change to
the schema is the next revision.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Where a column gets a value when a row leaves it out, as the legacy steps said it.
ZERO = sa.text("0")
NOT_YET_DONE = sa.text("done_at IS NULL")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _text(name: str, *, nullable: bool = True, default: str | None = None) -> sa.Column[str]:
    server_default = None if default is None else sa.text(f"'{default}'")
    return sa.Column(name, sa.String(), nullable=nullable, server_default=server_default)


def _int(name: str, *, nullable: bool = True, default: int | None = None) -> sa.Column[int]:
    server_default = None if default is None else sa.text(str(default))
    return sa.Column(name, sa.Integer(), nullable=nullable, server_default=server_default)


def _time(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _pair_id(*, nullable: bool = False) -> sa.Column[int]:
    return sa.Column("pair_id", sa.Integer(), sa.ForeignKey("pair.id"), nullable=nullable)


def upgrade() -> None:
    # Step 1: participants and processed Slack events.
    op.create_table(
        "participant",
        _id(),
        _text("team_id", nullable=False),
        _text("user_id", nullable=False),
        _text("role", nullable=False),
        _int("level"),
        _text("department"),
        _text("manager_id"),
        sa.Column("topics", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        _text("goals"),
        _int("capacity", nullable=False, default=1),
        _text("title"),
        _text("timezone"),
        _text("status", nullable=False, default="active"),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        _time("left_at"),
        sa.UniqueConstraint("team_id", "user_id"),
    )
    op.create_index("ix_participant_team_id", "participant", ["team_id"])
    # With step 6's columns: what an event said (never people's words), kept until applied.
    op.create_table(
        "processed_event",
        _text("team_id", nullable=False),
        _text("event_id", nullable=False),
        _time("received_at", nullable=False),
        _text("event_type"),
        sa.Column("payload", sa.JSON(), nullable=True),
        _time("done_at"),
        _int("attempts", nullable=False, default=0),
        sa.PrimaryKeyConstraint("team_id", "event_id"),
    )
    op.create_index("ix_processed_event_received_at", "processed_event", ["received_at"])
    op.create_index(
        "ix_processed_event_pending",
        "processed_event",
        ["received_at"],
        sqlite_where=NOT_YET_DONE,
        postgresql_where=NOT_YET_DONE,
    )

    # Step 2: pairs and the outbox, with step 3's rhythm and step 4's pulse due times.
    op.create_table(
        "pair",
        _id(),
        _text("team_id", nullable=False),
        _text("mentor_id", nullable=False),
        _text("mentee_id", nullable=False),
        _text("status", nullable=False, default="introducing"),
        sa.Column("score", sa.Float(), nullable=False, server_default=ZERO),
        _text("explanation", nullable=False, default=""),
        _text("dm_channel_id"),
        _text("intro_ts"),
        sa.Column("next_session_on", sa.Date(), nullable=True),
        _text("end_reason"),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        _time("ended_at"),
        _text("paused_reason"),
        _time("last_activity_at"),
        _time("prompt_due_at"),
        _time("checkin_due_at"),
        _time("stall_due_at"),
        _time("escalate_due_at"),
        _time("nudged_at"),
        _time("pulse_due_at"),
    )
    op.create_index("ix_pair_team_id", "pair", ["team_id"])
    op.create_index("ix_pair_team_status", "pair", ["team_id", "status"])
    op.create_index("ix_pair_prompt_due", "pair", ["prompt_due_at"])
    op.create_index("ix_pair_checkin_due", "pair", ["checkin_due_at"])
    op.create_index("ix_pair_stall_due", "pair", ["stall_due_at"])
    op.create_index("ix_pair_escalate_due", "pair", ["escalate_due_at"])
    op.create_index("ix_pair_dm_channel", "pair", ["team_id", "dm_channel_id"])
    op.create_index("ix_pair_pulse_due", "pair", ["pulse_due_at"])
    # With step 6's claims: who holds a row, until when, since when it was sending.
    op.create_table(
        "outbox",
        _id(),
        _text("team_id", nullable=False),
        _text("key", nullable=False),
        _text("kind", nullable=False),
        _pair_id(nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        _text("status", nullable=False, default="pending"),
        _int("attempts", nullable=False, default=0),
        _text("last_error"),
        _text("channel_id"),
        _text("ts"),
        _time("not_before", nullable=False),
        _time("created_at", nullable=False),
        _time("sent_at"),
        _text("claimed_by"),
        _time("lease_until"),
        _time("sending_since"),
        _text("file_id"),
        sa.UniqueConstraint("team_id", "key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "not_before"])
    op.create_index("ix_outbox_lease", "outbox", ["status", "lease_until"])

    # Step 3: held sessions, prompts, fit answers, program settings.
    op.create_table(
        "held_session",
        _id(),
        _text("team_id", nullable=False),
        _pair_id(),
        sa.Column("held_on", sa.Date(), nullable=False),
        _text("logged_by", nullable=False),
        _time("logged_at", nullable=False),
        sa.UniqueConstraint("pair_id", "held_on"),
    )
    op.create_index("ix_held_session_pair_id", "held_session", ["pair_id"])
    op.create_table(
        "prompt_sent",
        _id(),
        _text("team_id", nullable=False),
        _pair_id(),
        _text("prompt_id", nullable=False),
        _time("sent_at", nullable=False),
    )
    op.create_index("ix_prompt_sent_pair_id", "prompt_sent", ["pair_id"])
    op.create_table(
        "fit_answer",
        _id(),
        _text("team_id", nullable=False),
        _pair_id(),
        _text("user_id", nullable=False),
        sa.Column("good_fit", sa.Boolean(), nullable=False),
        _time("answered_at", nullable=False),
        sa.UniqueConstraint("pair_id", "user_id"),
    )
    # With step 4's program, pulse and summary settings, step 5's week and step 6's author.
    op.create_table(
        "program_settings",
        _text("team_id", nullable=False),
        _int("cadence_days", nullable=False),
        _int("prompt_lead_hours", nullable=False),
        _int("stall_days", nullable=False),
        _int("escalate_after_days", nullable=False),
        _time("updated_at", nullable=False),
        sa.Column("program_start", sa.Date(), nullable=True),
        sa.Column("program_end", sa.Date(), nullable=True),
        _int("pulse_cadence_days", nullable=False, default=14),
        _int("pulse_close_days", nullable=False, default=7),
        _int("summary_weekday", nullable=False, default=0),
        _int("summary_hour", nullable=False, default=9),
        _text("timezone", nullable=False, default="UTC"),
        _int("min_responses", nullable=False, default=3),
        _text("admin_channel"),
        _text("working_days", nullable=False, default="0,1,2,3,4"),
        _text("updated_by"),
        sa.PrimaryKeyConstraint("team_id"),
    )

    # Step 4: the workspace's schedule, pulse surveys and outcomes (step 6: channel problems).
    op.create_table(
        "workspace_schedule",
        _text("team_id", nullable=False),
        _time("summary_due_at"),
        _time("last_summary_at"),
        _time("midpoint_decided_at"),
        _time("end_decided_at"),
        _text("admin_channel_problem"),
        _time("admin_channel_problem_at"),
        sa.PrimaryKeyConstraint("team_id"),
    )
    op.create_table(
        "pulse_survey",
        _id(),
        _text("team_id", nullable=False),
        _pair_id(),
        _text("period", nullable=False),
        _text("channel_id"),
        _text("ts"),
        _time("opened_at", nullable=False),
        _time("closes_at", nullable=False),
        sa.UniqueConstraint("pair_id", "period"),
    )
    op.create_index("ix_pulse_survey_message", "pulse_survey", ["channel_id", "ts"])
    op.create_table(
        "pulse_response",
        _id(),
        _text("team_id", nullable=False),
        sa.Column("survey_id", sa.Integer(), sa.ForeignKey("pulse_survey.id"), nullable=False),
        _text("user_id", nullable=False),
        _int("rating", nullable=False),
        _time("updated_at", nullable=False),
        sa.UniqueConstraint("survey_id", "user_id"),
    )
    op.create_index("ix_pulse_response_survey_id", "pulse_response", ["survey_id"])
    op.create_table(
        "outcome_answer",
        _id(),
        _text("team_id", nullable=False),
        _text("user_id", nullable=False),
        _text("checkpoint", nullable=False),
        _text("progress"),
        _text("change"),
        _time("answered_at", nullable=False),
        sa.UniqueConstraint("team_id", "user_id", "checkpoint"),
    )


def downgrade() -> None:
    for table in (
        "outcome_answer",
        "pulse_response",
        "pulse_survey",
        "workspace_schedule",
        "program_settings",
        "fit_answer",
        "prompt_sent",
        "held_session",
        "outbox",
        "pair",
        "processed_event",
        "participant",
    ):
        op.drop_table(table)
