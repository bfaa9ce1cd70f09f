"""Alembic migrations on both databases: a new database, the models against the migrated
schema, SQLite files the legacy steps made, a failed revision, and two migrators at once.

The PostgreSQL runs need TEST_DATABASE_URL (tests/kit/databases.py); without it they skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, select

from bot.settings import redact_url
from storage import legacy_migrations as legacy
from storage import program
from storage.db import Database, make_engine
from storage.migrations import (
    FIRST_REVISION,
    POSTGRESQL_LOCK_KEY,
    Migration,
    MigrationError,
    current_revision,
    head_revision,
    migrate,
)
from storage.models import Cohort, OutboxMessage, Pair, Participant, ProcessedEvent
from storage.revision import new_revision
from tests.kit.databases import database_url_fixture  # noqa: F401  (database_url)
from tests.kit.revisions import revision_count, scripts_up_to, scripts_with

ROOT = Path(__file__).resolve().parents[1]
TABLES = {t.name for t in SQLModel.metadata.sorted_tables}
WHEN = "2026-03-02 09:00:00.000000"


def model_differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would write to make the database match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


# --- a new database -----------------------------------------------------------------------


def test_a_new_database_runs_the_revisions_once(database_url):
    engine = make_engine(database_url)
    try:
        assert migrate(engine) == Migration(before=None, after=head_revision())
        again = migrate(engine)
        assert again == Migration(before=head_revision(), after=head_revision())
        assert not again.changed
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_the_models_and_the_migrated_schema_are_equal(database_url):
    # Every table, column, type, NULL-ability, index, unique constraint and foreign key:
    # a model changed without a revision (or a revision without the model) fails here. No
    # difference is ignored: on both databases there is none.
    database = Database(make_engine(database_url))
    try:
        database.prepare()
        assert model_differences(database.engine) == []
    finally:
        database.close()


def test_the_pending_events_index_is_partial(database_url):
    # Autogenerate compares an index's columns, not its WHERE: checked here.
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                sql = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'ix_processed_event_pending'"
                ).scalar_one()
            else:
                sql = conn.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_processed_event_pending'"
                ).scalar_one()
        assert "(received_at)" in sql and "WHERE" in sql and "done_at IS NULL" in sql, sql
    finally:
        engine.dispose()


def test_the_rows_the_models_write_come_back(database_url):
    database = Database(make_engine(database_url))
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    try:
        database.prepare()

        def write(session: Session) -> None:
            person = Participant(
                team_id="T1",
                user_id="U1",
                role="junior",
                topics=["ai"],
                created_at=now,
                updated_at=now,
            )
            session.add(person)
            session.add(
                ProcessedEvent(team_id="T1", event_id="Ev1", received_at=now, payload={"a": 1})
            )

        database.run_sync(write)
        [person] = database.run_sync(lambda s: s.exec(select(Participant)).all())
        [event_row] = database.run_sync(lambda s: s.exec(select(ProcessedEvent)).all())
        assert (person.topics, person.capacity, person.created_at) == (["ai"], 1, now)
        assert (event_row.payload, event_row.done_at, event_row.attempts) == ({"a": 1}, None, 0)
    finally:
        database.close()


def test_settings_saved_before_the_guides_setting_keep_the_guides_on(database_url, tmp_path):
    # Revision 0004 added program_settings.send_guides: a workspace that had saved its
    # settings must not lose the guides by upgrading.
    engine = make_engine(database_url)
    try:
        migrate(engine, scripts=scripts_up_to(tmp_path, "0003"))
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO program_settings (team_id, cadence_days, prompt_lead_hours, "
                "stall_days, escalate_after_days, updated_at, pulse_cadence_days, "
                "pulse_close_days, summary_weekday, summary_hour, timezone, min_responses, "
                "working_days, program_admins) VALUES ('T1', 21, 24, 30, 7, "
                f"'{WHEN}', 14, 7, 0, 9, 'UTC', 3, '0,1,2,3,4', '')"
            )
        assert migrate(engine).after == head_revision()
        with Session(engine) as session:
            settings = program.get_program_settings(session=session, team_id="T1")
        assert (settings.cadence_days, settings.send_guides) == (21, True)
    finally:
        engine.dispose()


# --- SQLite files the legacy steps made ---------------------------------------------------

# One row in every table each legacy version has, in the SQL of that version.
ROWS_BY_VERSION: dict[int, tuple[str, ...]] = {
    1: (
        "INSERT INTO participant (team_id, user_id, role, created_at, updated_at) "
        f"VALUES ('T1', 'U1', 'junior', '{WHEN}', '{WHEN}')",
        "INSERT INTO processed_event (team_id, event_id, received_at) "
        f"VALUES ('T1', 'Ev1', '{WHEN}')",
    ),
    2: (
        "INSERT INTO pair (id, team_id, mentor_id, mentee_id, status, created_at, updated_at) "
        f"VALUES (1, 'T1', 'U1', 'U2', 'active', '{WHEN}', '{WHEN}')",
        "INSERT INTO outbox (team_id, key, kind, pair_id, status, not_before, created_at) "
        f"VALUES ('T1', 'intro:1', 'intro', 1, 'sending', '{WHEN}', '{WHEN}')",
    ),
    3: (
        "INSERT INTO held_session (team_id, pair_id, held_on, logged_by, logged_at) "
        f"VALUES ('T1', 1, '2026-03-02', 'U1', '{WHEN}')",
        "INSERT INTO prompt_sent (team_id, pair_id, prompt_id, sent_at) "
        f"VALUES ('T1', 1, 'p1', '{WHEN}')",
        "INSERT INTO fit_answer (team_id, pair_id, user_id, good_fit, answered_at) "
        f"VALUES ('T1', 1, 'U1', 1, '{WHEN}')",
        "INSERT INTO program_settings (team_id, cadence_days, prompt_lead_hours, stall_days, "
        f"escalate_after_days, updated_at) VALUES ('T1', 14, 24, 21, 7, '{WHEN}')",
    ),
    4: (
        f"INSERT INTO workspace_schedule (team_id, summary_due_at) VALUES ('T1', '{WHEN}')",
        "INSERT INTO pulse_survey (id, team_id, pair_id, period, opened_at, closes_at) "
        f"VALUES (1, 'T1', 1, 'cadence:2026-03-02', '{WHEN}', '{WHEN}')",
        "INSERT INTO pulse_response (team_id, survey_id, user_id, rating, updated_at) "
        f"VALUES ('T1', 1, 'U1', 4, '{WHEN}')",
        "INSERT INTO outcome_answer (team_id, user_id, checkpoint, progress, answered_at) "
        f"VALUES ('T1', 'U1', 'midpoint', 'some', '{WHEN}')",
    ),
}


def legacy_file(tmp_path, version: int) -> Engine:
    """A SQLite file as the bot left it at legacy `version`, with rows in every table."""
    engine = make_engine(f"sqlite:///{tmp_path / f'v{version}.db'}")
    assert legacy.migrate(engine, legacy.MIGRATIONS[:version]) == version
    with engine.begin() as conn:
        for rows_since, statements in ROWS_BY_VERSION.items():
            if rows_since <= version:
                for statement in statements:
                    conn.exec_driver_sql(statement)
    return engine


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in sorted(inspect(conn).get_table_names())
            if table != "alembic_version"
        }


def schema(engine: Engine) -> dict[str, Any]:
    """Everything SQLAlchemy reflects about the tables, in a form two files can be compared in."""
    inspector = inspect(engine)
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        key = inspector.get_pk_constraint(table)["constrained_columns"]
        tables[table] = {
            "columns": [
                # A legacy `id INTEGER PRIMARY KEY` reflects as nullable; it cannot hold NULL.
                (c["name"], str(c["type"]), c["nullable"] and c["name"] not in key, c["default"])
                for c in inspector.get_columns(table)
            ],
            "primary key": key,
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), i["unique"], _options(i))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "foreign keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in inspector.get_foreign_keys(table)
            ),
        }
    return tables


def _options(index: Any) -> str:
    # A partial index's WHERE reflects as a clause object: compared by its SQL.
    return repr(sorted((k, str(v)) for k, v in index.get("dialect_options", {}).items()))


def test_the_first_revision_creates_what_the_legacy_steps_create(tmp_path):
    # The premise of stamping a legacy file at FIRST_REVISION instead of running it.
    legacy_engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    alembic_engine = make_engine(f"sqlite:///{tmp_path / 'alembic.db'}")
    try:
        legacy.migrate(legacy_engine)
        migrate(alembic_engine, scripts=scripts_up_to(tmp_path, FIRST_REVISION))
        with alembic_engine.connect() as conn:
            assert current_revision(conn) == FIRST_REVISION
        alembic_schema = schema(alembic_engine)
        del alembic_schema["alembic_version"]
        assert schema(legacy_engine) == alembic_schema
    finally:
        legacy_engine.dispose()
        alembic_engine.dispose()


@pytest.mark.parametrize("version", range(1, legacy.LATEST_VERSION + 1))
def test_a_legacy_file_is_upgraded_in_place_without_losing_rows(tmp_path, version):
    engine = legacy_file(tmp_path, version)
    try:
        before = row_counts(engine)
        assert migrate(engine) == Migration(
            before=None, after=head_revision(), legacy_version=version
        )
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert legacy.user_version(conn) == legacy.LATEST_VERSION
        after = row_counts(engine)
        assert {t: n for t, n in after.items() if t in before} == before
        # Tables new to the file are empty, but for the one program made its first cohort,
        # which remembers its participant and its pair.
        assert after["cohort"] == after["cohort_member"] == 1
        assert after["pair_cohort"] == before.get("pair", 0)
        assert sum(after.values()) == sum(before.values()) + 2 + after["pair_cohort"]
        # The models read every row, and the legacy steps' own data changes were made.
        with Session(engine) as session:
            [cohort_row] = session.exec(select(Cohort)).all()
            assert [(p.user_id, p.cohort_id) for p in session.exec(select(Participant))] == [
                ("U1", cohort_row.id)
            ]
            [event_row] = session.exec(select(ProcessedEvent)).all()
            if version < 6:  # step 6: events from before the inbox count as applied
                assert event_row.done_at == event_row.received_at
            if version >= 2:
                [pair] = session.exec(select(Pair)).all()
                assert pair.cohort_id == cohort_row.id
                [message] = session.exec(select(OutboxMessage)).all()
                if version < 4:  # step 4: a pair under way gets its first pulse due time
                    assert pair.pulse_due_at is not None
                if version < 6:  # step 6: a row left "sending" has an expired lease
                    assert message.lease_until == message.not_before
        # The file now has the schema a new database gets.
        assert legacy_schema_differences(engine) == []
        assert migrate(engine) == Migration(before=head_revision(), after=head_revision())
    finally:
        engine.dispose()


def legacy_schema_differences(engine: Engine) -> list[Any]:
    # The one difference a legacy file keeps: its primary keys were declared without NOT NULL
    # (`id INTEGER PRIMARY KEY`, `team_id VARCHAR PRIMARY KEY`), so SQLite reflects them as
    # nullable. An INTEGER one is the rowid and can never be NULL; the two VARCHAR ones (the
    # settings and schedule tables) could, by an old SQLite quirk, but the bot never writes
    # a row without its team. A new database declares them NOT NULL (and has no difference).
    differences = []
    keys = {t.name: {c.name for c in t.primary_key} for t in SQLModel.metadata.sorted_tables}
    for difference in model_differences(engine):
        changes = difference if isinstance(difference, list) else [difference]
        real = [
            c
            for c in changes
            if not (c[0] == "modify_nullable" and c[3] in keys[c[2]] and c[5:] == (True, False))
        ]
        differences += real
    return differences


def test_a_file_from_newer_legacy_steps_is_refused(tmp_path):
    engine = legacy_file(tmp_path, legacy.LATEST_VERSION)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA user_version = {legacy.LATEST_VERSION + 1}")
        with pytest.raises(MigrationError, match="legacy version 7"):
            migrate(engine)
        with engine.connect() as conn:
            assert current_revision(conn) is None
    finally:
        engine.dispose()


def test_a_database_a_newer_bot_migrated_is_refused(database_url, tmp_path):
    engine = make_engine(database_url)
    try:
        later = scripts_with(tmp_path, 'op.create_table("later", sa.Column("a", sa.Integer()))')
        migrate(engine, scripts=later)
        with pytest.raises(MigrationError, match="does not know: a newer version"):
            migrate(engine)
    finally:
        engine.dispose()


# --- failures -------------------------------------------------------------------------------

BROKEN = """
op.create_table("later", sa.Column("a", sa.Integer()))
op.execute("NOT SQL")
"""


def test_a_failed_revision_leaves_a_new_database_empty(database_url, tmp_path):
    # Every revision of a run shares one transaction: the first one does not stay behind.
    engine = make_engine(database_url)
    try:
        with pytest.raises((OperationalError, ProgrammingError)):
            migrate(engine, scripts=scripts_with(tmp_path, BROKEN))
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_failed_revision_leaves_a_legacy_file_as_it_was(tmp_path):
    engine = legacy_file(tmp_path, 3)
    try:
        before = schema(engine), row_counts(engine)
        with pytest.raises(OperationalError):
            migrate(engine, scripts=scripts_with(tmp_path, BROKEN))
        assert (schema(engine), row_counts(engine)) == before
        with engine.connect() as conn:
            assert legacy.user_version(conn) == 3
            assert current_revision(conn) is None
        # Once the revision is fixed, the same file upgrades.
        assert migrate(engine).legacy_version == 3
    finally:
        engine.dispose()


def test_a_revision_may_copy_a_table_others_point_at(tmp_path):
    # Alembic's batch mode on SQLite copies the table, drops the old one and renames the
    # copy; with foreign keys enforced, dropping `pair` under its sessions would fail.
    engine = legacy_file(tmp_path, legacy.LATEST_VERSION)
    later = """
    with op.batch_alter_table("pair", recreate="always") as batch:
        batch.alter_column("explanation", existing_type=sa.String(), nullable=True)
    """
    try:
        migrate(engine, scripts=scripts_with(tmp_path, later))
        assert row_counts(engine)["held_session"] == 1
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()


def test_a_revision_that_breaks_a_reference_is_rolled_back(tmp_path):
    engine = legacy_file(tmp_path, legacy.LATEST_VERSION)
    try:
        with pytest.raises(MigrationError, match="pointing at missing rows"):
            migrate(engine, scripts=scripts_with(tmp_path, 'op.execute("DELETE FROM pair")'))
        assert row_counts(engine)["pair"] == 1
    finally:
        engine.dispose()


# --- two processes at once ----------------------------------------------------------------


def test_two_migrators_at_once_migrate_once(database_url):
    # Two processes starting together (threads here, each with its own engine and so its own
    # connections). Without the lock both see no revision and both create the tables.
    ready = threading.Barrier(2)
    results: list[Migration | BaseException] = []
    statements: list[str] = []
    engines = [make_engine(database_url) for _ in range(2)]

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(" ".join(statement.split()))

    def start(engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", record)
        try:
            ready.wait(timeout=10)
            results.append(migrate(engine))
        except BaseException as exc:  # the assertion below shows it
            results.append(exc)

    # Daemons: without the lock they can hang (Alembic's `op` and `context` are one per
    # process, so two unlocked runs in one process mix their connections up).
    threads = [threading.Thread(target=start, args=(e,), daemon=True) for e in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        migrations = [r for r in results if isinstance(r, Migration)]
        assert len(migrations) == 2, results
        assert sorted((m.before or "", m.after) for m in migrations) == [
            ("", head_revision()),
            (head_revision(), head_revision()),
        ]
        # Each revision ran once: one schema, one write to the version table per revision.
        creates = [s for s in statements if s.startswith("CREATE TABLE participant")]
        writes = ("INSERT INTO alembic_version", "UPDATE alembic_version")
        versions = [s for s in statements if s.startswith(writes)]
        assert (len(creates), len(versions)) == (1, revision_count())
    finally:
        for engine in engines:
            engine.dispose()


def test_two_migrators_at_once_adopt_a_legacy_file_once(tmp_path):
    # Both find step 3 and no Alembic revision; the legacy steps must still run only once.
    legacy_file(tmp_path, 3).dispose()
    url = f"sqlite:///{tmp_path / 'v3.db'}"
    ready = threading.Barrier(2)
    results: list[Migration | BaseException] = []

    def start() -> None:
        engine = make_engine(url)
        try:
            ready.wait(timeout=10)
            results.append(migrate(engine))
        except BaseException as exc:  # the assertion below shows it
            results.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    expected = [
        Migration(before=None, after=head_revision(), legacy_version=3),
        Migration(before=head_revision(), after=head_revision()),
    ]
    assert sorted(map(repr, results)) == sorted(map(repr, expected))


def test_a_migrator_waits_for_the_one_holding_the_lock(database_url):
    # The second one does not fail while the first works: it waits, then has nothing to do.
    first, second = make_engine(database_url), make_engine(database_url)
    outcome: list[Migration | BaseException] = []
    try:
        with first.connect() as holder:
            holder.begin()  # on SQLite, BEGIN IMMEDIATE: what a migrator's transaction starts with
            if first.dialect.name == "postgresql":
                holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": POSTGRESQL_LOCK_KEY})
            waiting = threading.Thread(target=lambda: outcome.append(_try_migrate(second)))
            waiting.start()
            waiting.join(timeout=1)
            assert waiting.is_alive() and not outcome, outcome
            holder.commit()
        waiting.join(timeout=60)
        assert outcome == [Migration(before=None, after=head_revision())]
    finally:
        first.dispose()
        second.dispose()


def _try_migrate(engine: Engine) -> Migration | BaseException:
    try:
        return migrate(engine)
    except BaseException as exc:
        return exc


def test_a_new_revision_has_nothing_to_do_while_models_and_schema_agree(tmp_path):
    # python -m storage.revision: autogenerate against a scratch database at head.
    scripts = scripts_with(tmp_path)
    written = new_revision("nothing yet", scripts=scripts)
    assert written == scripts / "versions" / f"{int(head_revision()) + 1:04d}_nothing_yet.py"
    upgrade = written.read_text().split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "op." not in upgrade and "pass" in upgrade
    engine = make_engine(f"sqlite:///{tmp_path / 'next.db'}")
    try:
        assert migrate(engine, scripts=scripts).after == head_revision(scripts=scripts)
    finally:
        engine.dispose()


# --- reverse-mentor migrate -------------------------------------------------------------------


def test_the_migrate_command_says_where_the_database_is(database_url, monkeypatch, capsys):
    import app

    monkeypatch.setenv("DATABASE_URL", database_url)
    where = redact_url(database_url)
    assert app.main(["migrate"]) == 0
    assert capsys.readouterr().out == (
        f"{where}: migrated from an empty database to revision {head_revision()}\n"
    )
    assert app.main(["migrate"]) == 0
    assert capsys.readouterr().out == (
        f"{where}: at revision {head_revision()}, the newest; nothing to apply\n"
    )


def test_the_migrate_command_upgrades_a_legacy_file(tmp_path, monkeypatch, capsys):
    import app

    legacy_file(tmp_path, 2).dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'v2.db'}")
    assert app.main(["migrate"]) == 0
    assert capsys.readouterr().out.endswith(
        f"migrated from legacy version 2 (PRAGMA user_version) to revision {head_revision()}\n"
    )


def test_the_migrate_command_fails_with_one_line(tmp_path, monkeypatch, capsys):
    import app

    engine = legacy_file(tmp_path, legacy.LATEST_VERSION)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA user_version = {legacy.LATEST_VERSION + 1}")
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'v6.db'}")
    assert app.main(["migrate"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("reverse-mentor migrate: sqlite:///") and "legacy version 7" in line
    assert app.main(["migrate", "--now"]) == 2


def test_python_app_py_migrate(tmp_path):
    database = tmp_path / "mentor.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "migrate"],
        cwd=tmp_path,  # no .env here: DATABASE_URL alone, no Slack token needed
        env={**env, "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip().endswith(f"to revision {head_revision()}")
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
    finally:
        engine.dispose()
