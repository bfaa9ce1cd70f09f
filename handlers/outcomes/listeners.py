"""Outcomes' listeners: the progress buttons in the checkpoint question, and a leader's one
change (a small form)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.outcomes import validate_change
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.core.interactions import ids
from handlers.core.slack import SlackCallError
from handlers.outcomes import blocks, messages, use_cases
from handlers.outcomes.blocks import ITEM_ACTIONS, PROGRESS_ACTIONS, OutcomeActions

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    outbox.register_kind(deps, use_cases.QUESTION_KIND, messages.QUESTION)
    deps.tick_steps.append(use_cases.decide_checkpoints)
    deps.tick_due[use_cases.decide_checkpoints] = use_cases.next_checkpoint

    @app.action(OutcomeActions.NOT_YET)
    @app.action(OutcomeActions.SOME)
    @app.action(OutcomeActions.ACHIEVED)
    async def progress_answer(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        progress = PROGRESS_ACTIONS[action["action_id"]]
        recorded = await use_cases.record_progress(
            deps, team_id=team_id, user_id=user_id, ref=action.get("value") or "", progress=progress
        )
        await _show_again(deps, body, recorded)

    @app.action(OutcomeActions.ITEM_NOT_YET)
    @app.action(OutcomeActions.ITEM_SOME)
    @app.action(OutcomeActions.ITEM_ACHIEVED)
    async def item_answer(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        parsed = blocks.parse_item_value(action.get("value"))
        if parsed is None:
            return
        ref, pair_id, item_index = parsed
        recorded = await use_cases.record_item_progress(
            deps,
            team_id=team_id,
            user_id=user_id,
            ref=ref,
            pair_id=pair_id,
            item_index=item_index,
            progress=ITEM_ACTIONS[action["action_id"]],
        )
        await _show_again(deps, body, recorded)

    @app.action(OutcomeActions.OPEN_CHANGE)
    async def open_change(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        ref = action.get("value") or ""
        existing = await use_cases.current_change(deps, team_id=team_id, user_id=user_id, ref=ref)
        if existing is None:
            return
        try:
            await deps.slack.call(
                "views.open",
                team_id=team_id,
                trigger_id=body["trigger_id"],
                view=blocks.change_modal(ref, current=existing),
                budget=2.0,
            )
        except SlackCallError as exc:
            log.warning("the change form did not open: %s", exc.error)

    @app.view(blocks.CHANGE_CALLBACK)
    async def change_submitted(ack: AsyncAck, body: dict) -> None:
        team_id, user_id = ids(body)
        view = body["view"]
        ref = view.get("private_metadata") or ""
        field = (view["state"]["values"].get(blocks.CHANGE_BLOCK) or {}).get(
            blocks.CHANGE_ACTION
        ) or {}
        change, error = validate_change(field.get("value"))
        if error is not None:
            await ack(response_action="errors", errors={blocks.CHANGE_BLOCK: error})
            return
        if not await use_cases.save_change(
            deps, team_id=team_id, user_id=user_id, ref=ref, change=change
        ):
            await ack(response_action="update", view=blocks.change_refused_view())
            return
        await ack(response_action="update", view=blocks.change_saved_view(shared=bool(change)))


async def _show_again(deps: Deps, body: dict, question: use_cases.Question | None) -> None:
    """The question message again, with the answers given so far (nothing if not recorded)."""
    if question is None or "response_url" not in body:
        return
    text, content = blocks.question_blocks(
        question.checkpoint,
        goal=question.goal,
        leader=question.leader,
        ref=question.ref,
        answered=question.answered,
        items=question.items,
    )
    await deps.slack.respond(body["response_url"], replace_original=True, text=text, blocks=content)
