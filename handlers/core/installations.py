"""Many workspaces by OAuth: where installations live, and which bot token speaks for a
workspace.

Installations and OAuth states are kept by slack_sdk's own SQLAlchemy stores
(slack_sdk.oauth.installation_store.sqlalchemy, .state_store.sqlalchemy), in the bot's
database, in tables made by storage/migrations.py. We use the synchronous stores on the
bot's own engine, each call in a worker thread as every other database call is
(storage/db.py), wrapped here in the async interfaces Bolt's AsyncApp wants. So there is
one engine and one pool per process, SQLite keeps its WAL, busy timeout and BEGIN IMMEDIATE
(an async engine would be a second pool on the same file, without them), PostgreSQL goes
through the same psycopg 3 driver, and no async driver (aiosqlite) is added.

The token for a workspace (`WorkspaceTokens`) is its own installation's bot token, else the
org-wide installation's of the Enterprise Grid org it belongs to (storage/workspaces.py
remembers which). It is cached; a token about to expire (token rotation) is refreshed with
slack_sdk's AsyncTokenRotator and saved before it is used, as Bolt does for requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import SLACK_DEFAULT_API_URL, Settings
from handlers.core.slack import METHOD_SCOPES, OAUTH_SUBSCRIPTIONS, SUBSCRIPTIONS
from storage import workspaces
from storage.db import Database

log = logging.getLogger(__name__)

# Refresh a rotating token this long before it expires (Bolt's default for requests too).
ROTATE_MINUTES = 120
# How long a token is used without reading its installation again.
CACHE_SECONDS = 300.0
STATE_SECONDS = 600  # an install link works for ten minutes


def bot_scopes() -> list[str]:
    """The bot scopes the install asks for: what the code calls and subscribes to."""
    scopes = {"commands"}
    for needed in (*METHOD_SCOPES.values(), *SUBSCRIPTIONS.values(), *OAUTH_SUBSCRIPTIONS.values()):
        scopes |= needed
    return sorted(scopes)


def authorization_url(api_url: str) -> str | None:
    """Slack's authorize page on the same host as the Web API (GovSlack, a test server);
    None is Bolt's default, https://slack.com/oauth/v2/authorize."""
    if api_url == SLACK_DEFAULT_API_URL:
        return None
    return api_url.removesuffix("/").removesuffix("api") + "oauth/v2/authorize"


class InstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store on the bot's engine, for Bolt (which wants
    the async interface): each call runs in a worker thread. Saving an installation also
    remembers which org its workspace belongs to; every change is announced to
    `on_change` listeners (the token cache), on the event loop."""

    def __init__(self, db: Database, *, client_id: str) -> None:
        self.db = db
        self.sync = SQLAlchemyInstallationStore(client_id=client_id, engine=db.engine, logger=log)
        self._listeners: list[Callable[[], None]] = []

    @property
    def logger(self) -> logging.Logger:
        return log

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self._save, installation)
        self._changed()

    def _save(self, installation: Installation) -> None:
        self.sync.save(installation)
        team_id = installation.team_id
        if team_id is not None and not installation.is_enterprise_install:
            self.db.run_sync(
                lambda s: workspaces.note_workspace(
                    session=s,
                    team_id=team_id,
                    enterprise_id=installation.enterprise_id,
                    now=datetime.now(UTC),
                )
            )

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.sync.save_bot, bot)
        self._changed()

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await asyncio.to_thread(
            lambda: self.sync.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            lambda: self.sync.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(
            lambda: self.sync.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        )
        self._changed()

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        await asyncio.to_thread(
            lambda: self.sync.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        )
        self._changed()

    def installation_for_team(self, team_id: str) -> Installation | None:
        """(In a worker thread.) The installation whose bot token speaks for workspace
        `team_id`: the workspace's own, else its org's org-wide one; None if neither has a
        bot token (never installed, or uninstalled)."""
        enterprise_id = self.db.run_sync(
            lambda s: workspaces.enterprise_of(session=s, team_id=team_id)
        )
        own = self.sync.find_installation(enterprise_id=enterprise_id, team_id=team_id)
        if own is not None and own.bot_token:
            return own
        if enterprise_id is None:
            return None
        org = self.sync.find_installation(
            enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
        )
        return org if org is not None and org.bot_token else None


class OAuthStateStore(AsyncOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store on the bot's engine, in worker threads."""

    def __init__(self, db: Database, *, expiration_seconds: int = STATE_SECONDS) -> None:
        self.sync = SQLAlchemyOAuthStateStore(
            expiration_seconds=expiration_seconds, engine=db.engine, logger=log
        )

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.sync.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.sync.consume, state)

    def purge_expired(self) -> int:
        """(In a worker thread.) Forget install links nobody finished (slack_sdk keeps them)."""
        table = self.sync.oauth_states
        now = datetime.now(UTC).replace(tzinfo=None)  # slack_sdk stores naive UTC
        with self.sync.engine.begin() as conn:
            purged: int = conn.execute(table.delete().where(table.c.expire_at <= now)).rowcount
        return purged


@dataclass
class _Cached:
    token: str
    expires_at: int | None  # epoch seconds, for a rotating token
    loaded: float  # monotonic


class WorkspaceTokens:
    """Which bot token speaks for a workspace (the gateway's token source in OAuth mode)."""

    def __init__(
        self,
        store: InstallationStore,
        rotator: AsyncTokenRotator,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.rotator = rotator
        self._monotonic = monotonic
        self._wall = wall  # slack_sdk's rotation compares expiry times with time.time()
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        store.on_change(self.forget_all)

    async def token_for(self, team_id: str) -> str | None:
        cached = self._cache.get(team_id)
        if cached is not None and self._usable(cached):
            return cached.token
        async with self._locks.setdefault(team_id, asyncio.Lock()):  # one refresh at a time
            cached = self._cache.get(team_id)
            if cached is not None and self._usable(cached):
                return cached.token
            found = await asyncio.to_thread(self.store.installation_for_team, team_id)
            if found is None or not found.bot_token:
                self._cache.pop(team_id, None)
                return None
            installation = await self._refreshed(found)
            token = installation.bot_token or found.bot_token
            if token is None:
                return None
            self._cache[team_id] = _Cached(
                token, installation.bot_token_expires_at, self._monotonic()
            )
            return token

    def _usable(self, cached: _Cached) -> bool:
        if self._monotonic() - cached.loaded >= CACHE_SECONDS:
            return False
        return cached.expires_at is None or cached.expires_at > self._wall() + ROTATE_MINUTES * 60

    async def _refreshed(self, installation: Installation) -> Installation:
        """The installation with a new bot token if its token is about to expire (saved
        first, so other processes and Bolt's requests use it too); else unchanged."""
        if installation.bot_refresh_token is None:
            return installation
        try:
            refreshed = await self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=ROTATE_MINUTES
            )
        except SlackTokenRotationError as exc:
            error = exc.api_error.response.get("error") if exc.api_error.response else None
            log.warning("could not refresh a workspace's bot token: Slack said %s", error)
            return installation  # still valid for a while, or Slack will say so
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("could not refresh a workspace's bot token: %s", type(exc).__name__)
            return installation
        if refreshed is None:
            return installation
        await self.store.async_save(refreshed)
        log.info("refreshed a workspace's bot token before it expired (token rotation)")
        return refreshed

    def forget(self, team_id: str) -> None:
        self._cache.pop(team_id, None)

    def forget_all(self) -> None:
        self._cache.clear()


@dataclass
class OAuth:
    """OAuth mode's pieces, built once in app.py."""

    store: InstallationStore
    states: OAuthStateStore
    tokens: WorkspaceTokens
    settings: Settings
    client: AsyncWebClient

    def bolt_options(self) -> dict[str, Any]:
        """What Bolt's AsyncApp needs to serve /slack/install and /slack/oauth_redirect,
        and to authorize each request with its workspace's installation."""
        client_id, client_secret = self.settings.client_id, self.settings.client_secret
        assert client_id is not None and client_secret is not None
        oauth_settings = AsyncOAuthSettings(
            client_id=client_id,
            client_secret=client_secret,
            scopes=bot_scopes(),
            user_scopes=[],
            installation_store=self.store,
            state_store=self.states,
            state_expiration_seconds=STATE_SECONDS,
            authorization_url=authorization_url(self.settings.api_url),
            token_rotation_expiration_minutes=ROTATE_MINUTES,
            logger=log,
        )
        # Given the store as well, the app builds its own authorize with our client, so the
        # refresh of a rotating token on a request goes to SLACK_API_URL over our pool (the
        # one AsyncOAuthSettings makes would use a client of its own, on slack.com).
        return {"oauth_settings": oauth_settings, "installation_store": self.store}


def build_oauth(
    settings: Settings,
    db: Database,
    client: AsyncWebClient,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> OAuth:
    client_id, client_secret = settings.client_id, settings.client_secret
    if client_id is None or client_secret is None:
        raise ValueError("OAuth mode needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    store = InstallationStore(db, client_id=client_id)
    rotator = AsyncTokenRotator(client_id=client_id, client_secret=client_secret, client=client)
    return OAuth(
        store=store,
        states=OAuthStateStore(db),
        tokens=WorkspaceTokens(store, rotator, monotonic=monotonic),
        settings=settings,
        client=client,
    )
