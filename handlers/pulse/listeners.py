"""Pulse's listeners: reactions on a survey (applied from the event record) and its buttons."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from handlers.core import inbox, outbox
from handlers.core.deps import Deps
from handlers.core.interactions import ids
from handlers.pulse import messages, use_cases
from handlers.pulse.blocks import RATE_ACTIONS


def register(app: AsyncApp, deps: Deps) -> None:
    outbox.register_kind(deps, use_cases.KIND, messages.SURVEY)
    deps.tick_steps.append(use_cases.decide_cadence_pulses)
    deps.tick_due[use_cases.decide_cadence_pulses] = use_cases.next_cadence_pulse
    inbox.register_applier(deps, "reaction_added", use_cases.apply_reaction)
    inbox.register_applier(deps, "reaction_removed", use_cases.apply_reaction)

    @app.event("reaction_added")
    @app.event("reaction_removed")
    async def reaction(event: dict, body: dict, context: AsyncBoltContext) -> None:
        await inbox.apply_received(deps, body=body, event=event, context=context)

    @app.action(RATE_ACTIONS)
    async def rate(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        survey_part, _, rating_part = (action.get("value") or "").partition(":")
        if not survey_part.isdigit() or not rating_part.isdigit():
            return
        text = await use_cases.rate(
            deps,
            team_id=team_id,
            user_id=user_id,
            survey_id=int(survey_part),
            rating=int(rating_part),
        )
        if text is not None and "response_url" in body:
            await deps.slack.respond(
                body["response_url"], response_type="ephemeral", replace_original=False, text=text
            )


async def on_reaction(
    deps: Deps, *, team_id: str, event: dict, bot_user_id: str | None, added: bool
) -> None:
    """Apply a reaction event directly, without an event record (see apply_reaction)."""
    typed = dict(event, type="reaction_added" if added else "reaction_removed")
    kept = inbox.kept_payload(typed, bot_user_id=bot_user_id)
    await inbox.apply(deps, team_id=team_id, event_id=None, event=kept)
