"""Learning agreement's listeners: the button that opens the form, and its submission."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.agreement import JUNIOR, LEADER, AgreementForm, validate_agreement
from handlers.agreement import blocks, messages, use_cases
from handlers.agreement.blocks import AgreementActions
from handlers.core import outbox
from handlers.core.blocks import INPUT_ACTION
from handlers.core.deps import Deps
from handlers.core.interactions import ids, tell
from handlers.core.slack import SlackCallError

log = logging.getLogger(__name__)

NOT_YOURS = "Only the two people in this pair can see or change their learning agreement."


def register(app: AsyncApp, deps: Deps) -> None:
    outbox.register_kind(deps, use_cases.SAVED, messages.SAVED)
    outbox.register_kind(deps, use_cases.REMINDER, messages.REMINDER)

    @app.action(AgreementActions.OPEN)
    async def open_form(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        form = await use_cases.form_for(
            deps, team_id=team_id, user_id=user_id, pair_id=_pair_id(action.get("value"))
        )
        if form is None:
            await tell(deps, body, NOT_YOURS)
            return
        view = blocks.agreement_modal(
            form.pair_id,
            leader_items=form.leader_items,
            junior_items=form.junior_items,
            saved=form.saved,
        )
        try:
            # The trigger expires 3 s after the click: spend well under that.
            await deps.slack.call(
                "views.open", team_id=team_id, trigger_id=body["trigger_id"], view=view, budget=2.0
            )
        except SlackCallError as exc:
            log.warning("agreement form did not open: %s", exc.error)
            await tell(deps, body, "Slack took too long to open the form. Please press again.")

    @app.view(blocks.CALLBACK)
    async def submitted(ack: AsyncAck, body: dict) -> None:
        team_id, user_id = ids(body)
        view = body["view"]
        values = (view.get("state") or {}).get("values") or {}
        result = validate_agreement(
            AgreementForm(leader_items=_text(values, LEADER), junior_items=_text(values, JUNIOR))
        )
        if result.agreement is None:
            await ack(response_action="errors", errors=result.errors)
            return
        pair_id = _pair_id(view.get("private_metadata"))
        if not await use_cases.save(
            deps, team_id=team_id, user_id=user_id, pair_id=pair_id, agreement=result.agreement
        ):
            await ack(response_action="errors", errors={LEADER: NOT_YOURS})
            return
        await ack()
        log.info("a pair saved its learning agreement")
        outbox.kick(deps)


def _pair_id(raw: object) -> int:
    try:
        return int(str(raw))
    except ValueError:
        return 0


def _text(values: dict, field: str) -> str | None:
    value = ((values.get(field) or {}).get(INPUT_ACTION) or {}).get("value")
    return value if isinstance(value, str) else None
