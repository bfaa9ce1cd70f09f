"""Pulse's message: the survey posted in a pair's group DM, with the scale's reactions seeded
on it, so one click answers. Reactions on it count from when it is posted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot import pulse
from bot.cadence import ProgramSettings
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.core.slack import SlackCallError
from handlers.pulse.blocks import survey_blocks
from storage import pairs, program
from storage import pulse as surveys
from storage.models import OutboxMessage, Pair, PulseSurvey, saved_id


async def draft_survey(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    def load(session: Session) -> tuple[Pair | None, PulseSurvey | None, ProgramSettings]:
        pair = pairs.get_pair(
            session=session, team_id=message.team_id, pair_id=message.pair_id or 0
        )
        survey = surveys.get_survey(
            session=session, team_id=message.team_id, survey_id=message.payload["survey"]
        )
        settings = program.get_program_settings(session=session, team_id=message.team_id)
        return pair, survey, settings

    pair, survey, settings = await deps.db.read(load)
    if pair is None or survey is None or pair.status != "active" or pair.dm_channel_id is None:
        return None  # paused or ended since it was decided: a paused pair gets nothing
    text, content = survey_blocks(saved_id(survey), settings=settings)
    return outbox.Draft(channel=pair.dm_channel_id, text=text, blocks=content)


def survey_posted(
    session: Session, message: OutboxMessage, channel: str, ts: str, now: datetime
) -> None:
    """In the transaction that records the send: reactions on (channel, ts) now count."""
    settings = program.get_program_settings(session=session, team_id=message.team_id)
    surveys.mark_posted(
        session=session,
        survey_id=message.payload["survey"],
        channel_id=channel,
        ts=ts,
        settings=settings,
        now=now,
    )


async def seed_reactions(deps: Deps, message: OutboxMessage, channel: str, ts: str) -> None:
    """The scale's emoji on the survey itself, lowest to highest, so one click answers.
    Safe to repeat (after a crash check): a reaction already there is fine."""
    for point in pulse.SCALE:
        try:
            await deps.slack.call(
                "reactions.add",
                team_id=message.team_id,
                channel=channel,
                timestamp=ts,
                name=point.emoji,
                budget=outbox.CALL_BUDGET_SECONDS,
            )
        except SlackCallError as exc:
            if exc.error != "already_reacted":
                raise


def survey_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    """Posted this late, the survey would close as it opens: asking is pointless."""
    settings = program.get_program_settings(session=session, team_id=message.team_id)
    if now - message.created_at >= timedelta(days=settings.pulse_close_days):
        return "the survey would already have closed"
    return None


SURVEY = outbox.Kind(
    draft=draft_survey,
    after_sent=survey_posted,
    follow_up=seed_reactions,
    stale=survey_stale,
    to_pair=True,
)
