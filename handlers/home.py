"""The App Home tab, republished whenever what it shows changes."""

from __future__ import annotations

import logging

from handlers import blocks, pairing
from handlers.deps import Deps
from handlers.slack_api import SlackCallError

log = logging.getLogger(__name__)


async def publish_home(deps: Deps, *, team_id: str, user_id: str) -> None:
    me, live, partners = await deps.db.run(
        lambda s: pairing.pair_view(s, team_id=team_id, user_id=user_id)
    )
    view = blocks.home_view(me, pairs_section=blocks.pairs_status_blocks(user_id, live, partners))
    try:
        await deps.slack.call("views.publish", user_id=user_id, view=view)
    except SlackCallError as exc:
        # The Home tab is redrawn on the next visit; a failure here loses nothing.
        log.warning("home tab not published: %s", exc.error)
