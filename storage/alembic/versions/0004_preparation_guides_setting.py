"""Preparation guides: whether a workspace sends each person a short guide before their
first session of a cohort. Workspaces that saved their settings before keep them on.

Revision ID: 0004
Revises: 0003
Created: 2026-11-29 12:26:34.482855
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("program_settings", schema=None) as batch_op:
        # sa.true() is TRUE on PostgreSQL and 1 on SQLite.
        batch_op.add_column(
            sa.Column("send_guides", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("program_settings", schema=None) as batch_op:
        batch_op.drop_column("send_guides")
