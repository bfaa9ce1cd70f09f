"""Pairing's listeners: the admin's `match` (and its preview) and `unpair`, and a pair's own
"ask for a different match"."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.commands import mentioned_users
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.core.interactions import channel_of, ids, tell
from handlers.core.mentor import MentorCommand
from handlers.core.slack import SlackCallError
from handlers.pairing import blocks, messages, use_cases
from handlers.pairing.blocks import PairingActions

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    outbox.register_kind(deps, use_cases.INTRO, messages.INTRO)
    outbox.register_kind(deps, use_cases.ENDED, messages.GOODBYE)

    @app.action(PairingActions.REQUEST_REMATCH)
    async def request_rematch(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        channel = channel_of(body)
        if channel and await use_cases.request_rematch(
            deps, team_id=team_id, user_id=user_id, channel=channel
        ):
            await tell(deps, body, "Done: you're back in the pool and we'll find you a new match.")
        else:
            await tell(deps, body, "This pairing has already ended.")


async def match(command: MentorCommand) -> None:
    """`/mentor admin match [preview] [COHORT]`: the best pairs for everyone waiting in the
    cohort open for signups (or the one named), committed and introduced unless previewing.
    Whatever fails, the "Matching…" reply is replaced."""
    preview = command.args[:1] == ("preview",)
    name = " ".join(command.args[1:] if preview else command.args).strip()
    deps, team_id, response_url = command.deps, command.team_id, command.response_url
    cohort_id = None
    if name:
        cohort_id = await use_cases.running_cohort_named(deps, team_id=team_id, name=name)
        if cohort_id is None:
            await command.say(
                f"There is no running cohort called {name}: see `/mentor admin cohort list`."
            )
            return
    await command.say("Working out the best pairs…" if preview else "Matching and introducing…")
    done = "Nothing was changed."
    try:
        result = await use_cases.propose(deps, team_id=team_id, cohort_id=cohort_id)
        if not preview:
            created = await use_cases.commit(deps, team_id=team_id, proposals=result.pairs)
            done = f"{len(created)} new pairs were made and are being introduced."
            kept = {(p.mentor_id, p.mentee_id) for p in created}
            chosen = [p for p in result.pairs if (p.mentor_id, p.mentee_id) in kept]
            result = replace(result, pairs=chosen, total_score=sum(p.score for p in chosen))
            log.info("admin matched %d new pairs", len(created))
        text = f"{'Matched' if not preview else 'Proposed'} {len(result.pairs)} pairs"
        content = blocks.match_preview_blocks(result, committed=not preview)
    except Exception:
        log.exception("matching failed")
        await _respond_plainly(
            deps, response_url, f"Something went wrong while matching. {done} The log says more."
        )
        return
    try:
        await deps.slack.respond(
            response_url,
            response_type="ephemeral",
            replace_original=True,
            text=text,
            blocks=content,
        )
    except SlackCallError as exc:
        # The blocks were refused (or Slack failed): the plain result still reaches the admin.
        log.warning("match result not shown with blocks: %s", exc.error)
        await _respond_plainly(deps, response_url, f"{text}. {done if not preview else ''}")


async def _respond_plainly(deps: Deps, response_url: str, text: str) -> None:
    try:
        await deps.slack.respond(
            response_url, response_type="ephemeral", replace_original=True, text=text.strip()
        )
    except SlackCallError as exc:
        log.warning("could not answer the admin: %s", exc.error)


async def unpair(command: MentorCommand) -> None:
    """`/mentor admin unpair @mentor @mentee`."""
    users = mentioned_users(command.args)
    if len(users) != 2:
        await command.say("Name the two people to unpair: `/mentor admin unpair @mentor @mentee`.")
        return
    first, second = users
    if not await use_cases.unpair(
        command.deps, team_id=command.team_id, first=first, second=second
    ):
        await command.say(f"<@{first}> and <@{second}> are not paired.")
        return
    await command.say(
        f"Ended the pair of <@{first}> and <@{second}>. Both are told, and both are back "
        "in the pool for the next `/mentor admin match`."
    )
