"""The schema's first history, frozen: numbered SQL steps 1-6 tracked with SQLite's
`PRAGMA user_version`, as the bot ran them before Alembic (storage/migrations.py) took over.

Never edit or add a step here: a new change to the schema is an Alembic revision in
storage/alembic/versions. These steps stay only to bring a SQLite file made by an older
version of the bot up to step 6, the schema Alembic's first revision starts from
(storage.migrations adopts such a file), and to build such files in tests. Their SQL is
SQLite's own (DATETIME, strftime); no PostgreSQL database was ever made by them.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

Steps = tuple[tuple[int, str, tuple[str, ...]], ...]

MIGRATIONS: Steps = (
    (
        1,
        "participants and processed Slack events",
        (
            """
            CREATE TABLE participant (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                user_id VARCHAR NOT NULL,
                role VARCHAR NOT NULL,
                level INTEGER,
                department VARCHAR,
                manager_id VARCHAR,
                topics JSON NOT NULL DEFAULT '[]',
                goals VARCHAR,
                capacity INTEGER NOT NULL DEFAULT 1,
                title VARCHAR,
                timezone VARCHAR,
                status VARCHAR NOT NULL DEFAULT 'active',
                created_at DATETIME NOT NULL,
                updated_at DATETIME NOT NULL,
                left_at DATETIME,
                UNIQUE (team_id, user_id)
            )
            """,
            "CREATE INDEX ix_participant_team_id ON participant (team_id)",
            """
            CREATE TABLE processed_event (
                team_id VARCHAR NOT NULL,
                event_id VARCHAR NOT NULL,
                received_at DATETIME NOT NULL,
                PRIMARY KEY (team_id, event_id)
            )
            """,
            "CREATE INDEX ix_processed_event_received_at ON processed_event (received_at)",
        ),
    ),
    (
        2,
        "pairs and the outbox of messages to send",
        (
            """
            CREATE TABLE pair (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                mentor_id VARCHAR NOT NULL,
                mentee_id VARCHAR NOT NULL,
                status VARCHAR NOT NULL DEFAULT 'introducing',
                score FLOAT NOT NULL DEFAULT 0,
                explanation VARCHAR NOT NULL DEFAULT '',
                dm_channel_id VARCHAR,
                intro_ts VARCHAR,
                next_session_on DATE,
                end_reason VARCHAR,
                created_at DATETIME NOT NULL,
                updated_at DATETIME NOT NULL,
                ended_at DATETIME
            )
            """,
            "CREATE INDEX ix_pair_team_id ON pair (team_id)",
            "CREATE INDEX ix_pair_team_status ON pair (team_id, status)",
            """
            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                key VARCHAR NOT NULL,
                kind VARCHAR NOT NULL,
                pair_id INTEGER REFERENCES pair (id),
                payload JSON NOT NULL DEFAULT '{}',
                status VARCHAR NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error VARCHAR,
                channel_id VARCHAR,
                ts VARCHAR,
                not_before DATETIME NOT NULL,
                created_at DATETIME NOT NULL,
                sent_at DATETIME,
                UNIQUE (team_id, key)
            )
            """,
            "CREATE INDEX ix_outbox_due ON outbox (status, not_before)",
        ),
    ),
    (
        3,
        "the session rhythm: due times on pairs, held sessions, prompts, fit answers",
        (
            "ALTER TABLE pair ADD COLUMN paused_reason VARCHAR",
            "ALTER TABLE pair ADD COLUMN last_activity_at DATETIME",
            "ALTER TABLE pair ADD COLUMN prompt_due_at DATETIME",
            "ALTER TABLE pair ADD COLUMN checkin_due_at DATETIME",
            "ALTER TABLE pair ADD COLUMN stall_due_at DATETIME",
            "ALTER TABLE pair ADD COLUMN escalate_due_at DATETIME",
            "ALTER TABLE pair ADD COLUMN nudged_at DATETIME",
            "CREATE INDEX ix_pair_prompt_due ON pair (prompt_due_at)",
            "CREATE INDEX ix_pair_checkin_due ON pair (checkin_due_at)",
            "CREATE INDEX ix_pair_stall_due ON pair (stall_due_at)",
            "CREATE INDEX ix_pair_escalate_due ON pair (escalate_due_at)",
            "CREATE INDEX ix_pair_dm_channel ON pair (team_id, dm_channel_id)",
            """
            CREATE TABLE held_session (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                pair_id INTEGER NOT NULL REFERENCES pair (id),
                held_on DATE NOT NULL,
                logged_by VARCHAR NOT NULL,
                logged_at DATETIME NOT NULL,
                UNIQUE (pair_id, held_on)
            )
            """,
            "CREATE INDEX ix_held_session_pair_id ON held_session (pair_id)",
            """
            CREATE TABLE prompt_sent (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                pair_id INTEGER NOT NULL REFERENCES pair (id),
                prompt_id VARCHAR NOT NULL,
                sent_at DATETIME NOT NULL
            )
            """,
            "CREATE INDEX ix_prompt_sent_pair_id ON prompt_sent (pair_id)",
            """
            CREATE TABLE fit_answer (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                pair_id INTEGER NOT NULL REFERENCES pair (id),
                user_id VARCHAR NOT NULL,
                good_fit BOOLEAN NOT NULL,
                answered_at DATETIME NOT NULL,
                UNIQUE (pair_id, user_id)
            )
            """,
            """
            CREATE TABLE program_settings (
                team_id VARCHAR PRIMARY KEY,
                cadence_days INTEGER NOT NULL,
                prompt_lead_hours INTEGER NOT NULL,
                stall_days INTEGER NOT NULL,
                escalate_after_days INTEGER NOT NULL,
                updated_at DATETIME NOT NULL
            )
            """,
        ),
    ),
    (
        4,
        "pulse surveys, outcomes, summaries and the full program settings",
        (
            "ALTER TABLE pair ADD COLUMN pulse_due_at DATETIME",
            "CREATE INDEX ix_pair_pulse_due ON pair (pulse_due_at)",
            # Pairs already under way get their first cadence pulse 14 days after their
            # last activity, as new pairs do from their introduction.
            """
            UPDATE pair SET pulse_due_at =
                strftime('%Y-%m-%d %H:%M:%f', COALESCE(last_activity_at, created_at), '+14 days')
            WHERE status = 'active'
            """,
            "ALTER TABLE program_settings ADD COLUMN program_start DATE",
            "ALTER TABLE program_settings ADD COLUMN program_end DATE",
            "ALTER TABLE program_settings ADD COLUMN pulse_cadence_days INTEGER NOT NULL "
            "DEFAULT 14",
            "ALTER TABLE program_settings ADD COLUMN pulse_close_days INTEGER NOT NULL DEFAULT 7",
            "ALTER TABLE program_settings ADD COLUMN summary_weekday INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE program_settings ADD COLUMN summary_hour INTEGER NOT NULL DEFAULT 9",
            "ALTER TABLE program_settings ADD COLUMN timezone VARCHAR NOT NULL DEFAULT 'UTC'",
            "ALTER TABLE program_settings ADD COLUMN min_responses INTEGER NOT NULL DEFAULT 3",
            "ALTER TABLE program_settings ADD COLUMN admin_channel VARCHAR",
            """
            CREATE TABLE workspace_schedule (
                team_id VARCHAR PRIMARY KEY,
                summary_due_at DATETIME,
                last_summary_at DATETIME,
                midpoint_decided_at DATETIME,
                end_decided_at DATETIME
            )
            """,
            """
            CREATE TABLE pulse_survey (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                pair_id INTEGER NOT NULL REFERENCES pair (id),
                period VARCHAR NOT NULL,
                channel_id VARCHAR,
                ts VARCHAR,
                opened_at DATETIME NOT NULL,
                closes_at DATETIME NOT NULL,
                UNIQUE (pair_id, period)
            )
            """,
            "CREATE INDEX ix_pulse_survey_message ON pulse_survey (channel_id, ts)",
            """
            CREATE TABLE pulse_response (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                survey_id INTEGER NOT NULL REFERENCES pulse_survey (id),
                user_id VARCHAR NOT NULL,
                rating INTEGER NOT NULL,
                updated_at DATETIME NOT NULL,
                UNIQUE (survey_id, user_id)
            )
            """,
            "CREATE INDEX ix_pulse_response_survey_id ON pulse_response (survey_id)",
            """
            CREATE TABLE outcome_answer (
                id INTEGER PRIMARY KEY,
                team_id VARCHAR NOT NULL,
                user_id VARCHAR NOT NULL,
                checkpoint VARCHAR NOT NULL,
                progress VARCHAR,
                change VARCHAR,
                answered_at DATETIME NOT NULL,
                UNIQUE (team_id, user_id, checkpoint)
            )
            """,
        ),
    ),
    (
        5,
        "the workspace's working week",
        (
            "ALTER TABLE program_settings ADD COLUMN working_days VARCHAR NOT NULL "
            "DEFAULT '0,1,2,3,4'",
        ),
    ),
    (
        6,
        "outbox claims with a lease, file shares, the event inbox and admin channel problems",
        (
            # A row is claimed by one sender at a time (claimed_by) until its lease runs
            # out; sending_since says from when to look for it in the channel after a crash.
            "ALTER TABLE outbox ADD COLUMN claimed_by VARCHAR",
            "ALTER TABLE outbox ADD COLUMN lease_until DATETIME",
            "ALTER TABLE outbox ADD COLUMN sending_since DATETIME",
            "ALTER TABLE outbox ADD COLUMN file_id VARCHAR",
            "CREATE INDEX ix_outbox_lease ON outbox (status, lease_until)",
            # Rows already "sending" were left by a crash: their lease is over.
            "UPDATE outbox SET lease_until = not_before, sending_since = created_at "
            "WHERE status = 'sending'",
            # Events are kept (without people's words) until applied, so none is lost.
            "ALTER TABLE processed_event ADD COLUMN event_type VARCHAR",
            "ALTER TABLE processed_event ADD COLUMN payload JSON",
            "ALTER TABLE processed_event ADD COLUMN done_at DATETIME",
            "ALTER TABLE processed_event ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
            "UPDATE processed_event SET done_at = received_at",
            "CREATE INDEX ix_processed_event_pending ON processed_event (received_at) "
            "WHERE done_at IS NULL",
            "ALTER TABLE program_settings ADD COLUMN updated_by VARCHAR",
            "ALTER TABLE workspace_schedule ADD COLUMN admin_channel_problem VARCHAR",
            "ALTER TABLE workspace_schedule ADD COLUMN admin_channel_problem_at DATETIME",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]


def user_version(conn: Connection) -> int:
    """The last step a SQLite file has had (0: none, or a file these steps never touched)."""
    version: int = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    return version


def apply(conn: Connection, current: int, migrations: Steps = MIGRATIONS) -> int:
    """Run the steps after `current` in the caller's transaction; returns the version reached."""
    for version, description, statements in migrations:
        if version <= current:
            continue
        for statement in statements:
            conn.execute(text(statement))
        # PRAGMA takes no bound parameters; version is our own integer.
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        log.info("database migrated to legacy version %d (%s)", version, description)
        current = version
    return current


def migrate(engine: Engine, migrations: Steps = MIGRATIONS) -> int:
    """Bring a SQLite file up to the last of `migrations` the way the bot used to, each step
    in its own transaction with its version bump; returns the version it ends at. Tests use
    it to make the files an older bot left behind."""
    with engine.connect() as conn:
        current = user_version(conn)
    for step in migrations:
        if step[0] <= current:
            continue
        with engine.begin() as conn:
            current = apply(conn, current, (step,))
    return current
