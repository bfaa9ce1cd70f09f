"""Write the schema's next revision: `python -m storage.revision "what changes"`.

Change storage/models.py first. Alembic then compares the models with a scratch SQLite
database at the newest revision and writes the difference as
storage/alembic/versions/NNNN_what_changes.py. Read it before committing: autogenerate
cannot see a rename (it writes a drop and an add), a server default, a partial index's WHERE,
or rows that need new values; fill those in by hand, and run `ruff format` on the file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import Script

from storage.db import make_engine
from storage.migrations import SCRIPTS, alembic_config, head_revision, migrate


def next_revision_id(*, scripts: Path = SCRIPTS) -> str:
    """Revisions are numbered 0001, 0002, ... so the files sort in the order they run."""
    return f"{int(head_revision(scripts=scripts)) + 1:04d}"


def new_revision(message: str, *, scripts: Path = SCRIPTS) -> Path:
    """Write the revision that brings the newest one to the models; returns its file."""
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'head.db'}")
        try:
            migrate(engine, scripts=scripts)
            with engine.begin() as conn:
                written = command.revision(
                    alembic_config(conn, scripts=scripts),
                    message=message,
                    autogenerate=True,
                    rev_id=next_revision_id(scripts=scripts),
                )
        finally:
            engine.dispose()
    if not isinstance(written, Script):
        raise RuntimeError(f"Alembic wrote no single revision: {written!r}")
    return Path(written.path)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip() or argv[0].startswith("-"):
        print('usage: python -m storage.revision "what changes"', file=sys.stderr)
        return 2
    print(new_revision(argv[0].strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
