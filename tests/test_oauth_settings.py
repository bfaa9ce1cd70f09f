"""OAuth mode's settings: SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead of a bot token,
each problem one clear line."""

from __future__ import annotations

import pytest

from bot.settings import ConfigError, load_settings

SECRET = "0123456789abcdef0123"
OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "abcdef0123456789abcdef0123456789",
    "SLACK_SIGNING_SECRET": SECRET,
}


def test_client_id_and_secret_mean_oauth_mode_without_a_bot_token():
    settings = load_settings(OAUTH)
    assert settings.oauth and settings.bot_token is None and not settings.socket_mode
    assert (settings.client_id, settings.client_secret) == (
        "1111.2222",
        OAUTH["SLACK_CLIENT_SECRET"],
    )
    assert "abcdef0123" not in repr(settings) and "oauth=True" in repr(settings)


def test_a_bot_token_means_one_workspace():
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SECRET})
    assert not settings.oauth and settings.client_id is None


@pytest.mark.parametrize(
    ("env", "names"),
    [
        (
            {"SLACK_CLIENT_ID": "1111.2222", "SLACK_SIGNING_SECRET": SECRET},
            "SLACK_CLIENT_SECRET is not set",
        ),
        (OAUTH | {"SLACK_CLIENT_ID": ""}, "SLACK_CLIENT_ID is not set"),
        (OAUTH | {"SLACK_CLIENT_ID": "A0123"}, "SLACK_CLIENT_ID does not look"),
        (OAUTH | {"SLACK_CLIENT_SECRET": "not-a-secret"}, "SLACK_CLIENT_SECRET does not look"),
        (OAUTH | {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set"),
        (OAUTH | {"SLACK_APP_TOKEN": "xapp-1-A-1-x"}, "SLACK_APP_TOKEN .Socket Mode. serves one"),
        (OAUTH | {"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"),
        (OAUTH | {"MENTOR_ADMINS": "U01ABC"}, "MENTOR_ADMINS names admins of one workspace"),
        (OAUTH | {"MENTOR_ADMIN_CHANNEL": "G0123ABC"}, "MENTOR_ADMIN_CHANNEL is a channel of one"),
    ],
)
def test_bad_oauth_settings_name_the_variable(env, names):
    with pytest.raises(ConfigError, match=names) as caught:
        load_settings(env)
    assert "\n" not in str(caught.value)


def test_no_token_and_no_oauth_says_both_ways():
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set") as caught:
        load_settings({"SLACK_SIGNING_SECRET": SECRET})
    assert "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET" in str(caught.value)
