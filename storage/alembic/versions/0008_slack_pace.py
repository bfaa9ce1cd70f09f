"""Slack's rate limits paced, not only obeyed: each workspace's token bucket per Web API
method (and per channel for chat.postMessage), shared by every instance, so the bot waits
for its slot instead of waiting for Slack to answer 429.

Revision ID: 0008
Revises: 0007
Created: 2026-11-29 15:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_pace",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("next_free_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "bucket"),
    )


def downgrade() -> None:
    op.drop_table("slack_pace")
