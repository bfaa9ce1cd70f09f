"""Drive the real app (the object app.py builds) through signed HTTP requests, as Slack would."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

import app
from bot.settings import load_settings
from handlers.devkit.fake_slack import FakeSlack
from handlers.devkit.signing import command_body, event_body, interactive_body, signed_headers

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
TEAM_ID = "T0001"


@dataclass
class Clock:
    """A controllable wall clock: tests move time, nothing sleeps."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


WALL_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()


@dataclass
class FakeTimer:
    """Stands in for asyncio.sleep and time.monotonic inside the Slack gateway."""

    elapsed: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.elapsed

    def wall(self) -> float:
        """Wall-clock seconds that move with the waits (shared rate limits are kept in it)."""
        return WALL_START + self.elapsed

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds


class Driver:
    def __init__(self, runtime: app.Runtime, client: TestClient, slack: FakeSlack) -> None:
        self.runtime = runtime
        self.client = client
        self.slack = slack
        self._responses = 0

    async def post(
        self,
        body: str,
        *,
        content_type: str,
        headers: dict | None = None,
        expect_listener: bool = False,
    ):
        """POST a signed request, then wait for the work it started. `expect_listener`: a
        request Slack would send to a listener (a command, an interaction) must reach one."""
        signed = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        signed.update(headers or {})
        runs = self.runtime.deps.listener_runs
        response = await self.client.post("/slack/events", data=body, headers=signed)
        await self.settle()
        if expect_listener and response.status == 200 and self.runtime.deps.listener_runs == runs:
            raise AssertionError("answered 200, but no listener ran: nothing was tracked")
        return response

    async def command(
        self,
        text: str,
        *,
        user: str = "U1",
        trigger_id: str = "trig-1",
        team: str = TEAM_ID,
        enterprise: str | None = None,
        org_wide: bool = False,
    ):
        """Send `/mentor <text>` (from workspace `team`, of org `enterprise`, where the app
        may be installed `org_wide`); returns (status, JSON body or None)."""
        self._responses += 1
        body = command_body(
            text=text,
            user_id=user,
            team_id=team,
            trigger_id=trigger_id,
            response_url=self.slack.response_url(f"cmd{self._responses}"),
            enterprise_id=enterprise,
            is_enterprise_install=org_wide,
        )
        response = await self.post(
            body, content_type="application/x-www-form-urlencoded", expect_listener=True
        )
        return response.status, await _json_or_none(response)

    async def interact(
        self,
        payload: dict,
        *,
        team: str = TEAM_ID,
        enterprise: str | None = None,
        org_wide: bool = False,
    ):
        """An interaction from workspace `team` (of org `enterprise`; with an org-wide
        installation Slack sends no team, only the person's)."""
        payload.setdefault("team", None if org_wide else {"id": team, "domain": "acme"})
        if enterprise is not None:
            payload.setdefault("enterprise", {"id": enterprise, "name": f"Org {enterprise}"})
            payload.setdefault("is_enterprise_install", org_wide)
        payload.setdefault("api_app_id", "A1")
        payload.setdefault("token", "legacy-verification-token")
        response = await self.post(
            interactive_body(payload),
            content_type="application/x-www-form-urlencoded",
            expect_listener=True,
        )
        return response.status, await _json_or_none(response)

    async def submit_view(
        self,
        view: dict,
        *,
        user: str = "U1",
        team: str = TEAM_ID,
        enterprise: str | None = None,
        org_wide: bool = False,
    ):
        """Submit a modal the bot opened, with `view["state"]` already filled in."""
        return await self.interact(
            {"type": "view_submission", "user": {"id": user, "team_id": team}, "view": view},
            team=team,
            enterprise=enterprise,
            org_wide=org_wide,
        )

    async def click(
        self,
        action_id: str,
        *,
        user: str = "U1",
        container: dict | None = None,
        team: str = TEAM_ID,
        **action_fields,
    ):
        """Press a button (or pick from an element: pass e.g. selected_date=...)."""
        self._responses += 1
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "team_id": team},
            "trigger_id": f"trig-{self._responses}",
            "container": container or {"type": "view", "view_id": "VHOME"},
            "actions": [{"action_id": action_id, "block_id": "b", "type": "button"}],
        }
        payload["actions"][0].update(action_fields)
        if payload["container"]["type"] == "message":
            payload["response_url"] = self.slack.response_url(f"act{self._responses}")
            if "channel_id" in payload["container"]:
                payload["channel"] = {"id": payload["container"]["channel_id"]}
        return await self.interact(payload, team=team)

    async def click_in_message(self, call, action_id: str, *, user: str, **action_fields):
        """Press something in a message the bot posted (a recorded chat.postMessage call)."""
        container = {
            "type": "message",
            "channel_id": call.params["channel"],
            "message_ts": "1700000000.000100",
            "is_ephemeral": False,
        }
        return await self.click(action_id, user=user, container=container, **action_fields)

    async def event(
        self,
        event: dict,
        *,
        event_id: str,
        retry_num: int | None = None,
        team: str = TEAM_ID,
        enterprise: str | None = None,
        org_wide: bool = False,
    ):
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.post(
            event_body(
                event,
                team_id=team,
                event_id=event_id,
                enterprise_id=enterprise,
                is_enterprise_install=org_wide,
            ),
            content_type="application/json",
            headers=headers,
        )
        return response.status

    async def install(self, team: str | None = None) -> aiohttp.ClientResponse:
        """Install the app as a browser would (OAuth mode): open /slack/install (it sets the
        state cookie), follow its link to Slack's authorize page (the fake approves at once,
        for workspace `team`, or org-wide for an org's E… id) and come back to the redirect
        URL with the code and the cookie. Returns the redirect's response."""
        query = f"?team={team}" if team else ""
        page = await self.client.get(f"/slack/install{query}")
        assert page.status == 200, await page.text()
        link = re.search(r'href="([^"]+/oauth/v2/authorize[^"]*)"', await page.text())
        assert link is not None, "the install page has no link to Slack"
        cookie = page.headers["Set-Cookie"].split(";")[0]
        url = link.group(1).replace("&amp;", "&")
        self.slack.redirect_uri = str(self.client.make_url("/slack/oauth_redirect"))
        async with aiohttp.ClientSession() as browser:
            approved = await browser.get(url, allow_redirects=False)
        assert approved.status == 302, await approved.text()
        # Back to this app's redirect URL: its path and query, on the test server.
        back = "/" + approved.headers["Location"].split("://", 1)[1].split("/", 1)[1]
        response = await self.client.get(back, headers={"Cookie": cookie}, allow_redirects=False)
        await self.settle()
        return response

    async def settle(self) -> None:
        """Wait for the work the app started: the listeners Bolt runs after an ack and what
        they spawned, all tracked on Deps.background (handlers/core/bolt.py)."""
        for _ in range(50):
            await asyncio.sleep(0)  # a listener Bolt has just scheduled gets to start
            pending = [task for task in self.runtime.deps.background if not task.done()]
            if not pending:
                return
            await asyncio.wait(pending, timeout=10)
        raise AssertionError("work the app started was still going after 50 rounds")


async def _json_or_none(response):
    text = await response.text()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def make_oauth_settings(slack: FakeSlack, database, **overrides: str):
    """Settings for many workspaces by OAuth against the fake: its client ID and secret, no
    bot token and no MENTOR_ADMINS."""
    return make_settings(
        slack,
        database,
        **{
            "SLACK_BOT_TOKEN": "",
            "MENTOR_ADMINS": "",
            "SLACK_CLIENT_ID": slack.client_id,
            "SLACK_CLIENT_SECRET": slack.client_secret,
            **overrides,
        },
    )


def make_settings(slack: FakeSlack, database, **overrides: str):
    """Settings against the fake; `database` is a SQLite file's path or a database URL."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url_of(database),
        "MENTOR_ADMINS": "UADMIN",
    }
    env.update(overrides)
    return load_settings(env)


def database_url_of(database: object) -> str:
    text = str(database)
    return text if "://" in text else f"sqlite:///{text}"


async def start_driver(settings, slack: FakeSlack, *, clock: Clock, timer: FakeTimer) -> Driver:
    runtime = app.build(
        settings, clock=clock, sleep=timer.sleep, monotonic=timer.monotonic, wall=timer.wall
    )
    # On a busy test machine a command may take longer than the half second after which the
    # bot sends "still working on it"; tests read the answer itself, so they allow what
    # Slack allows (the note has tests of its own, which set this back).
    runtime.deps.still_working_after = 2.5
    runtime.scheduler.start(paused=True)
    client = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    return Driver(runtime, client, slack)


async def stop_driver(driver: Driver) -> None:
    await driver.client.close()
    if driver.runtime.scheduler.running:
        driver.runtime.scheduler.shutdown(wait=False)
    driver.runtime.deps.db.close()
