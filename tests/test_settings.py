from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "0123456789abcdef0123"}


def test_defaults():
    settings = load_settings(GOOD)
    assert settings.socket_mode is False
    assert settings.api_url == "https://slack.com/api/"
    assert (settings.port, settings.tick_seconds, settings.log_level) == (3000, 60, "INFO")
    assert settings.database_url == "sqlite:///mentor.db"
    assert settings.slack_pacing is True


def test_socket_mode_when_app_token_set_and_signing_secret_optional():
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A-1-x"})
    assert settings.socket_mode is True


def test_all_settings_parsed():
    settings = load_settings(
        GOOD
        | {
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "PORT": "8080",
            "MENTOR_ADMINS": "U01ABC, W02DEF",
            "MENTOR_ADMIN_CHANNEL": "C0123ABC",
            "MENTOR_TICK_SECONDS": "5",
            "LOG_LEVEL": "debug",
            "SLACK_PACING": "OFF",
        }
    )
    assert settings.slack_pacing is False
    assert settings.api_url == "http://127.0.0.1:9/api/"
    assert settings.admins == frozenset({"U01ABC", "W02DEF"})
    assert (settings.port, settings.tick_seconds, settings.log_level) == (8080, 5, "DEBUG")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        (GOOD | {"SLACK_SIGNING_SECRET": "not hex!"}, "SLACK_SIGNING_SECRET does not"),
        (GOOD | {"SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN must start"),
        (GOOD | {"PORT": "eighty"}, "PORT must be"),
        (GOOD | {"PORT": "70000"}, "PORT must be"),
        (GOOD | {"MENTOR_TICK_SECONDS": "0"}, "MENTOR_TICK_SECONDS"),
        (GOOD | {"MENTOR_ADMINS": "U01ABC,@alice"}, "MENTOR_ADMINS"),
        (GOOD | {"MENTOR_ADMIN_CHANNEL": "#mentoring"}, "MENTOR_ADMIN_CHANNEL"),
        (GOOD | {"DATABASE_URL": "postgresql://x"}, "DATABASE_URL"),
        (GOOD | {"SLACK_API_URL": "slack.com"}, "SLACK_API_URL"),
        (GOOD | {"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        (GOOD | {"SLACK_PACING": "sometimes"}, "SLACK_PACING"),
        (GOOD | {"MENTOR_MIN_LEVEL_GAP": "0"}, "MENTOR_MIN_LEVEL_GAP"),
        (GOOD | {"MENTOR_MIN_SHARED_HOURS": "10"}, "MENTOR_MIN_SHARED_HOURS"),
    ],
)
def test_bad_settings_name_the_variable(env, names):
    with pytest.raises(ConfigError, match=names) as caught:
        load_settings(env)
    assert "\n" not in str(caught.value)


def test_repr_hides_secrets():
    text = repr(load_settings(GOOD | {"SLACK_APP_TOKEN": "xapp-secret"}))
    assert "xoxb" not in text and "0123456789abcdef" not in text and "xapp" not in text


def test_app_without_tokens_exits_with_one_clear_line(tmp_path):
    root = Path(__file__).resolve().parents[1]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, str(root / "app.py")],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN is not set" in lines[0]
    assert "manifest.yml" in lines[0]
