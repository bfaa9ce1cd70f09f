"""The App Home tab, republished whenever what it shows changes."""

from __future__ import annotations

import logging

from handlers import blocks
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from storage import participants

log = logging.getLogger(__name__)


async def publish_home(deps: Deps, *, team_id: str, user_id: str) -> None:
    participant = await deps.db.run(
        lambda s: participants.get_participant(session=s, team_id=team_id, user_id=user_id)
    )
    try:
        await deps.slack.call("views.publish", user_id=user_id, view=blocks.home_view(participant))
    except SlackCallError as exc:
        # The Home tab is redrawn on the next visit; a failure here loses nothing.
        log.warning("home tab not published: %s", exc.error)
