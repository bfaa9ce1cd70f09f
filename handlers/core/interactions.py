"""Reading a button press or a menu choice, and answering the person who made it."""

from __future__ import annotations

from datetime import date

from handlers.core.deps import Deps


def ids(body: dict) -> tuple[str, str]:
    """(team, user) of an interaction. With an org-wide installation Slack may leave `team`
    out: the workspace is then the person's own."""
    team = (body.get("team") or {}).get("id") or body["user"]["team_id"]
    return team, body["user"]["id"]


def channel_of(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def from_message(body: dict) -> bool:
    return (body.get("container") or {}).get("type") == "message" and "response_url" in body


def parse_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


async def tell(deps: Deps, body: dict, text: str, *, replace: bool = False) -> None:
    """A note to whoever clicked, where they clicked: replacing the message, or ephemeral."""
    if "response_url" in body:
        await deps.slack.respond(
            body["response_url"], response_type="ephemeral", replace_original=replace, text=text
        )
