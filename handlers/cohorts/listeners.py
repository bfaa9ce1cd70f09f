"""Cohorts' listeners: `/mentor admin cohort list|new|edit|close`, a pair's choice at its
cohort's end, and the answer to the offer to carry over."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.cohorts import blocks, messages, use_cases
from handlers.cohorts.blocks import CohortActions
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.core.interactions import ids, tell
from handlers.core.mentor import MentorCommand

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
        await tell(deps, body, answer, replace=True)

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
        await command.say(
            await use_cases.create(deps, team_id=team_id, change=use_cases.parse_change(words))
        )
    elif verb == "edit":
        await command.say(
            await use_cases.edit(deps, team_id=team_id, change=use_cases.parse_change(words))
        )
    elif verb == "close" and words:
        await command.say(await use_cases.close(deps, team_id=team_id, name=" ".join(words)))
    else:
        await command.say(f"What to do with cohorts: {blocks.COHORT_HELP}")


def _number(raw: object) -> int:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 12 else 0
