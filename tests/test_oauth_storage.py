"""Installations and OAuth states live in the bot's own database, in slack_sdk's tables made
by our migrations; a workspace's rows can be stopped and deleted as a whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, inspect
from sqlmodel import select

from bot.profiles import Profile, Role
from storage import outbox, participants, workspaces
from storage.db import Database, make_engine
from storage.models import OutboxMessage, Participant

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLIENT_ID = "1111.2222"


@pytest.fixture
def db(database_url):  # SQLite, and PostgreSQL when TEST_DATABASE_URL is set
    database = Database(make_engine(database_url))
    database.prepare()
    yield database
    database.close()


def _slack_sdk_tables():
    metadata = MetaData()
    store = SQLAlchemyInstallationStore
    return [
        store.build_installations_table(metadata, store.default_installations_table_name),
        store.build_bots_table(metadata, store.default_bots_table_name),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(
            metadata, SQLAlchemyOAuthStateStore.default_table_name
        ),
    ]


def test_migrated_slack_tables_match_slack_sdk(db):
    # A slack_sdk that adds a column would fail here, not at the first install.
    inspector = inspect(db.engine)
    for table in _slack_sdk_tables():
        in_db = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
        assert in_db == {c.name: c.nullable for c in table.columns}, table.name
        indexes = {tuple(i["column_names"]) for i in inspector.get_indexes(table.name)}
        assert indexes == {tuple(c.name for c in i.columns) for i in table.indexes}


def _install(db, team_id: str, *, enterprise_id: str | None = None, org_wide: bool = False):
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=db.engine)
    store.save(
        Installation(
            app_id="A1",
            enterprise_id=enterprise_id,
            team_id=None if org_wide else team_id,
            bot_token=f"xoxb-{team_id}",
            bot_id="B1",
            bot_user_id="UBOT",
            user_id="UINSTALLER",
            is_enterprise_install=org_wide,
        )
    )
    return store


def _sign_up(db, team_id: str, user_id: str) -> None:
    profile = Profile(
        role=Role.JUNIOR,
        level=2,
        department="Finance",
        manager_id=None,
        topics=("ai",),
        goals="",
        capacity=1,
    )
    db.run_sync(
        lambda s: participants.save_profile(
            session=s,
            team_id=team_id,
            user_id=user_id,
            profile=profile,
            timezone=None,
            title=None,
            now=NOW,
        )
    )


def _decide(db, team_id: str, key: str) -> None:
    db.run_sync(
        lambda s: outbox.enqueue(session=s, team_id=team_id, key=key, kind="admin_alert", now=NOW)
    )


def test_stop_sending_skips_what_waits_for_those_workspaces_only(db):
    for team in ("T1", "T2"):
        _decide(db, team, "a")
        _decide(db, team, "b")
    db.run_sync(
        lambda s: outbox.claim(
            session=s,
            message_id=s.exec(select(OutboxMessage).where(OutboxMessage.team_id == "T1"))
            .first()
            .id,
            claimant="other",
            now=NOW,
            lease=timedelta(minutes=2),
        )
    )
    skipped = db.run_sync(
        lambda s: workspaces.stop_sending(session=s, team_ids=["T1"], reason="uninstalled")
    )
    assert skipped == 2
    rows = db.run_sync(
        lambda s: sorted((m.team_id, m.status, m.last_error) for m in s.exec(select(OutboxMessage)))
    )
    assert rows == [
        ("T1", "skipped", "uninstalled"),
        ("T1", "skipped", "uninstalled"),
        ("T2", "pending", None),
        ("T2", "pending", None),
    ]


def test_delete_workspace_deletes_every_row_of_it_and_nothing_else(db):
    for team in ("T1", "T2"):
        _sign_up(db, team, "U1")
        _decide(db, team, "a")
        db.run_sync(
            lambda s, t=team: workspaces.note_workspace(
                session=s, team_id=t, enterprise_id=None, now=NOW
            )
        )
        _install(db, team)
    _install(db, "T9", enterprise_id="E1", org_wide=True)  # the org's: stays

    before = db.run_sync(lambda s: workspaces.workspace_counts(session=s, team_id="T1"))
    assert before == {
        "participant": 1,
        "outbox": 1,
        "workspace": 1,
        "slack_installations": 1,
        "slack_bots": 1,
    }
    deleted = db.run_sync(lambda s: workspaces.delete_workspace(session=s, team_id="T1"))
    assert deleted == before
    assert db.run_sync(lambda s: workspaces.workspace_counts(session=s, team_id="T1")) == {}
    assert db.run_sync(lambda s: workspaces.workspace_counts(session=s, team_id="T2")) == before
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=db.engine)
    assert store.find_installation(enterprise_id=None, team_id="T1") is None
    assert store.find_installation(enterprise_id=None, team_id="T2") is not None
    org = store.find_installation(enterprise_id="E1", team_id=None, is_enterprise_install=True)
    assert org is not None and org.bot_token == "xoxb-T9"
    assert db.run_sync(lambda s: [p.team_id for p in s.exec(select(Participant))]) == ["T2"]


def test_a_workspace_remembers_its_org(db):
    db.run_sync(
        lambda s: workspaces.note_workspace(session=s, team_id="T1", enterprise_id="E1", now=NOW)
    )
    db.run_sync(
        lambda s: workspaces.note_workspace(session=s, team_id="T2", enterprise_id="E1", now=NOW)
    )
    db.run_sync(
        lambda s: workspaces.note_workspace(session=s, team_id="T3", enterprise_id=None, now=NOW)
    )
    assert db.run_sync(lambda s: workspaces.enterprise_of(session=s, team_id="T1")) == "E1"
    assert db.run_sync(lambda s: workspaces.enterprise_of(session=s, team_id="T3")) is None
    assert db.run_sync(lambda s: workspaces.enterprise_of(session=s, team_id="T404")) is None
    teams = db.run_sync(lambda s: workspaces.teams_of_enterprise(session=s, enterprise_id="E1"))
    assert sorted(teams) == ["T1", "T2"]


async def test_install_states_are_used_once_and_unused_ones_are_purged_when_expired(db):
    from handlers.core.installations import OAuthStateStore

    states = OAuthStateStore(db, expiration_seconds=600)
    used, unused = await states.async_issue(), await states.async_issue()
    assert await states.async_consume(used) is True
    assert await states.async_consume(used) is False  # once
    assert states.purge_expired() == 0  # the unused one is still valid
    stale = OAuthStateStore(db, expiration_seconds=-1)
    await stale.async_issue()  # issued already expired
    assert stale.purge_expired() == 1
    assert await states.async_consume(unused) is True
