"""Many workspaces (OAuth mode): which org each workspace belongs to, and what happens when
the app is uninstalled or its tokens are revoked.

Uninstalled (`app_uninstalled`), or its bot token revoked (`tokens_revoked`): the
workspace's installation is deleted (its tokens with it), the gateway forgets its cached
token, and every message decided for it and not yet sent is skipped, in that order, so
nothing more goes out to it from that moment: a message decided later finds no token and is
skipped too (handlers/core/outbox/failures.py). Its data stays until an admin deletes it
(`reverse-mentor delete-workspace TEAM_ID`). An org-wide installation removed from its org
stops every workspace of the org that no installation of its own speaks for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse

from handlers.core.deps import Deps
from handlers.core.installations import InstallationStore
from storage import workspaces

log = logging.getLogger(__name__)


def workspace_of(body: dict) -> str | None:
    """The workspace a request comes from (for an org-wide installation too, where the
    installation names no workspace)."""
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    if not team and isinstance(body.get("user"), dict):
        team = body["user"].get("team_id")
    return team if isinstance(team, str) and team.startswith("T") else None


def register(app: AsyncApp, deps: Deps) -> None:
    """OAuth mode's listeners (with one workspace there are none)."""
    if deps.oauth is None:
        return
    store, states = deps.oauth.store, deps.oauth.states
    known: set[tuple[str, str | None]] = set()

    @app.middleware
    async def note_org(
        context: AsyncBoltContext, body: dict, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        """Remember each workspace's org: the tick's messages to a workspace of an org that
        installed the bot org-wide go with the org's token."""
        team_id, enterprise_id = workspace_of(body), context.enterprise_id
        if team_id is not None and (team_id, enterprise_id) not in known:
            await deps.db.run(
                lambda s: workspaces.note_workspace(
                    session=s, team_id=team_id, enterprise_id=enterprise_id, now=deps.clock()
                )
            )
            known.add((team_id, enterprise_id))
        return await next()

    @app.event("app_uninstalled")
    async def app_uninstalled(body: dict, context: AsyncBoltContext) -> None:
        await stop_workspace(deps, store, body=body, context=context, why="app_uninstalled")

    @app.event("tokens_revoked")
    async def tokens_revoked(event: dict, body: dict, context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") or {}
        for user_id in tokens.get("oauth") or []:  # user tokens: the bot asks for none
            await store.async_delete_installation(
                enterprise_id=context.enterprise_id, team_id=context.team_id, user_id=user_id
            )
        if tokens.get("bot"):
            await stop_workspace(deps, store, body=body, context=context, why="tokens_revoked")

    async def purge_states(deps: Deps) -> None:
        purged = await asyncio.to_thread(states.purge_expired)
        if purged:
            log.info("forgot %d install links that were never used", purged)

    deps.tick_steps.append(purge_states)


async def stop_workspace(
    deps: Deps, store: InstallationStore, *, body: dict, context: AsyncBoltContext, why: str
) -> list[str]:
    """Delete the installation the event is about and stop sending to every workspace no
    installation speaks for any more; returns those workspaces."""
    enterprise_id = context.enterprise_id
    org_wide = bool(context.is_enterprise_install)
    team_id = None if org_wide else (context.team_id or workspace_of(body))
    if not org_wide and team_id is None:
        log.warning("a %s event named no workspace: nothing was stopped", why)
        return []
    await store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
    if org_wide and enterprise_id is not None:
        candidates = await deps.db.run(
            lambda s: workspaces.teams_of_enterprise(session=s, enterprise_id=enterprise_id)
        )
    else:
        candidates = [team_id] if team_id is not None else []
    stopped = []
    for candidate in candidates:
        if await asyncio.to_thread(store.installation_for_team, candidate) is None:
            stopped.append(candidate)
    skipped = await deps.db.run(
        lambda s: workspaces.stop_sending(session=s, team_ids=stopped, reason=why)
    )
    log.info(
        "%s: %d workspace(s) get nothing more and their tokens are deleted; %d waiting "
        "messages will not be sent; their data stays until `reverse-mentor delete-workspace`",
        why,
        len(stopped),
        skipped,
    )
    return stopped
