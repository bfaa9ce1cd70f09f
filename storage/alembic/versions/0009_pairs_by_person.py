"""Someone's pairs found through an index on each side of the pair, not by reading every
pair of the workspace: `/mentor status` and the App Home ask it on every request.

Revision ID: 0009
Revises: 0008
Created: 2026-11-29 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_pair_mentor", "pair", ["team_id", "mentor_id"])
    op.create_index("ix_pair_mentee", "pair", ["team_id", "mentee_id"])


def downgrade() -> None:
    op.drop_index("ix_pair_mentee", table_name="pair")
    op.drop_index("ix_pair_mentor", table_name="pair")
