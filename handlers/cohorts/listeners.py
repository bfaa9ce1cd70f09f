"""Cohorts' listeners: `/mentor admin cohort list|new|edit|close`, a pair's choice at its
cohort's end, and the answer to the offer to carry over."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.cohorts import blocks, messages, use_cases
from handlers.cohorts.blocks import CohortActions
from handlers.core import outbox
from handlers.core.blocks import INPUT_ACTION
from handlers.core.deps import Deps
from handlers.core.interactions import ids, tell
from handlers.core.mentor import MentorCommand
from handlers.core.slack import SlackCallError

log = logging.getLogger(__name__)
ADMINS_ONLY = "Only the program's admins can change cohorts."
NOT_YOURS = "This choice is for the two people in this pair, and it has been made already."


def register(app: AsyncApp, deps: Deps) -> None:
    outbox.register_kind(deps, use_cases.CHOICE, messages.CHOICE)
    outbox.register_kind(deps, use_cases.CARRY_OVER, messages.CARRY_OVER)

    @app.action(CohortActions.CONTINUE)
    @app.action(CohortActions.CLOSE)
    async def pair_choice(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        answer = await use_cases.choose(
            deps,
            team_id=team_id,
            user_id=user_id,
            pair_id=_number(action.get("value")),
            carry_on=action.get("action_id") == CohortActions.CONTINUE,
        )
        if answer is None:
            await tell(deps, body, NOT_YOURS)
            return
        text, done = answer
        await tell(deps, body, text, replace=done)

    @app.action(CohortActions.NEW)
    @app.action(CohortActions.EDIT)
    async def open_form(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        if not await deps.is_admin(team_id=team_id, user_id=user_id):
            return  # the button is only on admins' Home tabs; anyone else gets nothing
        cohort_id = _number(action.get("value")) if action["action_id"] == CohortActions.EDIT else 0
        view = await use_cases.form_view(deps, team_id=team_id, cohort_id=cohort_id or None)
        if view is None:
            return  # deleted since the Home tab was drawn
        try:
            # The trigger expires 3 s after the click: spend well under that.
            await deps.slack.call(
                "views.open", team_id=team_id, trigger_id=body["trigger_id"], view=view, budget=2.0
            )
        except SlackCallError as exc:
            log.warning("cohort form did not open: %s", exc.error)

    @app.view(blocks.FORM_CALLBACK)
    async def form_submitted(ack: AsyncAck, body: dict) -> None:
        team_id, user_id = ids(body)
        view = body["view"]
        if not await deps.is_admin(team_id=team_id, user_id=user_id):
            await ack(response_action="errors", errors={"name": ADMINS_ONLY})
            return
        answer = await use_cases.save_form(
            deps,
            team_id=team_id,
            cohort_id=_number(view.get("private_metadata")) or None,
            fields=_form_fields(view),
        )
        if not answer.ok:
            await ack(
                response_action="errors", errors={answer.field or "name": _plain(answer.text)}
            )
            return
        await ack(response_action="update", view=blocks.saved_view(answer.text))
        outbox.kick(deps)

    @app.action(CohortActions.JOIN)
    @app.action(CohortActions.DECLINE)
    async def carry_over(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        answer = await use_cases.answer_carry_over(
            deps,
            team_id=team_id,
            user_id=user_id,
            cohort_id=_number(action.get("value")),
            join=action.get("action_id") == CohortActions.JOIN,
        )
        await tell(deps, body, answer or "This offer no longer holds.", replace=True)


async def cohort(command: MentorCommand) -> None:
    """`/mentor admin cohort [list] | new NAME … | edit NAME … | close NAME`."""
    deps, team_id = command.deps, command.team_id
    first, *words = command.args or ("list",)
    verb = first.lower()
    if verb == "list":
        text, content = blocks.cohort_list_blocks(
            await use_cases.cohort_lines(deps, team_id=team_id)
        )
        await command.reply(content, text)
    elif verb == "new":
        change = use_cases.parse_change(words)
        await command.say((await use_cases.create(deps, team_id=team_id, change=change)).text)
    elif verb == "edit":
        change = use_cases.parse_change(words)
        await command.say((await use_cases.edit(deps, team_id=team_id, change=change)).text)
    elif verb == "close" and words:
        answer = await use_cases.close(deps, team_id=team_id, name=" ".join(words))
        await command.say(answer.text)
    else:
        await command.say(f"What to do with cohorts: {blocks.COHORT_HELP}")


def _plain(text: str) -> str:
    """A field error is plain text: no mrkdwn marks, and short."""
    return text.replace("*", "").replace("`", "")[:300]


def _number(raw: object) -> int:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 12 else 0


def _form_fields(view: dict) -> dict[str, str | None]:
    """The form's answers as text, by field (a date as YYYY-MM-DD, a choice as its value)."""
    found: dict[str, str | None] = {}
    for field, actions in ((view.get("state") or {}).get("values") or {}).items():
        element = (actions or {}).get(INPUT_ACTION) or {}
        value = element.get("value") or element.get("selected_date")
        if value is None and isinstance(element.get("selected_option"), dict):
            value = element["selected_option"].get("value")
        if value is None and isinstance(element.get("selected_options"), list):
            value = ",".join(str(o.get("value")) for o in element["selected_options"])
        found[field] = value if isinstance(value, str) else None
    return found
