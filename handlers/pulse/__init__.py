"""Pulse surveys in a pair's group DM: the outbox kind that posts them (and seeds the scale's
reactions), the tick step for pairs that log nothing, and the reactions and buttons that
answer them. Ratings and who gave them are never logged."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import pulse
from bot.cadence import ProgramSettings
from handlers import delivery, inbox
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from storage import pairs, participants, program, rhythm
from storage import pulse as surveys
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 200
RATE_ACTION = "pulse_rate_{rating}"
RATE_ACTIONS = re.compile(r"^pulse_rate_[1-5]$")


def register(app: AsyncApp, deps: Deps) -> None:
    delivery.register_kind(
        deps,
        surveys.KIND,
        delivery.Kind(draft=draft_survey, after_sent=survey_posted, follow_up=seed_reactions),
    )
    deps.tick_steps.append(decide_cadence_pulses)
    inbox.register_applier(deps, "reaction_added", apply_reaction)
    inbox.register_applier(deps, "reaction_removed", apply_reaction)

    @app.event("reaction_added")
    @app.event("reaction_removed")
    async def reaction(event: dict, body: dict, context: AsyncBoltContext) -> None:
        await inbox.apply_received(deps, body=body, event=event, context=context)

    @app.action(RATE_ACTIONS)
    async def rate(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        await on_button(deps, body=body, action=action)


# --- the survey message --------------------------------------------------------------------


def survey_blocks(survey_id: int, *, settings: ProgramSettings) -> tuple[str, list[Block]]:
    lowest, highest = pulse.SCALE[0], pulse.SCALE[-1]
    text = (
        f"{pulse.QUESTION} React with :{lowest.emoji}: ({lowest.label}) to "
        f":{highest.emoji}: ({highest.label})."
    )
    days = settings.pulse_close_days
    return text, [
        SectionBlock(text=MarkdownTextObject(text=f":bar_chart: *{pulse.QUESTION}*")),
        ContextBlock(elements=[MarkdownTextObject(text=pulse.scale_text())]),
        ActionsBlock(
            block_id=f"pulse:{survey_id}",
            elements=[
                ButtonElement(
                    action_id=RATE_ACTION.format(rating=point.rating),
                    text=str(point.rating),
                    value=f"{survey_id}:{point.rating}",
                    accessibility_label=f"{point.rating} of {highest.rating}: {point.label}",
                )
                for point in pulse.SCALE
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        "React on this message or press a number; your latest answer counts. "
                        "Your partner can see reactions, the buttons answer privately. "
                        f"Open for {days} day{'s' if days != 1 else ''}."
                    )
                )
            ]
        ),
    ]


async def draft_survey(deps: Deps, message: OutboxMessage) -> delivery.Draft | None:
    def load(session):
        pair = pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id)
        survey = surveys.get_survey(
            session=session, team_id=message.team_id, survey_id=message.payload["survey"]
        )
        settings = program.get_program_settings(session=session, team_id=message.team_id)
        return pair, survey, settings

    pair, survey, settings = await deps.db.run(load)
    if pair is None or survey is None or pair.status != "active" or pair.dm_channel_id is None:
        return None  # paused or ended since it was decided: a paused pair gets nothing
    text, content = survey_blocks(survey.id, settings=settings)
    return delivery.Draft(channel=pair.dm_channel_id, text=text, blocks=content)


def survey_posted(session, message: OutboxMessage, channel: str, ts: str, now) -> None:
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
                channel=channel,
                timestamp=ts,
                name=point.emoji,
                budget=delivery.CALL_BUDGET_SECONDS,
            )
        except SlackCallError as exc:
            if exc.error != "already_reacted":
                raise


# --- the cadence -----------------------------------------------------------------------------


async def decide_cadence_pulses(deps: Deps) -> int:
    """A tick step: pairs whose pulse_due_at has come (they logged no session for a while)
    get a pulse; each decision also moves their pulse_due_at on, so this ends."""
    decided = 0
    while True:
        now = deps.clock()
        count = await deps.db.run(lambda s, now=now: _decide_cadence_batch(s, now))
        decided += count
        if count < BATCH:
            return decided


def _decide_cadence_batch(session, now) -> int:
    due = rhythm.due_pairs(session=session, column="pulse_due_at", now=now, limit=BATCH)
    for pair in due:
        settings = program.get_program_settings(session=session, team_id=pair.team_id)
        surveys.decide_cadence_pulse(session=session, pair=pair, settings=settings, now=now)
    return len(due)


# --- answers ---------------------------------------------------------------------------------


async def on_reaction(
    deps: Deps, *, team_id: str, event: dict, bot_user_id: str | None, added: bool
) -> None:
    """Apply a reaction event directly (no event record): see `apply_reaction`."""
    typed = dict(event, type="reaction_added" if added else "reaction_removed")
    kept = inbox.kept_payload(typed, bot_user_id=bot_user_id)
    await inbox.apply(deps, team_id=team_id, event_id=None, event=kept)


def apply_reaction(session, deps: Deps, team_id: str, event: dict, now) -> None:
    """A reaction added to or removed from a message: a rating if it is a pair member's,
    on an open survey, with an emoji of the scale. Anything else changes nothing."""
    item = event.get("item") or {}
    user_id = event.get("user")
    if item.get("type") != "message" or not user_id or event.get("from_bot"):
        return
    rating = pulse.rating_for(event.get("reaction"))
    channel_id, ts = item.get("channel"), item.get("ts")
    if rating is None or not channel_id or not ts:
        return
    survey = surveys.survey_for_message(
        session=session, team_id=team_id, channel_id=channel_id, ts=ts
    )
    if survey is None or not pulse.is_open(survey.closes_at, now):
        return
    pair = pairs.get_pair(session=session, team_id=team_id, pair_id=survey.pair_id)
    if pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
        return
    if participants.has_left(session=session, team_id=team_id, user_id=user_id):
        return  # a survey still open in Slack: someone who left is not linked to a rating
    added = event.get("type") == "reaction_added"
    surveys.apply_reaction(
        session=session, survey=survey, user_id=user_id, rating=rating, added=added, now=now
    )


async def on_button(deps: Deps, *, body: dict, action: dict) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    survey_part, _, rating_part = (action.get("value") or "").partition(":")
    point = pulse.point_for(int(rating_part)) if rating_part.isdigit() else None
    if not survey_part.isdigit() or point is None:
        return

    def record(session) -> str:
        now = deps.clock()
        survey = surveys.get_survey(session=session, team_id=team_id, survey_id=int(survey_part))
        pair = None
        if survey is not None:
            pair = pairs.get_pair(session=session, team_id=team_id, pair_id=survey.pair_id)
        if pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
            return "Only the two people in this pair can answer its pulse survey."
        if not pulse.is_open(survey.closes_at, now):
            return "This survey has closed."
        if participants.has_left(session=session, team_id=team_id, user_id=user_id):
            return "You've left the program, so your answer wasn't saved."
        surveys.set_rating(
            session=session, survey=survey, user_id=user_id, rating=point.rating, now=now
        )
        return (
            f"Thanks: you answered :{point.emoji}: ({point.label}). "
            "Press another number to change it."
        )

    text = await deps.db.run(record)
    if "response_url" in body:
        await deps.slack.respond(
            body["response_url"], response_type="ephemeral", replace_original=False, text=text
        )
