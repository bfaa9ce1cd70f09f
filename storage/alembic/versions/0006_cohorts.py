"""Cohorts: a workspace runs a sequence of cohorts, each with its own dates, rhythm and
checkpoints. Participants, pairs and outcome answers name their cohort.

A workspace that ran the one program before this revision gets "Cohort 1" with the
program's dates and whatever checkpoints it had decided (then dropped from
workspace_schedule), and every participant, pair and outcome answer it had joins it
(cohort_member and pair_cohort keep every cohort a person or pair has been in). A
program whose end had been decided is an ended cohort that takes no more signups.

Revision ID: 0006
Revises: 0005
Created: 2026-11-29 14:55:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_COHORT = "Cohort 1"


def _cohort_id(table: str) -> sa.Column[int]:
    # Named as PostgreSQL names a reference declared in a model (SQLite's batch copy needs one).
    reference = sa.ForeignKey("cohort.id", name=f"{table}_cohort_id_fkey")
    return sa.Column("cohort_id", sa.Integer(), reference, nullable=True)


def upgrade() -> None:
    op.create_table(
        "cohort",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("signups_open", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.Column("stall_days", sa.Integer(), nullable=True),
        sa.Column("escalate_after_days", sa.Integer(), nullable=True),
        sa.Column("pulse_cadence_days", sa.Integer(), nullable=True),
        sa.Column("midpoint_decided_at", sa.DateTime(), nullable=True),
        sa.Column("end_decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("team_id", "name"),
    )
    op.create_index("ix_cohort_team_id", "cohort", ["team_id"])
    with op.batch_alter_table("participant") as batch:
        batch.add_column(_cohort_id("participant"))
        batch.create_index("ix_participant_cohort_id", ["cohort_id"])
    with op.batch_alter_table("pair") as batch:
        batch.add_column(_cohort_id("pair"))
        batch.create_index("ix_pair_cohort_id", ["cohort_id"])

    op.create_table(
        "cohort_member",
        sa.Column("cohort_id", sa.Integer(), sa.ForeignKey("cohort.id"), primary_key=True),
        sa.Column("user_id", sa.String(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
    )
    op.create_table(
        "pair_cohort",
        sa.Column("pair_id", sa.Integer(), sa.ForeignKey("pair.id"), primary_key=True),
        sa.Column("cohort_id", sa.Integer(), sa.ForeignKey("cohort.id"), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
    )

    _first_cohorts()

    # outcome_answer gains a cohort in its unique key. Its old key has no name to drop by on
    # SQLite, so the table is built anew and the answers copied into it.
    op.create_table(
        "outcome_answer_new",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), sa.ForeignKey("cohort.id"), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("checkpoint", sa.String(), nullable=False),
        sa.Column("progress", sa.String(), nullable=True),
        sa.Column("change", sa.String(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "cohort_id", "user_id", "checkpoint"),
    )
    op.execute(
        "INSERT INTO outcome_answer_new (id, team_id, cohort_id, user_id, checkpoint, "
        "progress, change, answered_at) "
        "SELECT a.id, a.team_id, c.id, a.user_id, a.checkpoint, a.progress, a.change, "
        "a.answered_at FROM outcome_answer a JOIN cohort c ON c.team_id = a.team_id"
    )
    op.drop_table("outcome_answer")
    op.rename_table("outcome_answer_new", "outcome_answer")
    if op.get_bind().dialect.name == "postgresql":
        # The copied ids keep counting from where the old table's sequence had got to.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('outcome_answer', 'id'), "
            "COALESCE((SELECT MAX(id) FROM outcome_answer), 0) + 1, false)"
        )
        op.execute("ALTER SEQUENCE outcome_answer_new_id_seq RENAME TO outcome_answer_id_seq")
        op.execute(
            "ALTER TABLE outcome_answer RENAME CONSTRAINT outcome_answer_new_pkey "
            "TO outcome_answer_pkey"
        )
        op.execute(
            "ALTER TABLE outcome_answer RENAME CONSTRAINT "
            "outcome_answer_new_team_id_cohort_id_user_id_checkpoint_key "
            "TO outcome_answer_team_id_cohort_id_user_id_checkpoint_key"
        )
        op.execute(
            "ALTER TABLE outcome_answer RENAME CONSTRAINT outcome_answer_new_cohort_id_fkey "
            "TO outcome_answer_cohort_id_fkey"
        )

    # The cohort holds its dates and its checkpoints now: one place for each.
    with op.batch_alter_table("workspace_schedule") as batch:
        batch.drop_column("midpoint_decided_at")
        batch.drop_column("end_decided_at")
    with op.batch_alter_table("program_settings") as batch:
        batch.drop_column("program_start")
        batch.drop_column("program_end")


def _first_cohorts() -> None:
    """Every workspace with anything stored gets "Cohort 1", holding all it had."""
    bind = op.get_bind()
    teams = {
        team
        for table in ("participant", "pair", "program_settings", "outcome_answer")
        for (team,) in bind.execute(sa.text(f"SELECT DISTINCT team_id FROM {table}"))
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    for team in sorted(teams):
        dates = bind.execute(
            sa.text("SELECT program_start, program_end FROM program_settings WHERE team_id = :t"),
            {"t": team},
        ).first()
        decided = bind.execute(
            sa.text(
                "SELECT midpoint_decided_at, end_decided_at FROM workspace_schedule "
                "WHERE team_id = :t"
            ),
            {"t": team},
        ).first()
        midpoint_at, end_at = decided if decided is not None else (None, None)
        bind.execute(
            sa.text(
                "INSERT INTO cohort (team_id, name, starts_on, ends_on, signups_open, status, "
                "midpoint_decided_at, end_decided_at, created_at) VALUES (:t, :name, :start, "
                ":end, :open, :status, :midpoint, :end_at, :now)"
            ),
            {
                "t": team,
                "name": FIRST_COHORT,
                "start": dates[0] if dates is not None else None,
                "end": dates[1] if dates is not None else None,
                "open": end_at is None,
                "status": "running" if end_at is None else "ended",
                "midpoint": midpoint_at,
                "end_at": end_at,
                "now": now,
            },
        )
    for table in ("participant", "pair"):
        bind.execute(
            sa.text(
                f"UPDATE {table} SET cohort_id = "
                f"(SELECT c.id FROM cohort c WHERE c.team_id = {table}.team_id)"
            )
        )
    bind.execute(
        sa.text(
            "INSERT INTO cohort_member (cohort_id, user_id, team_id) "
            "SELECT cohort_id, user_id, team_id FROM participant"
        )
    )
    bind.execute(
        sa.text(
            "INSERT INTO pair_cohort (pair_id, cohort_id, team_id) "
            "SELECT id, cohort_id, team_id FROM pair"
        )
    )


def downgrade() -> None:
    raise NotImplementedError("cohorts cannot be folded back into one program")
