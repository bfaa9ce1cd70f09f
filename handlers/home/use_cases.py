"""The App Home tab: published whenever what it shows changes, and its admin buttons.

A participant sees their status, each pair with its next session and latest prompt, their own
pulse ratings and their buttons. An admin sees the program's headline numbers and the admin
buttons above that. The admin buttons answer in a modal: Home has no response_url.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlmodel import Session

from handlers.cohorts.blocks import cohort_home_blocks
from handlers.cohorts.use_cases import cohort_lines
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.core.interactions import ids
from handlers.core.slack import SlackCallError
from handlers.home import blocks
from handlers.home.blocks import HomeActions
from handlers.pairing import use_cases as pairing
from handlers.pairing.blocks import match_preview_blocks, pairs_status_blocks
from handlers.reports import use_cases as reports
from handlers.settings.use_cases import open_settings_form
from storage import home, program, pulse
from storage.models import Pair, Participant

log = logging.getLogger(__name__)

ADMIN_ACTIONS = (
    HomeActions.ADMIN_PREVIEW,
    HomeActions.ADMIN_SUMMARY,
    HomeActions.ADMIN_EXPORT,
    HomeActions.ADMIN_SETTINGS,
)
# Modals opened with "working on it" while the work runs; updated with the answer.
_TITLES = {
    HomeActions.ADMIN_PREVIEW: "Match preview",
    HomeActions.ADMIN_SUMMARY: "Program summary",
    HomeActions.ADMIN_EXPORT: "Export",
}
_WORKING = {
    HomeActions.ADMIN_PREVIEW: "Working out the best pairs for everyone waiting…",
    HomeActions.ADMIN_SUMMARY: "Posting the program summary…",
    HomeActions.ADMIN_EXPORT: "Preparing your export…",
}

_REFUSED = "These buttons are for the program's admins, so nothing was done."


async def publish_home(deps: Deps, *, team_id: str, user_id: str) -> None:
    admin = await deps.is_admin(team_id=team_id, user_id=user_id)

    def load(
        session: Session,
    ) -> tuple[
        Participant | None,
        list[Pair],
        dict[str, Participant],
        dict[int, str],
        list[tuple[datetime, int]],
    ]:
        me, live, partners = pairing.pair_view(session, team_id=team_id, user_id=user_id)
        prompt_ids = home.latest_prompts(session=session, pair_ids=[p.id for p in live if p.id])
        ratings = pulse.ratings_of_user(session=session, team_id=team_id, user_id=user_id)
        return me, live, partners, prompt_ids, ratings

    me, live, partners, prompt_ids, ratings = await deps.db.read(load)
    library = {prompt.id: prompt for prompt in deps.prompts}
    prompts = {pid: library[ref] for pid, ref in prompt_ids.items() if ref in library}
    admin_section: Sequence[Block] = ()
    if admin:
        admin_section = blocks.admin_blocks(
            await _headline(deps, team_id=team_id),
            warning=await _admin_channel_warning(deps, team_id=team_id),
            cohorts=cohort_home_blocks(await cohort_lines(deps, team_id=team_id)),
        )
    view = blocks.home_view(
        me,
        pairs_section=blocks.pairs_with_prompts(
            live, pairs_status_blocks(user_id, live, partners), prompts
        ),
        admin_section=admin_section,
        extra_section=blocks.ratings_blocks(list(reversed(ratings))),  # newest first
    )
    try:
        await deps.slack.call("views.publish", team_id=team_id, user_id=user_id, view=view)
    except SlackCallError as exc:
        # The Home tab is redrawn on the next visit; a failure here loses nothing.
        log.warning("home tab not published: %s", exc.error)


async def _admin_channel_warning(deps: Deps, *, team_id: str) -> str | None:
    """How to fix the admin channel, while the bot cannot post there."""

    def load(session: Session) -> tuple[str | None, str | None]:
        settings = program.get_program_settings(session=session, team_id=team_id)
        problem = program.admin_channel_problem(session=session, team_id=team_id)
        return settings.admin_channel or deps.settings.admin_channel, problem

    channel, problem = await deps.db.read(load)
    if channel is None or problem is None:
        return None
    return outbox.admin_channel_fix(channel, problem)


async def _headline(deps: Deps, *, team_id: str) -> dict[str, str]:
    """The summary's headline numbers, else (if computing them failed) a few plain counts."""
    try:
        return await reports.headline_numbers(deps, team_id=team_id, now=deps.clock())
    except Exception:
        log.warning("headline numbers failed; showing plain counts", exc_info=True)
    counts = await deps.db.read(lambda s: home.program_counts(session=s, team_id=team_id))
    return {
        "Waiting for a pair": str(counts["waiting"]),
        "Active pairs": str(counts["active_pairs"]),
        "Sessions held": str(counts["sessions_held"]),
    }


async def admin_action(deps: Deps, body: dict, action_id: str) -> None:
    """An admin button on Home: answered in a modal, opened at once with the click's trigger."""
    team_id, user_id = ids(body)
    trigger_id = body["trigger_id"]
    if not await deps.is_admin(team_id=team_id, user_id=user_id):
        await _open(deps, team_id, trigger_id, blocks.result_modal("Reverse Mentor", _REFUSED))
        return
    if action_id == HomeActions.ADMIN_SETTINGS:
        await open_settings_form(deps, team_id=team_id, trigger_id=trigger_id)
        return
    title = _TITLES[action_id]
    view_id = await _open(
        deps, team_id, trigger_id, blocks.result_modal(title, _WORKING[action_id])
    )
    if view_id is None:
        return
    content: Sequence[Block] | str
    try:
        if action_id == HomeActions.ADMIN_PREVIEW:
            content = await _preview(deps, team_id=team_id)
        elif action_id == HomeActions.ADMIN_SUMMARY:
            content = await _summary(deps, team_id=team_id)
        else:
            content = await _export(deps, team_id=team_id, user_id=user_id)
    except SlackCallError as exc:
        content = f"Slack refused the request ({exc.error}), so it did not complete."
    except Exception:
        log.exception("admin %s from Home failed", action_id)
        content = "Something went wrong, so it did not complete. The bot's log has the details."
    try:
        await deps.slack.call(
            "views.update",
            team_id=team_id,
            view_id=view_id,
            view=blocks.result_modal(title, content),
        )
    except SlackCallError as exc:
        # Closed already, most likely: the work itself is done.
        log.warning("admin result modal not updated: %s", exc.error)


async def _open(deps: Deps, team_id: str, trigger_id: str, view: View) -> str | None:
    try:
        # The trigger expires 3 s after the click: spend well under that.
        opened = await deps.slack.call(
            "views.open", team_id=team_id, trigger_id=trigger_id, view=view, budget=2.0
        )
    except SlackCallError as exc:
        log.warning("admin modal did not open: %s", exc.error)
        return None
    return (opened.get("view") or {}).get("id")


async def _preview(deps: Deps, *, team_id: str) -> Sequence[Block]:
    result = await pairing.propose(deps, team_id=team_id)
    # A modal holds 100 blocks: 80 pairs, the heading, the overflow line and the unmatched.
    return match_preview_blocks(result, committed=False, shown_pairs=80)


async def _summary(deps: Deps, *, team_id: str) -> str:
    result = await reports.post_summary(deps, team_id=team_id, now=deps.clock())
    if isinstance(result, str) and result:
        return result
    if result is False:
        channel = await reports.admin_channel(deps, team_id=team_id)
        if channel is None:
            env = "" if deps.settings.oauth else " (or set MENTOR_ADMIN_CHANNEL)"
            return (
                "Nothing was posted: no admin channel is set. Choose a private channel in "
                f"the settings{env} and invite the bot to it."
            )
        return await reports.unposted_answer(deps, team_id=team_id, channel=channel)
    return "Posted the program summary to the admin channel."


async def _export(deps: Deps, *, team_id: str, user_id: str) -> str:
    status = await reports.send_export(deps, team_id=team_id, user_id=user_id)
    if status in reports.NOT_SENT:
        return "Slack didn't take the export, so nothing was sent. Please try again shortly."
    if status in reports.ON_ITS_WAY:
        return reports.EXPORT_DELAYED
    return "Your export is on its way: look for a direct message from the bot."
