"""The program settings: checked and saved in one transaction, then the pairs' pending due
times re-timed in small ones. The admin channel must be private, visible to the bot and in
use; a save that would end the program at once is refused."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot import cohort
from bot.admin_channel import ChannelProblem, admin_channel_problem
from bot.cadence import ProgramSettings
from bot.program_settings import is_channel_id, validate_settings
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.core.slack import SlackCallError, SlackGateway
from handlers.settings.blocks import settings_modal
from storage import cohorts, outcomes, pairs, program, rhythm
from storage import outbox as rows

log = logging.getLogger(__name__)


async def open_settings_form(deps: Deps, *, team_id: str, trigger_id: str) -> bool:
    """Open the settings modal; False if Slack did not open it in time."""
    current = await deps.db.read(lambda s: program.get_program_settings(session=s, team_id=team_id))
    try:
        # The trigger expires 3 s after the command or click: spend well under that.
        await deps.slack.call(
            "views.open",
            team_id=team_id,
            trigger_id=trigger_id,
            view=settings_modal(current, many_workspaces=deps.settings.oauth),
            budget=2.0,
        )
    except SlackCallError as exc:
        log.warning("settings form did not open: %s", exc.error)
        return False
    return True


async def save_settings(
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    raw: dict[str, str | None],
    channel_problem: ChannelProblem | None,
) -> tuple[ProgramSettings | None, dict[str, str]]:
    """Check and save what the form says (an admin's; `channel_problem` from
    `form_channel_problem`); returns (saved settings, {}) or (None, {field: what to fix}),
    with nothing saved."""
    settings, errors = validate_settings(raw)
    now = deps.clock()
    if settings is not None:
        valid = settings
        errors = await deps.db.read(lambda s: _surprise_end(s, team_id, valid, now))
    if channel_problem is not None:
        errors.setdefault("admin_channel", channel_problem.text)
    if settings is None or errors:
        return None, errors
    saved = settings

    def save(session: Session) -> bool:
        program.save_program_settings(
            session=session, team_id=team_id, settings=saved, now=now, saved_by=user_id
        )
        # The channel was just checked: whatever waited for the admin channel goes now.
        if not program.clear_admin_channel_problem(session=session, team_id=team_id):
            return False
        rows.retry_now(session=session, team_id=team_id, kinds=outbox.ADMIN_KINDS, now=now)
        return True

    released = await deps.db.run(save)
    log.info("program settings saved")
    deps.spawn(retime_pairs(deps, team_id=team_id))
    if released:
        outbox.kick(deps)
    return saved, {}


async def form_channel_problem(
    deps: Deps, raw: dict[str, str | None], *, team_id: str
) -> ChannelProblem | None:
    """What is wrong with the form's admin channel, asking Slack with a small budget (the
    form must be answered within 3 seconds)."""
    channel = (raw.get("admin_channel") or "").strip()
    if not is_channel_id(channel):
        return None  # empty, or validate_settings says what is wrong with it
    return await check_admin_channel(deps.slack, channel, budget=1.5, team_id=team_id)


async def check_admin_channel(
    slack: SlackGateway,
    channel_id: str,
    *,
    budget: float,
    setting: str | None = None,
    team_id: str | None = None,
) -> ChannelProblem | None:
    """None when `channel_id` is a private, unarchived channel the bot is in."""
    try:
        data = await slack.call(
            "conversations.info", team_id=team_id, channel=channel_id, budget=budget
        )
    except SlackCallError as exc:
        return admin_channel_problem(error=exc.error, transient=exc.transient, setting=setting)
    channel = data.get("channel") or {}
    return admin_channel_problem(
        is_private=channel.get("is_private"),
        is_archived=channel.get("is_archived"),
        is_member=channel.get("is_member"),
        setting=setting,
    )


def _surprise_end(
    session: Session, team_id: str, settings: ProgramSettings, now: datetime
) -> dict[str, str]:
    """A field error when this save would end the program (and close every pair) at once."""
    current = cohorts.current_cohort(session=session, team_id=team_id)
    _, end_decided = outcomes.decided_flags(
        session=session, team_id=team_id, cohort_id=current.id if current else None
    )
    found = cohort.surprise_end(
        settings,
        program.get_program_settings(session=session, team_id=team_id),
        now=now,
        end_decided=end_decided,
        live_pairs=pairs.count_live(session=session, team_id=team_id),
    )
    return dict([found]) if found else {}


async def retime_pairs(deps: Deps, *, team_id: str) -> None:
    """Recompute the pairs' pending due times, each by its cohort's settings (the workspace's
    with the cohort's own rhythm), in small transactions, off the modal's clock."""
    after: int | None = 0
    while after is not None:
        now = deps.clock()

        def batch(s: Session, after_id: int = after, now: datetime = now) -> int | None:
            known: dict[int | None, ProgramSettings] = {}

            def settings_of(cohort_id: int | None) -> ProgramSettings:
                if cohort_id not in known:
                    known[cohort_id] = program.get_program_settings(
                        session=s, team_id=team_id, cohort_id=cohort_id
                    )
                return known[cohort_id]

            return rhythm.retime_pairs(
                session=s, team_id=team_id, settings_of=settings_of, now=now, after_id=after_id
            )

        after = await deps.db.run(batch)
