"""Many workspaces by OAuth, end to end against the fake Slack: the install flow, a token per
workspace, uninstalling, org-wide installs on Enterprise Grid, and token rotation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from handlers.core import outbox
from handlers.core.installations import CACHE_SECONDS, bot_scopes
from handlers.core.scheduler import tick
from handlers.devkit.forms import filled, signup_state
from storage import outbox as rows
from storage.models import OutboxMessage, Pair
from tests.kit.guides import without_guides

T1, T2 = "T0001", "T0002"


def installation(bot, team: str | None, *, enterprise: str | None = None, org_wide=False):
    return bot.runtime.deps.oauth.store.sync.find_installation(
        enterprise_id=enterprise, team_id=team, is_enterprise_install=org_wide
    )


def api_calls(bot, since: int = 0):
    return [c for c in bot.slack.calls[since:] if c.path.startswith("/api/")]


async def sign_up(bot, user: str, *, team: str = T1, enterprise=None, org_wide=False, **answers):
    await bot.command("signup", user=user, team=team, enterprise=enterprise, org_wide=org_wide)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(
        filled(view, signup_state(**answers)),
        user=user,
        team=team,
        enterprise=enterprise,
        org_wide=org_wide,
    )
    assert body["response_action"] == "update", body


def waiting_alert(bot, team: str, user: str, key: str) -> None:
    """A message decided for `team` that waits an hour (say, a deferred admin alert)."""
    now = bot.runtime.deps.clock()
    bot.runtime.deps.db.run_sync(
        lambda s: rows.enqueue(
            session=s,
            team_id=team,
            key=key,
            kind=outbox.ALERT,
            payload={"channel": user, "text": "Something to look at"},
            now=now,
            not_before=now + timedelta(hours=1),
        )
    )


def statuses(bot, team: str) -> dict[str, tuple[str, str | None]]:
    return bot.runtime.deps.db.run_sync(
        lambda s: {
            m.key: (m.status, m.last_error)
            for m in s.exec(select(OutboxMessage).where(OutboxMessage.team_id == team))
        }
    )


# --- installing --------------------------------------------------------------------------------


async def _start_install(bot) -> tuple[str, str]:
    """Open the install page: (the state cookie, the state in Slack's link)."""
    page = await bot.client.get("/slack/install")
    cookie = page.headers["Set-Cookie"].split(";")[0]
    return cookie, cookie.split("=", 1)[1]


async def test_install_flow_stores_the_installation_and_its_own_token_serves_it(oauth_bot, slack):
    response = await oauth_bot.install(T1)
    assert response.status == 200 and "Thank you!" in await response.text()

    # Slack was asked for exactly the bot scopes the code uses, with a state to come back with.
    [asked] = slack.authorize_requests
    assert asked["client_id"] == slack.client_id and asked["state"]
    assert asked["scope"].split(",") == bot_scopes() and asked["team"] == T1
    # The code was exchanged with the app's credentials; the installation is in our database.
    [exchange] = slack.calls_to("oauth.v2.access")
    assert exchange.params["code"].startswith("code-")
    grant = slack.grant_of(T1)
    stored = installation(oauth_bot, T1)
    assert stored is not None and stored.bot_token == grant.token != slack.token
    assert (stored.team_id, stored.bot_user_id, stored.is_enterprise_install) == (
        T1,
        grant.bot_user_id,
        False,
    )
    assert (
        oauth_bot.runtime.deps.db.run_sync(lambda s: s.exec(select(OutboxMessage)).all()) == []
    )  # installing decides nothing

    # A request from the workspace is authorized by it, and what the bot does is done with it.
    before = len(slack.calls)
    await sign_up(oauth_bot, "U1")
    used = api_calls(oauth_bot, before)
    assert {c.method for c in used} >= {"auth.test", "views.open", "users.info"}
    assert {c.token for c in used} == {grant.token}


async def test_an_install_state_works_once_and_only_in_the_browser_that_started_it(oauth_bot):
    cookie, state = await _start_install(oauth_bot)

    no_cookie = await oauth_bot.client.get(f"/slack/oauth_redirect?code=x&state={state}")
    assert no_cookie.status == 400  # another browser: Bolt's invalid_browser
    forged = "slack-app-oauth-state=made-up"
    unknown = await oauth_bot.client.get(
        "/slack/oauth_redirect?code=x&state=made-up", headers={"Cookie": forged}
    )
    assert unknown.status == 401  # a state the bot never issued
    assert installation(oauth_bot, T1) is None

    # The real one goes through once; the same redirect again is refused.
    code = f"code-{len(oauth_bot.slack.calls)}-replay"
    oauth_bot.slack._codes[code] = {
        "team_id": T1,
        "enterprise_id": None,
        "org_wide": False,
        "scope": "",
    }
    redirect = f"/slack/oauth_redirect?code={code}&state={state}"
    first = await oauth_bot.client.get(redirect, headers={"Cookie": cookie})
    again = await oauth_bot.client.get(redirect, headers={"Cookie": cookie})
    assert (first.status, again.status) == (200, 401)
    assert installation(oauth_bot, T1) is not None


async def test_the_fake_refuses_one_workspaces_token_for_another_workspace(oauth_bot, slack):
    slack.add_workspace(T2)
    slack.add_user("UJ9", team_id=T2)
    await oauth_bot.install(T1)
    await oauth_bot.install(T2)
    t1, t2 = slack.grant_of(T1).token, slack.grant_of(T2).token
    assert t1 != t2
    client = AsyncWebClient(base_url=slack.api_url)
    assert (await client.users_info(token=t2, user="UJ9"))["user"]["team_id"] == T2
    with pytest.raises(SlackApiError, match="user_not_found"):
        await client.users_info(token=t1, user="UJ9")
    dm = slack.open_dm("UJ9")
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.chat_postMessage(token=t1, channel=dm, text="hello")
    await client.chat_postMessage(token=t2, channel=dm, text="hello")


# --- uninstalling --------------------------------------------------------------------------------


async def _matched_pair(bot, *, team=T1, junior="U1", leader="UADMIN", admin="UOWNER", **grid):
    await sign_up(bot, junior, team=team, role="junior", level="2", **grid)
    await sign_up(bot, leader, team=team, role="leader", level="5", department="Ops", **grid)
    status, body = await bot.command("admin match", user=admin, team=team, **_org(grid))
    assert status == 200
    await bot.settle()
    return bot.runtime.deps.db.run_sync(
        lambda s: s.exec(select(Pair).where(Pair.team_id == team)).one()
    )


def _org(grid: dict) -> dict:
    return {"enterprise": grid.get("enterprise"), "org_wide": grid.get("org_wide", False)}


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
async def test_uninstalling_stops_all_sending_at_once_and_deletes_the_tokens(
    oauth_bot, slack, clock, event
):
    await oauth_bot.install(T1)
    pair = await _matched_pair(oauth_bot)
    assert slack.calls_to("chat.postMessage"), "the introduction went out"
    waiting_alert(oauth_bot, T1, "UOWNER", "waiting")

    slack.revoke(team_id=T1)  # Slack revokes the tokens, then tells the app
    before = len(slack.calls)
    assert await oauth_bot.event(event, event_id="EvGone") == 200

    assert installation(oauth_bot, T1) is None  # tokens deleted (installation and bot rows)
    store = oauth_bot.runtime.deps.oauth.store.sync
    assert store.find_bot(enterprise_id=None, team_id=T1) is None
    assert statuses(oauth_bot, T1)["waiting"] == ("skipped", event["type"])
    assert await oauth_bot.runtime.deps.slack.tokens.token_for(T1) is None

    # What falls due later for the workspace (the pair's prompt) is decided as usual, and
    # skipped without a word to Slack.
    clock.now = pair.prompt_due_at
    await tick(oauth_bot.runtime.deps)
    await oauth_bot.settle()
    later = {k: v for k, v in statuses(oauth_bot, T1).items() if k.startswith("prompt")}
    assert list(later.values()) == [("skipped", None)]
    assert api_calls(oauth_bot, before) == []
    # Its data stays until an admin deletes it.
    assert oauth_bot.runtime.deps.db.run_sync(lambda s: s.get(Pair, pair.id)) is not None


async def test_uninstalling_one_workspace_leaves_the_other_sending(oauth_bot, slack, clock):
    slack.add_workspace(T2)
    slack.add_user("UJ9", team_id=T2)
    await oauth_bot.install(T1)
    await oauth_bot.install(T2)
    waiting_alert(oauth_bot, T1, "UOWNER", "t1")
    waiting_alert(oauth_bot, T2, "UJ9", "t2")
    slack.revoke(team_id=T1)
    await oauth_bot.event({"type": "app_uninstalled"}, event_id="EvGone", team=T1)
    assert statuses(oauth_bot, T1) == {"t1": ("skipped", "app_uninstalled")}
    assert statuses(oauth_bot, T2) == {"t2": ("pending", None)}
    assert installation(oauth_bot, T2) is not None

    clock.advance(hours=2)  # the alert is due
    await outbox.deliver_due(oauth_bot.runtime.deps)
    assert statuses(oauth_bot, T2) == {"t2": ("sent", None)}
    [post] = slack.calls_to("chat.postMessage")
    assert post.token == slack.grant_of(T2).token


# --- Enterprise Grid -------------------------------------------------------------------------


async def test_an_org_wide_install_serves_every_workspace_of_the_org(oauth_bot, slack, clock):
    for team in ("T0002", "T0003"):
        slack.add_workspace(team, enterprise_id="E1")
    slack.add_workspace("T0009")  # not in the org, never installed
    slack.add_user("UJ2", team_id="T0002")
    slack.add_user("UL2", team_id="T0002", tz="Europe/Paris")
    slack.add_user("UA2", team_id="T0002", is_admin=True)
    slack.add_user("UJ3", team_id="T0003")

    await oauth_bot.install("E1")
    org = installation(oauth_bot, None, enterprise="E1", org_wide=True)
    grant = slack.grant_of("T0002")
    assert org is not None and org.is_enterprise_install and org.team_id is None
    assert org.bot_token == grant.token and grant.org_wide
    assert slack.grant_of("T0009") is None

    # Requests from the org's workspaces are authorized by the org's installation, and what
    # the bot sends to them (the introduction, after the request) goes with its token.
    grid = {"enterprise": "E1", "org_wide": True}
    before = len(slack.calls)
    pair = await _matched_pair(
        oauth_bot, team="T0002", junior="UJ2", leader="UL2", admin="UA2", **grid
    )
    assert pair.status == "active"
    intro = without_guides(slack.calls_to("chat.postMessage"))[-1]
    assert intro.params["channel"] == slack.conversation_id("UJ2", "UL2")
    assert {c.token for c in api_calls(oauth_bot, before)} == {grant.token}
    status, _ = await oauth_bot.command("help", user="UJ3", team="T0003", **_org(grid))
    assert status == 200

    # The tick's messages too: it knows which org a workspace is in.
    waiting_alert(oauth_bot, "T0003", "UJ3", "t3")
    oauth_bot.runtime.deps.slack.tokens.forget_all()
    clock.advance(hours=2)
    await outbox.deliver_due(oauth_bot.runtime.deps)
    assert statuses(oauth_bot, "T0003") == {"t3": ("sent", None)}
    assert slack.calls_to("chat.postMessage")[-1].token == grant.token
    # A workspace outside the org gets nothing: there is no token for it.
    assert await oauth_bot.runtime.deps.slack.tokens.token_for("T0009") is None

    # The org removes the app: every workspace of the org stops at once.
    waiting_alert(oauth_bot, "T0002", "UA2", "t2")
    waiting_alert(oauth_bot, "T0003", "UJ3", "t3-later")
    slack.revoke(enterprise_id="E1")
    await oauth_bot.event(
        {"type": "app_uninstalled"}, event_id="EvOrgGone", team="T0002", **_org(grid)
    )
    assert installation(oauth_bot, None, enterprise="E1", org_wide=True) is None
    assert statuses(oauth_bot, "T0002")["t2"] == ("skipped", "app_uninstalled")
    assert statuses(oauth_bot, "T0003")["t3-later"] == ("skipped", "app_uninstalled")
    for team in ("T0002", "T0003"):
        assert await oauth_bot.runtime.deps.slack.tokens.token_for(team) is None


# --- token rotation --------------------------------------------------------------------------


def _expiring_soon(bot, slack, team: str, *, minutes: int) -> None:
    """Time passes: the workspace's current token has `minutes` left (at Slack, and as the
    installation records it)."""
    grant = slack.grant_of(team)
    grant.expires_at = time.time() + minutes * 60
    store = bot.runtime.deps.oauth.store.sync
    when = datetime.fromtimestamp(grant.expires_at, UTC).replace(tzinfo=None)
    with store.engine.begin() as conn:
        for table in (store.installations, store.bots):
            conn.execute(
                table.update()
                .where(table.c.bot_token == grant.token)
                .values(bot_token_expires_at=when)
            )


def _refreshes(slack) -> list:
    return [
        c
        for c in slack.calls_to("oauth.v2.access")
        if c.params.get("grant_type") == "refresh_token"
    ]


async def test_rotating_tokens_are_refreshed_before_they_expire_and_saved(
    oauth_bot, slack, timer, clock
):
    slack.token_lifetime = 12 * 3600  # Slack's rotating bot tokens last 12 hours
    await oauth_bot.install(T1)
    first = slack.grant_of(T1)
    stored = installation(oauth_bot, T1)
    assert stored.bot_refresh_token == first.refresh_token and stored.bot_token_expires_at

    # Twelve hours left: nothing to refresh.
    waiting_alert(oauth_bot, T1, "U1", "a")
    clock.advance(hours=2)
    await outbox.deliver_due(oauth_bot.runtime.deps)
    assert _refreshes(slack) == [] and slack.calls_to("chat.postMessage")[-1].token == first.token

    # An hour left: the bot's own send refreshes it first, saves it, and sends with it.
    _expiring_soon(oauth_bot, slack, T1, minutes=60)
    timer.elapsed += CACHE_SECONDS  # the cached token is looked at again
    waiting_alert(oauth_bot, T1, "U1", "b")
    clock.advance(hours=2)
    await outbox.deliver_due(oauth_bot.runtime.deps)
    [refresh] = _refreshes(slack)
    assert refresh.params["refresh_token"] == first.refresh_token
    second = slack.grant_of(T1)
    assert second.token != first.token
    assert slack.calls_to("chat.postMessage")[-1].token == second.token
    assert statuses(oauth_bot, T1)["b"] == ("sent", None)
    stored = installation(oauth_bot, T1)
    assert (stored.bot_token, stored.bot_refresh_token) == (second.token, second.refresh_token)
    bot_row = oauth_bot.runtime.deps.oauth.store.sync.find_bot(enterprise_id=None, team_id=T1)
    assert bot_row.bot_token == second.token

    # An incoming request with a token about to expire: Bolt refreshes it (through our
    # client and store), and the listener's own calls use the new one at once.
    _expiring_soon(oauth_bot, slack, T1, minutes=30)
    before = len(slack.calls)
    await oauth_bot.command("signup", user="U1", trigger_id="trig-rotate")
    assert len(_refreshes(slack)) == 2
    third = slack.grant_of(T1)
    assert installation(oauth_bot, T1).bot_token == third.token
    [opened] = [c for c in slack.calls_to("views.open") if c.params["trigger_id"] == "trig-rotate"]
    assert opened.token == third.token
    assert first.token not in {c.token for c in api_calls(oauth_bot, before)}


async def test_a_token_another_process_replaced_or_deleted_is_read_again(oauth_bot, slack, clock):
    """Another instance on the same database rotated the token (Slack refuses the old one),
    then uninstalled the workspace: this one's cached token is read again, not trusted."""
    await oauth_bot.install(T1)
    deps = oauth_bot.runtime.deps
    old = slack.grant_of(T1)
    assert await deps.slack.tokens.token_for(T1) == old.token  # cached here

    store = deps.oauth.store.sync  # the other process: no cache of ours is told
    new = slack._issue(T1, None, False)
    current = installation(oauth_bot, T1)
    current.bot_token = new.token
    store.save(current)
    old.revoked = True
    waiting_alert(oauth_bot, T1, "U1", "after-rotation")
    clock.advance(hours=2)
    await outbox.deliver_due(deps)
    assert statuses(oauth_bot, T1)["after-rotation"] == ("sent", None)
    assert slack.calls_to("chat.postMessage")[-1].token == new.token

    store.delete_installation(enterprise_id=None, team_id=T1)
    store.delete_bot(enterprise_id=None, team_id=T1)
    new.revoked = True
    waiting_alert(oauth_bot, T1, "U1", "after-uninstall")
    clock.advance(hours=2)
    await outbox.deliver_due(deps)
    assert statuses(oauth_bot, T1)["after-uninstall"] == ("skipped", None)
