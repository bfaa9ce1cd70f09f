"""Slack rate limits shared between instances: a 429's Retry-After, per workspace and
method, that every instance sharing the database waits out.

Revision ID: 0003
Revises: 0002
Created: 2026-11-29 10:33:41.580976
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_rate_limit",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("until_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "method"),
    )


def downgrade() -> None:
    op.drop_table("slack_rate_limit")
