"""Preparation guides in other features' tests: every match now also sends each new person a
guide DM (tests/test_guides_flow.py tests those). Tests about introductions, the rhythm or
the outcomes count their own messages with these helpers, leaving the guides out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlmodel import Session

from handlers.devkit.driver import TEAM_ID
from storage import program


def outbox_key(call: Any) -> str:
    """The outbox key a post carries in its metadata ("" if none)."""
    metadata = call.params.get("metadata") or {}
    return str((metadata.get("event_payload") or {}).get("outbox_key") or "")


def is_guide(call: Any) -> bool:
    return outbox_key(call).startswith("guide:")


def without_guides(calls: Iterable[Any]) -> list[Any]:
    return [call for call in calls if not is_guide(call)]


def guides_off(bot: Any, team_id: str = TEAM_ID) -> None:
    """What an admin does in the settings modal: the workspace sends no guides. For tests
    that time Slack's failures or a kill by counting posts, all of them of one kind."""

    def save(session: Session) -> None:
        current = program.get_program_settings(session=session, team_id=team_id)
        program.save_program_settings(
            session=session,
            team_id=team_id,
            settings=replace(current, send_guides=False),
            now=bot.runtime.deps.clock(),
        )

    bot.runtime.deps.db.run_sync(save)
