"""Process settings read from the environment, validated once at start-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_CLIENT_ID = re.compile(r"^[0-9]+\.[0-9]+$")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line meant for the installer."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None  # None in OAuth mode: each workspace's token is in the database
    signing_secret: str | None
    app_token: str | None
    api_url: str = SLACK_DEFAULT_API_URL
    port: int = 3000
    database_url: str = "sqlite:///mentor.db"
    admins: frozenset[str] = frozenset()
    admin_channel: str | None = None
    tick_seconds: int = 60
    log_level: str = "INFO"
    min_level_gap: int = 1
    ideal_level_gap: int = 3
    min_shared_hours: float = 2.0
    # OAuth mode (many workspaces): the app's credentials, instead of a bot token.
    client_id: str | None = None
    client_secret: str | None = None
    # Hold each Web API method to Slack's rate limits (off only against a test server that
    # has none: the dev kit's fake Slack with its limits off).
    slack_pacing: bool = True

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        """Many workspaces, each installed by OAuth with its own token (else one workspace,
        SLACK_BOT_TOKEN's)."""
        return self.client_id is not None

    def __repr__(self) -> str:  # secrets must never reach a log line or a traceback
        return (
            f"Settings(socket_mode={self.socket_mode}, oauth={self.oauth}, "
            f"api_url={self.api_url!r}, port={self.port}, "
            f"database={redact_url(self.database_url)!r}, admins={len(self.admins)}, "
            f"admin_channel={self.admin_channel!r}, tick_seconds={self.tick_seconds}, "
            f"log_level={self.log_level!r})"
        )


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build settings from an environment mapping, or raise ConfigError naming the bad variable."""

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    app_token = get("SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN must start with 'xapp-': in your app's settings, Basic Information > "
            "App-Level Tokens, create one with the connections:write scope and copy it into .env "
            "(or leave it unset to run in HTTP mode)."
        )

    client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
    oauth = client_id is not None or client_secret is not None
    if oauth:
        _check_oauth(client_id, client_secret, app_token=app_token)

    bot_token = get("SLACK_BOT_TOKEN")
    if oauth and bot_token is not None:
        raise ConfigError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: set SLACK_BOT_TOKEN to serve "
            "one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to serve many by OAuth, "
            "not both."
        )
    if bot_token is None and not oauth:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: create the app from manifest.yml, install it to your "
            "workspace, then copy the Bot User OAuth Token (xoxb-...) into .env (or, to serve "
            "many workspaces, set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead)."
        )
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise ConfigError(
            "SLACK_BOT_TOKEN must be a Bot User OAuth Token starting with 'xoxb-': copy it from "
            "OAuth & Permissions in your app's settings into .env."
        )

    signing_secret = get("SLACK_SIGNING_SECRET")
    if signing_secret is None and app_token is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set (HTTP mode needs it to verify Slack's requests): copy "
            "the Signing Secret from Basic Information in your app's settings into .env."
        )
    if signing_secret is not None and not re.fullmatch(r"[0-9a-f]{16,}", signing_secret):
        raise ConfigError(
            "SLACK_SIGNING_SECRET does not look like a signing secret (lowercase hex): copy it "
            "again from Basic Information > App Credentials."
        )

    api_url = get("SLACK_API_URL") or SLACK_DEFAULT_API_URL
    if not re.match(r"^https?://[^/\s]+", api_url):
        raise ConfigError(
            "SLACK_API_URL must be an http(s) URL such as https://slack.com/api/ "
            "(leave it unset unless you use GovSlack or a test server)."
        )
    if not api_url.endswith("/"):
        api_url += "/"

    port = _int_setting(get("PORT"), "PORT", default=3000, low=1, high=65535)
    tick_seconds = _int_setting(
        get("MENTOR_TICK_SECONDS"), "MENTOR_TICK_SECONDS", default=60, low=1, high=86400
    )

    database_url = get("DATABASE_URL") or "sqlite:///mentor.db"
    if not database_url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ConfigError(
            "DATABASE_URL must be a SQLite URL such as sqlite:///mentor.db (three slashes, "
            "then a file path) or a PostgreSQL one such as "
            "postgresql+psycopg://user@host:5432/mentor (psycopg 3)."
        )

    admins = frozenset(a.strip() for a in (get("MENTOR_ADMINS") or "").split(",") if a.strip())
    if oauth and admins:
        raise ConfigError(
            "MENTOR_ADMINS names admins of one workspace, so it applies only with "
            "SLACK_BOT_TOKEN: with OAuth, each workspace's owners and admins are program "
            "admins, and they name others under Program admins in /mentor admin settings."
        )
    bad_admins = sorted(a for a in admins if not _USER_ID.match(a))
    if bad_admins:
        raise ConfigError(
            f"MENTOR_ADMINS must be comma-separated Slack user IDs like U012ABCDEF; "
            f"{bad_admins[0]!r} is not one (profile > ... > Copy member ID)."
        )

    admin_channel = get("MENTOR_ADMIN_CHANNEL")
    if oauth and admin_channel is not None:
        raise ConfigError(
            "MENTOR_ADMIN_CHANNEL is a channel of one workspace, so it applies only with "
            "SLACK_BOT_TOKEN: with OAuth, each workspace chooses its admin channel in "
            "/mentor admin settings."
        )
    if admin_channel is not None and not _CHANNEL_ID.match(admin_channel):
        raise ConfigError(
            "MENTOR_ADMIN_CHANNEL must be a channel ID like C012ABCDEF, not a name: open the "
            "channel's details and copy the ID at the bottom."
        )

    min_level_gap = _int_setting(
        get("MENTOR_MIN_LEVEL_GAP"), "MENTOR_MIN_LEVEL_GAP", default=1, low=1, high=5
    )
    ideal_level_gap = _int_setting(
        get("MENTOR_IDEAL_LEVEL_GAP"), "MENTOR_IDEAL_LEVEL_GAP", default=3, low=1, high=5
    )
    min_shared_hours = _int_setting(
        get("MENTOR_MIN_SHARED_HOURS"), "MENTOR_MIN_SHARED_HOURS", default=2, low=0, high=9
    )

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}.")

    pacing = (get("SLACK_PACING") or "on").lower()
    if pacing not in ("on", "off"):
        raise ConfigError(
            "SLACK_PACING must be on (the default: calls keep to Slack's rate limits) or off "
            "(only for a test server that has no limits)."
        )

    return Settings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=api_url,
        port=port,
        database_url=database_url,
        admins=admins,
        admin_channel=admin_channel,
        tick_seconds=tick_seconds,
        log_level=log_level,
        min_level_gap=min_level_gap,
        ideal_level_gap=ideal_level_gap,
        min_shared_hours=float(min_shared_hours),
        client_id=client_id,
        client_secret=client_secret,
        slack_pacing=pacing == "on",
    )


def _check_oauth(
    client_id: str | None,
    client_secret: str | None,
    *,
    app_token: str | None,
) -> None:
    """OAuth mode's own settings: both credentials, well formed, and HTTP mode."""
    if client_id is None or client_secret is None:
        missing = "SLACK_CLIENT_ID" if client_id is None else "SLACK_CLIENT_SECRET"
        raise ConfigError(
            f"{missing} is not set: OAuth mode needs both SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET, from Basic Information > App Credentials in your app's settings."
        )
    if not _CLIENT_ID.match(client_id):
        raise ConfigError(
            "SLACK_CLIENT_ID does not look like a Client ID (digits, a dot, digits): copy it "
            "again from Basic Information > App Credentials."
        )
    if not re.fullmatch(r"[0-9a-f]{16,}", client_secret):
        raise ConfigError(
            "SLACK_CLIENT_SECRET does not look like a Client Secret (lowercase hex): copy it "
            "again from Basic Information > App Credentials."
        )
    if app_token is not None:
        raise ConfigError(
            "SLACK_APP_TOKEN (Socket Mode) serves one workspace: with SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET the bot serves many workspaces over HTTP (install and "
            "redirect URLs, manifest.oauth.yml), so remove SLACK_APP_TOKEN."
        )


def _int_setting(raw: str | None, name: str, *, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}.")
    return value


def redact_url(url: str) -> str:
    """A database URL fit for a log line: no password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
