"""Learning agreements: per pair, the leader's things to learn and the junior mentor's
things to gain (one to three each, as JSON lists), how many times and by whom they were saved.

Revision ID: 0005
Revises: 0004
Created: 2026-11-29 13:16:35.976552
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("leader_items", sa.JSON(), nullable=False),
        sa.Column("junior_items", sa.JSON(), nullable=False),
        sa.Column("saves", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "pair_id"),
    )


def downgrade() -> None:
    op.drop_table("learning_agreement")
