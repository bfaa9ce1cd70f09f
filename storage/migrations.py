"""Schema migrations: numbered SQL steps, tracked with SQLite's `PRAGMA user_version`.

Each step runs once, inside one transaction with the version bump, so a crash leaves the
file at the previous version. Steps only ever append: never edit a step that has shipped;
add the next number instead. tests/test_storage.py checks the result matches storage/models.py.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
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
    (
        7,
        "many workspaces by OAuth: installations, OAuth states, workspaces, program admins",
        (
            # Program admins named in a workspace's settings (OAuth mode): user IDs, "U1,U2".
            "ALTER TABLE program_settings ADD COLUMN program_admins VARCHAR NOT NULL DEFAULT ''",
            # Which Enterprise Grid org a workspace belongs to, so that an org-wide
            # installation's token can speak for it (outbox rows name only the workspace).
            """
            CREATE TABLE workspace (
                team_id VARCHAR PRIMARY KEY,
                enterprise_id VARCHAR,
                seen_at DATETIME NOT NULL
            )
            """,
            "CREATE INDEX ix_workspace_enterprise_id ON workspace (enterprise_id)",
            # The tables of slack_sdk's SQLAlchemy installation and OAuth state stores
            # (slack_sdk.oauth.installation_store.sqlalchemy, .state_store.sqlalchemy), as
            # slack_sdk 3.48 defines them (storage/models.py declares them with slack_sdk's
            # builders); tests/test_oauth_storage.py checks they still match.
            """
            CREATE TABLE slack_bots (
                id INTEGER NOT NULL,
                client_id VARCHAR(32) NOT NULL,
                app_id VARCHAR(32) NOT NULL,
                enterprise_id VARCHAR(32),
                enterprise_name VARCHAR(200),
                team_id VARCHAR(32),
                team_name VARCHAR(200),
                bot_token VARCHAR(200),
                bot_id VARCHAR(32),
                bot_user_id VARCHAR(32),
                bot_scopes VARCHAR(1000),
                bot_refresh_token VARCHAR(200),
                bot_token_expires_at DATETIME,
                is_enterprise_install BOOLEAN NOT NULL,
                installed_at DATETIME NOT NULL,
                PRIMARY KEY (id)
            )
            """,
            "CREATE INDEX slack_bots_idx ON slack_bots "
            "(client_id, enterprise_id, team_id, installed_at)",
            """
            CREATE TABLE slack_installations (
                id INTEGER NOT NULL,
                client_id VARCHAR(32) NOT NULL,
                app_id VARCHAR(32) NOT NULL,
                enterprise_id VARCHAR(32),
                enterprise_name VARCHAR(200),
                enterprise_url VARCHAR(200),
                team_id VARCHAR(32),
                team_name VARCHAR(200),
                bot_token VARCHAR(200),
                bot_id VARCHAR(32),
                bot_user_id VARCHAR(32),
                bot_scopes VARCHAR(1000),
                bot_refresh_token VARCHAR(200),
                bot_token_expires_at DATETIME,
                user_id VARCHAR(32) NOT NULL,
                user_token VARCHAR(200),
                user_scopes VARCHAR(1000),
                user_refresh_token VARCHAR(200),
                user_token_expires_at DATETIME,
                incoming_webhook_url VARCHAR(200),
                incoming_webhook_channel VARCHAR(200),
                incoming_webhook_channel_id VARCHAR(200),
                incoming_webhook_configuration_url VARCHAR(200),
                is_enterprise_install BOOLEAN NOT NULL,
                token_type VARCHAR(32),
                installed_at DATETIME NOT NULL,
                PRIMARY KEY (id)
            )
            """,
            "CREATE INDEX slack_installations_idx ON slack_installations "
            "(client_id, enterprise_id, team_id, user_id, installed_at)",
            """
            CREATE TABLE slack_oauth_states (
                id INTEGER NOT NULL,
                state VARCHAR(200) NOT NULL,
                expire_at DATETIME NOT NULL,
                PRIMARY KEY (id)
            )
            """,
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]


def migrate(
    engine: Engine, migrations: tuple[tuple[int, str, tuple[str, ...]], ...] = MIGRATIONS
) -> int:
    """Bring the database up to the newest step; returns the version it ends at."""
    with engine.connect() as conn:
        current: int = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    for version, description, statements in migrations:
        if version <= current:
            continue
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
            # PRAGMA takes no bound parameters; version is our own integer.
            conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        log.info("database migrated to version %d (%s)", version, description)
        current = version
    return current
