"""The tick's "what is due now" queries read through an index, never the whole table.

The SQL is captured from the storage functions themselves as they run, so a change to them
or to the schema that loses the index fails here rather than as a slow tick at 10,000 pairs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from storage import outbox, pairs, rhythm
from storage.db import Database, make_engine

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
# Older SQLite prints "SEARCH TABLE pair ...", newer "SEARCH pair ...".
_STEP = re.compile(r"^(SEARCH|SCAN) (?:TABLE )?(\w+)\b(.*)$")


@pytest.fixture
def db(tmp_path):
    database = Database(make_engine(f"sqlite:///{tmp_path / 'plans.db'}"))
    database.prepare()
    yield database
    database.close()


def captured_select(db: Database, work) -> tuple[str, tuple]:
    """Run `work` in a session and return the one SELECT it sent, with its parameters."""
    seen: list[tuple[str, tuple]] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, tuple(parameters)))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        db.run_sync(work)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert len(seen) == 1, seen
    return seen[0]


def query_plan(db: Database, statement: str, parameters: tuple) -> list[str]:
    raw = db.engine.raw_connection()
    try:
        sqlite = raw.driver_connection  # Optional: None once closed or invalidated
        assert sqlite is not None
        rows = sqlite.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [row[3] for row in rows.fetchall()]
    finally:
        raw.close()


def assert_searches_by_index(plan: list[str], table: str, index: str) -> None:
    steps = [m.groups() for m in map(_STEP.match, plan) if m and m.group(2) == table]
    # A SCAN, even "SCAN pair USING INDEX ...", walks every row or index entry: the cost
    # would grow with all pairs instead of with the few that are due.
    assert [op for op, _, _ in steps] == ["SEARCH"], plan
    assert re.search(rf"USING (COVERING )?INDEX {index}\b", steps[0][2]), plan


@pytest.mark.parametrize(
    ("column", "index"),
    [
        ("prompt_due_at", "ix_pair_prompt_due"),
        ("checkin_due_at", "ix_pair_checkin_due"),
        ("stall_due_at", "ix_pair_stall_due"),
        ("escalate_due_at", "ix_pair_escalate_due"),
    ],
)
def test_due_pairs_searches_its_due_index(db, column, index):
    assert column in rhythm.DUE_COLUMNS
    statement, parameters = captured_select(
        db, lambda s: rhythm.due_pairs(session=s, column=column, now=NOW, limit=200)
    )
    assert re.search(r"\bFROM pair\b", statement) and column in statement
    plan = query_plan(db, statement, parameters)
    assert_searches_by_index(plan, "pair", index)
    # The index is ordered by (due time, rowid), which is the ORDER BY: no sort step.
    assert not any("TEMP B-TREE" in line for line in plan), plan


def test_due_messages_searches_the_outbox_due_index(db):
    statement, parameters = captured_select(
        db, lambda s: outbox.due_messages(session=s, now=NOW, limit=50)
    )
    assert re.search(r"\bFROM outbox\b", statement)
    plan = query_plan(db, statement, parameters)
    assert_searches_by_index(plan, "outbox", "ix_outbox_due")


def test_someones_live_pairs_are_found_through_the_person_indexes(db):
    # Status and Home ask this on every request: it must not read the workspace's every pair.
    statement, parameters = captured_select(
        db, lambda s: pairs.live_pairs_of(session=s, team_id="T1", user_id="U1")
    )
    plan = query_plan(db, statement, parameters)
    searched = [m.groups() for m in map(_STEP.match, plan) if m and m.group(2) == "pair"]
    assert [op for op, _, _ in searched] == ["SEARCH"] * 3, plan
    indexes = [re.search(r"INDEX (\w+)", rest) for _, _, rest in searched]
    assert sorted(i.group(1) for i in indexes if i) == ["ix_pair_mentee", "ix_pair_mentor"], plan
