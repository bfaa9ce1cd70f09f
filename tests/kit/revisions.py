"""Revisions a test adds after the real ones, in a copy of storage/alembic."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from storage.migrations import SCRIPTS, head_revision

_REVISION = """\
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
"""


def scripts_with(directory: Path, *upgrades: str) -> Path:
    """storage/alembic copied into `directory`, with one more revision per `upgrades` (the
    body of its upgrade(), using `op` and `sa`), numbered on from the real head."""
    scripts = directory / "alembic"
    shutil.copytree(SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    down = head_revision()
    for number, body in enumerate(upgrades, start=int(down) + 1):
        revision = f"{number:04d}"
        source = _REVISION.format(
            revision=revision,
            down_revision=down,
            body=textwrap.indent(textwrap.dedent(body).strip(), "    "),
        )
        (scripts / "versions" / f"{revision}_test.py").write_text(source)
        down = revision
    return scripts


def scripts_up_to(directory: Path, last: str) -> Path:
    """storage/alembic copied into `directory` with the real revisions after `last` left out,
    so that `last` is the head there."""
    scripts = directory / "alembic"
    shutil.copytree(SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (scripts / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"):
        if path.name[:4] > last:
            path.unlink()
    return scripts


def revision_count() -> int:
    """How many revisions storage/alembic holds, counted from its files."""
    return len(list((SCRIPTS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")))
