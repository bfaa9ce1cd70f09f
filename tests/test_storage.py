"""Storage: migrations, SQLite settings, and workspace scoping; the `db` tests run on SQLite
and, when TEST_DATABASE_URL names a server, on PostgreSQL."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from bot.profiles import Profile, Role, Status
from storage import events, outbox, participants
from storage import legacy_migrations as legacy
from storage.db import Database, make_engine
from storage.migrations import current_revision, head_revision, migrate
from storage.models import ProcessedEvent
from tests.kit.databases import sqlite_only
from tests.kit.revisions import scripts_with

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROFILE = Profile(
    role=Role.JUNIOR,
    level=2,
    department="Finance",
    manager_id=None,
    topics=("ai",),
    goals="Teach AI",
    capacity=2,
)


def _save(db: Database, *, team: str = "T1"):
    return db.run_sync(
        lambda s: participants.save_profile(
            session=s,
            team_id=team,
            user_id="U1",
            profile=PROFILE,
            timezone=None,
            title=None,
            now=NOW,
        )
    )


@pytest.fixture
def db(database_url):
    database = Database(make_engine(database_url))
    database.prepare()
    yield database
    database.close()


@sqlite_only
def test_every_connection_uses_wal_and_a_busy_timeout(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000


def test_migrated_schema_matches_the_models(db):
    inspector = inspect(db.engine)
    for table in SQLModel.metadata.sorted_tables:
        in_db = {c["name"] for c in inspector.get_columns(table.name)}
        assert in_db == {c.name for c in table.columns}, table.name


def test_migrate_is_idempotent_and_keeps_rows(db):
    _save(db, team="T1")
    assert migrate(db.engine).after == head_revision()
    assert db.run_sync(
        lambda s: participants.get_participant(session=s, team_id="T1", user_id="U1")
    )


def test_an_older_file_is_upgraded_without_losing_rows(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert legacy.migrate(engine, legacy.MIGRATIONS[:1]) == 1
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO participant (team_id, user_id, role, created_at, updated_at) "
            "VALUES ('T1', 'U1', 'junior', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    later = scripts_with(
        tmp_path, 'op.add_column("participant", sa.Column("nickname", sa.String()))'
    )
    assert migrate(engine, scripts=later).after == head_revision(scripts=later)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT user_id, nickname FROM participant").all()
    assert rows == [("U1", None)]
    engine.dispose()


def test_a_failed_step_leaves_the_previous_version(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    migrate(engine)
    broken = scripts_with(
        tmp_path, 'op.create_table("x", sa.Column("a", sa.Integer()))\nop.execute("NOT SQL")'
    )
    with pytest.raises(OperationalError):
        migrate(engine, scripts=broken)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name='x'").all() == []
    engine.dispose()


def test_rows_are_scoped_by_team(db):
    for team in ("T1", "T2"):
        _save(db, team=team)
    db.run_sync(
        lambda s: participants.set_status(
            session=s, team_id="T1", user_id="U1", status=Status.PAUSED, now=NOW
        )
    )
    t1 = db.run_sync(lambda s: participants.get_participant(session=s, team_id="T1", user_id="U1"))
    t2 = db.run_sync(lambda s: participants.get_participant(session=s, team_id="T2", user_id="U1"))
    assert (t1.status, t2.status) == ("paused", "active")
    counts = db.run_sync(lambda s: participants.count_participants(session=s, team_id="T2"))
    assert counts == {("junior", "active"): 1}


def test_timestamps_come_back_aware_utc(db):
    saved, _ = _save(db, team="T1")
    again = db.run_sync(
        lambda s: participants.get_participant(session=s, team_id="T1", user_id="U1")
    )
    assert again.created_at == NOW and again.created_at.tzinfo is not None


def test_event_ids_claimed_once_and_purged_after_retention(db):
    claim = lambda event_id, now=NOW: db.run_sync(  # noqa: E731
        lambda s: events.claim_event(session=s, team_id="T1", event_id=event_id, now=now)
    )
    assert claim("Ev1") is True
    assert claim("Ev1") is False
    assert claim("Ev2", NOW + timedelta(days=3)) is True
    purged = db.run_sync(
        lambda s: events.purge_events(session=s, older_than=NOW + timedelta(days=1))
    )
    assert purged == 1
    assert claim("Ev1") is True


def test_a_decision_is_recorded_once_and_says_so(db):
    # The callers act only on True (a prompt remembered, an event applied): both answers must
    # be right on both databases. Counted independently, from the table itself.
    def enqueue(key: str) -> bool:
        return db.run_sync(
            lambda s: outbox.enqueue(session=s, team_id="T1", key=key, kind="prompt", now=NOW)
        )

    assert [enqueue("a"), enqueue("a"), enqueue("b")] == [True, False, True]
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key FROM outbox ORDER BY key").scalars().all()
    assert rows == ["a", "b"]


def test_a_row_added_in_the_session_counts_before_an_insert_unless_new(db):
    # insert_new runs a statement built once on the table, outside the ORM; what the session
    # holds unwritten must still be written first (through Session.execute, not a bare
    # connection, which would not), as the ORM's own statement would.
    def add_then_insert(s):
        s.add(ProcessedEvent(team_id="T1", event_id="Ev1", received_at=NOW))
        return events.claim_event(session=s, team_id="T1", event_id="Ev1", now=NOW)

    assert db.run_sync(add_then_insert) is False
    with db.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM processed_event").scalar_one()
    assert count == 1


@sqlite_only
def test_a_locked_database_makes_writers_wait_not_fail(db):
    # Another writer (say, a second process) holds the write lock.
    blocker = sqlite3.connect(str(db.engine.url.database), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    outcome: list = []

    def write() -> None:
        try:
            outcome.append(_save(db, team="T1"))
        except Exception as exc:  # the test fails below, with the reason
            outcome.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=0.5)
    still_waiting = writer.is_alive() and not outcome
    blocker.execute("COMMIT")
    blocker.close()
    writer.join(timeout=30)
    assert still_waiting, outcome
    [(saved, created)] = outcome
    assert created is True


def test_pairs_already_under_way_get_a_pulse_due_time_on_upgrade(tmp_path):
    from sqlmodel import Session, select

    from storage.models import Pair

    engine = make_engine(f"sqlite:///{tmp_path / 'v3.db'}")
    assert legacy.migrate(engine, legacy.MIGRATIONS[:3]) == 3
    with engine.begin() as conn:
        for status in ("active", "ended"):
            conn.exec_driver_sql(
                "INSERT INTO pair (team_id, mentor_id, mentee_id, status, created_at, "
                "updated_at, last_activity_at) VALUES ('T1', 'UJ', 'UL', ?, "
                "'2026-03-02 09:00:00.000000', '2026-03-02 09:00:00.000000', "
                "'2026-03-05 10:30:00.000000')",
                (status,),
            )
    migrate(engine)
    with Session(engine) as session:
        due = {p.status: p.pulse_due_at for p in session.exec(select(Pair))}
    assert due == {"active": NOW.replace(day=19, hour=10, minute=30), "ended": None}
    engine.dispose()


def test_text_with_a_nul_in_it_is_stored_on_both_databases(db):
    # PostgreSQL refuses NUL in text; a form answer or an event ID from anyone may hold one.
    typed = "Teach AI\x00 to leaders"
    db.run_sync(
        lambda s: participants.save_profile(
            session=s,
            team_id="T1",
            user_id="U1",
            profile=dataclasses.replace(PROFILE, goals=typed),
            timezone=None,
            title=None,
            now=NOW,
        )
    )
    claimed = db.run_sync(
        lambda s: events.claim_event(session=s, team_id="T1", event_id="Ev\x001", now=NOW)
    )
    stored = db.run_sync(
        lambda s: participants.get_participant(session=s, team_id="T1", user_id="U1")
    )
    assert claimed is True
    assert stored is not None and stored.goals in (typed, typed.replace("\x00", "\ufffd"))


def test_a_pairs_learning_agreement_is_saved_replaced_and_forgotten(db):
    from storage import agreements
    from storage.models import Pair, saved_id

    def pair(session, mentor: str, mentee: str) -> int:
        row = Pair(team_id="T1", mentor_id=mentor, mentee_id=mentee, created_at=NOW, updated_at=NOW)
        session.add(row)
        session.flush()
        return saved_id(row)

    first, second = db.run_sync(lambda s: (pair(s, "UJ", "UL"), pair(s, "UJ2", "UL2")))
    for pair_id, by in ((first, "UJ"), (second, "UL2")):
        db.run_sync(
            lambda s, pair_id=pair_id, by=by: agreements.save_agreement(
                session=s,
                team_id="T1",
                pair_id=pair_id,
                leader_items=["AI", "TikTok \u00e9"],
                junior_items=["Strategy"],
                updated_by=by,
                now=NOW,
            )
        )
    db.run_sync(
        lambda s: agreements.save_agreement(
            session=s,
            team_id="T1",
            pair_id=first,
            leader_items=["Only one"],
            junior_items=["a", "b", "c"],
            updated_by="UL",
            now=NOW + timedelta(hours=1),
        )
    )
    row = db.run_sync(lambda s: agreements.agreement_of(session=s, team_id="T1", pair_id=first))
    assert row is not None
    assert (row.leader_items, row.junior_items, row.updated_by) == (
        ["Only one"],
        ["a", "b", "c"],
        "UL",
    )
    assert row.updated_at == NOW + timedelta(hours=1)
    assert (
        db.run_sync(lambda s: agreements.agreement_of(session=s, team_id="T2", pair_id=first))
        is None
    )
    # Leaving takes the agreements of the leaver's pairs, and only theirs.
    db.run_sync(lambda s: agreements.delete_agreements_of(session=s, team_id="T1", user_id="UL"))
    assert (
        db.run_sync(lambda s: agreements.agreement_of(session=s, team_id="T1", pair_id=first))
        is None
    )
    other = db.run_sync(lambda s: agreements.agreement_of(session=s, team_id="T1", pair_id=second))
    assert other is not None and other.leader_items == ["AI", "TikTok \u00e9"]
