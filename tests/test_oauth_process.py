"""`python app.py` with many workspaces (OAuth) as a real process against the fake Slack:
a workspace installs it in a browser's steps, its requests are served, nothing secret is
logged, and it stops cleanly."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import aiohttp

from handlers.devkit.driver import SIGNING_SECRET, TEAM_ID
from handlers.devkit.signing import command_body, signed_headers
from tests.test_process import (
    _assert_clean_log,
    _assert_no_secrets,
    _env,
    _free_port,
    running_app,
)


async def test_oauth_mode_installs_serves_and_stops(slack, tmp_path):
    port = _free_port()
    env = _env(
        slack,
        tmp_path,
        PORT=str(port),
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=slack.client_id,
        SLACK_CLIENT_SECRET=slack.client_secret,
    )
    async with running_app(tmp_path, env) as app:
        await app.wait_for_stderr(f"listening on port {port}")
        assert any("GET /slack/install" in line for line in app.stderr)
        base = f"http://127.0.0.1:{port}"
        slack.redirect_uri = f"{base}/slack/oauth_redirect"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as browser:
            async with browser.get(f"{base}/slack/install?team={TEAM_ID}") as page:
                assert page.status == 200
                cookie = page.headers["Set-Cookie"].split(";")[0]
                link = re.search(r'href="([^"]+/oauth/v2/authorize[^"]*)"', await page.text())
            assert link is not None
            async with browser.get(
                link.group(1).replace("&amp;", "&"), allow_redirects=False
            ) as approved:
                back = urlsplit(approved.headers["Location"])
            async with browser.get(
                f"{base}{back.path}?{back.query}", headers={"Cookie": cookie}
            ) as done:
                assert done.status == 200 and "Thank you!" in await done.text()
            grant = slack.grant_of(TEAM_ID)
            assert grant is not None

            body = command_body(
                text="help", user_id="U1", team_id=TEAM_ID, response_url=slack.response_url("p")
            )
            async with browser.post(
                f"{base}/slack/events", data=body, headers=signed_headers(SIGNING_SECRET, body)
            ) as answer:
                assert answer.status == 200
                assert "/mentor signup" in str((await answer.json())["blocks"])
            assert slack.calls_to("auth.test")[-1].token == grant.token

        assert await app.stop() == 0
        _assert_clean_log(app)
        code = dict(p.split("=", 1) for p in back.query.split("&"))["code"]
        _assert_no_secrets(app, slack.client_secret, grant.token, SIGNING_SECRET, code)
