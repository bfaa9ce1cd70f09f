"""The Home tab's listeners: drawn when opened; its admin buttons answer in a modal."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.core.deps import Deps
from handlers.home.use_cases import ADMIN_ACTIONS, admin_action, publish_home


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict, body: dict) -> None:
        if event.get("tab") != "home":
            return
        await publish_home(deps, team_id=body["team_id"], user_id=event["user"])

    for admin_action_id in ADMIN_ACTIONS:

        @app.action(admin_action_id)
        async def admin_home_button(ack: AsyncAck, body: dict, action: dict) -> None:
            await ack()
            await admin_action(deps, body, action["action_id"])
