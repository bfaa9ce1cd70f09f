"""Workspaces, the OAuth install flow (`/oauth/v2/authorize`, `oauth.v2.access`), the tokens it
issues (rotating ones too) and the boundary between workspaces a token may not cross."""

from __future__ import annotations

import base64
import time

from aiohttp import web

from handlers.devkit.fake_slack.errors import _error
from handlers.devkit.fake_slack.records import Grant
from handlers.devkit.fake_slack.state import _State


class OAuthMixin(_State):
    # --- test controls -------------------------------------------------------------------------

    def add_workspace(
        self, team_id: str, *, name: str | None = None, enterprise_id: str | None = None
    ) -> dict:
        """Another workspace (of an Enterprise Grid org with `enterprise_id`)."""
        self.workspaces[team_id] = {
            "id": team_id,
            "name": name or f"Workspace {team_id}",
            "enterprise_id": enterprise_id,
        }
        return self.workspaces[team_id]

    def grant_of(self, team_id: str) -> Grant | None:
        """The newest live token that speaks for `team_id` (its own, else its org's)."""
        org = self.workspaces.get(team_id, {}).get("enterprise_id")
        live = [g for g in self.grants.values() if not g.revoked]
        own = [g for g in live if g.team_id == team_id]
        orgs = [g for g in live if g.org_wide and org and g.enterprise_id == org]
        found = own or orgs
        return found[-1] if found else None

    def revoke(self, *, team_id: str | None = None, enterprise_id: str | None = None) -> int:
        """Uninstall: the workspace's tokens (or the org-wide ones of `enterprise_id`) stop
        working, as Slack's do when an app is removed. Returns how many were revoked."""
        revoked = 0
        for grant in self.grants.values():
            ours = grant.team_id == team_id if team_id else False
            ours |= bool(enterprise_id) and grant.org_wide and grant.enterprise_id == enterprise_id
            if ours and not grant.revoked:
                grant.revoked, revoked = True, revoked + 1
        return revoked

    # --- OAuth ---------------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Slack's "Allow" page, answered at once: approves the install and sends the browser
        back to the app's redirect URL with a code and the state. `team` picks the workspace
        (a T… id), or an org (an E… id: an org-wide install); else the first workspace."""
        query = dict(request.query)
        self.authorize_requests.append(query)
        redirect = query.get("redirect_uri") or self.redirect_uri
        if query.get("client_id") != self.client_id or not redirect:
            return web.Response(status=400, text="invalid client_id or no redirect URL")
        chosen = query.get("team") or self.team_id
        code = f"code-{next(self._ids)}"
        if chosen.startswith("E"):
            self._codes[code] = {"team_id": None, "enterprise_id": chosen, "org_wide": True}
        else:
            org = self.workspaces.get(chosen, {}).get("enterprise_id")
            self._codes[code] = {"team_id": chosen, "enterprise_id": org, "org_wide": False}
        self._codes[code]["scope"] = query.get("scope", "")
        location = f"{redirect}?code={code}&state={query.get('state', '')}"
        raise web.HTTPFound(location)

    def _oauth_v2_access(self, request: web.Request, params: dict) -> dict:
        client_id, secret = params.get("client_id"), params.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != self.client_id:
            return _error("invalid_client_id")
        if secret != self.client_secret:
            return _error("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            old = self._refresh.pop(str(params.get("refresh_token")), None)
            if old is None or old.revoked:
                return _error("invalid_refresh_token")
            grant = self._issue(old.team_id, old.enterprise_id, old.org_wide)
            return self._token_answer(grant, scope="")
        approved = self._codes.pop(str(params.get("code")), None)
        if approved is None:
            return _error("invalid_code")
        grant = self._issue(approved["team_id"], approved["enterprise_id"], approved["org_wide"])
        return self._token_answer(grant, scope=approved["scope"])

    def _issue(self, team_id: str | None, enterprise_id: str | None, org_wide: bool) -> Grant:
        n = next(self._ids)
        owner = team_id or enterprise_id or "?"
        rotating = self.token_lifetime is not None
        grant = Grant(
            token=f"xoxe.xoxb-{owner}-{n}" if rotating else f"xoxb-{owner}-{n}",
            team_id=team_id,
            enterprise_id=enterprise_id,
            org_wide=org_wide,
            bot_user_id=self.bot_user_id if team_id == self.team_id else f"UBOT{owner}",
            bot_id=self.bot_id if team_id == self.team_id else f"BBOT{owner}",
            expires_at=time.time() + self.token_lifetime if self.token_lifetime else None,
            refresh_token=f"xoxe-1-{owner}-{n}" if rotating else None,
        )
        self.grants[grant.token] = grant
        if grant.refresh_token:
            self._refresh[grant.refresh_token] = grant
        return grant

    def _token_answer(self, grant: Grant, *, scope: str) -> dict:
        team = self.workspaces.get(grant.team_id or "") if grant.team_id else None
        answer: dict = {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UINSTALLER"},
            "scope": scope,
            "token_type": "bot",
            "access_token": grant.token,
            "bot_user_id": grant.bot_user_id,
            "team": {"id": team["id"], "name": team["name"]} if team else None,
            "enterprise": (
                {"id": grant.enterprise_id, "name": f"Org {grant.enterprise_id}"}
                if grant.enterprise_id
                else None
            ),
            "is_enterprise_install": grant.org_wide,
        }
        if grant.refresh_token and grant.expires_at is not None:
            answer["refresh_token"] = grant.refresh_token
            answer["expires_in"] = round(grant.expires_at - time.time())
        return answer

    def _outside(self, grant: Grant, params: dict) -> dict | None:
        """Slack's answer to a workspace's token used about another workspace's user or
        conversation: it cannot see them."""
        allowed = self._teams_of(grant)
        users = params.get("users")
        if isinstance(users, str):
            users = users.split(",")
        people = [params.get("user"), params.get("user_id"), *(users or [])]
        for person in people:
            team = self._team_of(person.strip() if isinstance(person, str) else person)
            if team is not None and team not in allowed:
                return _error("user_not_found")
        for key in ("channel", "channel_id"):
            team = self._team_of(params.get(key))
            if team is not None and team not in allowed:
                return _error("channel_not_found")
        return None
