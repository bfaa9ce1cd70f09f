"""Shared plumbing every feature stands on: the dependencies object, the one gateway for
Slack calls, the outbox that sends, the record of Slack events, the tick, HTTP and logging."""

from __future__ import annotations

from datetime import datetime

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from sqlmodel import Session

from handlers.core import inbox, outbox, workspaces
from handlers.core.deps import Deps
from storage import outbox as rows
from storage import program


def register(app: AsyncApp, deps: Deps) -> None:
    """The core's own listeners: the event record, and the admin channel coming back."""
    inbox.register(app, deps)
    workspaces.register(app, deps)
    outbox.register_kind(deps, outbox.ALERT, outbox.ALERT_KIND)
    inbox.register_applier(deps, "member_joined_channel", _apply_joined)

    @app.event("member_joined_channel")
    async def joined(event: dict, body: dict, context: AsyncBoltContext) -> None:
        if await inbox.apply_received(deps, body=body, event=event, context=context):
            outbox.kick(deps)


def _apply_joined(session: Session, deps: Deps, team_id: str, event: dict, now: datetime) -> None:
    """The bot joined the admin channel: the problem is fixed, what waited is due now."""
    settings = program.get_program_settings(session=session, team_id=team_id)
    channel = settings.admin_channel or deps.settings.admin_channel
    if not event.get("from_bot") or event.get("channel") != channel:
        return
    if program.clear_admin_channel_problem(session=session, team_id=team_id):
        rows.retry_now(session=session, team_id=team_id, kinds=outbox.ADMIN_KINDS, now=now)
