"""`/mentor` and its sub-commands. Answers that need only the database go back in the ack."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.commands import ParsedCommand, parse_command
from bot.profiles import Status
from handlers import blocks, delivery, pairing
from handlers.deps import Deps
from handlers.program_settings import open_settings_form
from handlers.slack_api import SlackCallError
from handlers.summary import export_command, summary_command
from handlers.today import today_for
from handlers.views import open_signup_form
from storage import pairs, participants

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/mentor")
    async def mentor(ack: AsyncAck, body: dict) -> None:
        parsed = parse_command(body.get("text"))
        team_id, user_id = body["team_id"], body["user_id"]
        if parsed.admin:
            await _admin(
                ack,
                deps,
                parsed,
                team_id=team_id,
                user_id=user_id,
                body_response_url=body.get("response_url", ""),
                trigger_id=body.get("trigger_id", ""),
            )
            return
        match parsed.name:
            case "signup":
                await _signup(ack, deps, body, team_id=team_id, user_id=user_id)
            case "status":
                me, live, partners = await deps.db.run(
                    lambda s: pairing.pair_view(s, team_id=team_id, user_id=user_id)
                )
                content = blocks.status_blocks(me, paired=bool(live))
                if me is not None and me.status != Status.LEFT:
                    content += blocks.pairs_status_blocks(user_id, live, partners)
                await _reply(ack, content, "Your Reverse Mentor status")
            case "pause":
                live = await deps.db.run(
                    lambda s: pairs.live_pairs_of(session=s, team_id=team_id, user_id=user_id)
                )
                if live:  # a pair is waiting on them: ask whether to keep it
                    await _reply(ack, blocks.pause_choice_blocks(user_id, live), "Pause?")
                else:
                    await _set_status(ack, deps, "pause", team_id=team_id, user_id=user_id)
            case "resume":
                await _set_status(ack, deps, "resume", team_id=team_id, user_id=user_id)
            case "met":
                await _met(ack, deps, parsed.args, team_id=team_id, user_id=user_id)
            case "prompt":
                prompt = await deps.db.run(
                    lambda s: pairing.prompt_for(
                        s, deps, team_id=team_id, user_id=user_id, now=deps.clock()
                    )
                )
                if prompt is None:
                    await _reply(ack, blocks.status_blocks(None), "You're not signed up")
                else:
                    text, content = blocks.prompt_blocks(prompt, session_day=None)
                    await _reply(ack, content, text)
            case "leave":
                participant = await deps.db.run(
                    lambda s: participants.get_participant(
                        session=s, team_id=team_id, user_id=user_id
                    )
                )
                if participant is None or participant.status == Status.LEFT:
                    await _reply(ack, blocks.status_blocks(None), "You're not signed up")
                else:
                    await _reply(ack, blocks.leave_confirm_blocks(), "Leave the program?")
            case _:
                await _reply(ack, blocks.help_blocks(parsed), "Reverse Mentor commands")


async def _reply(ack: AsyncAck, content: list, text: str) -> None:
    await ack(text=text, blocks=content, response_type="ephemeral")


async def _signup(ack: AsyncAck, deps: Deps, body: dict, *, team_id: str, user_id: str) -> None:
    await ack()
    opened = await open_signup_form(
        deps, team_id=team_id, user_id=user_id, trigger_id=body["trigger_id"]
    )
    if not opened:
        await deps.slack.respond(
            body["response_url"],
            response_type="ephemeral",
            text="Slack took too long to open the signup form. Please run `/mentor signup` again.",
        )


async def _set_status(ack: AsyncAck, deps: Deps, name: str, *, team_id: str, user_id: str):
    target = Status.PAUSED if name == "pause" else Status.ACTIVE
    participant = await deps.db.run(
        lambda s: pairing.set_participation(
            s, team_id=team_id, user_id=user_id, paused=target == Status.PAUSED, now=deps.clock()
        )
    )
    if participant is None or participant.status == Status.LEFT:
        text = "You're not signed up yet. Join with `/mentor signup`."
    elif target == Status.PAUSED:
        text = "Paused. You won't be matched or reminded until you run `/mentor resume`."
    else:
        text = "Welcome back! You're active again."
    await ack(text=text, response_type="ephemeral")


async def _admin(
    ack: AsyncAck,
    deps: Deps,
    parsed: ParsedCommand,
    *,
    team_id: str,
    user_id: str,
    body_response_url: str,
    trigger_id: str = "",
) -> None:
    if not await deps.is_admin(team_id=team_id, user_id=user_id):
        await _reply(ack, blocks.admin_refused_blocks(), "Admin commands are for program admins")
        return
    match parsed.name:
        case "match":
            preview = parsed.args[:1] == ("preview",)
            await ack(
                text="Working out the best pairs…" if preview else "Matching and introducing…",
                response_type="ephemeral",
            )
            await _match(deps, body_response_url, team_id=team_id, preview=preview)
        case "unpair":
            await _unpair(ack, deps, parsed.args, team_id=team_id)
        case "settings":
            await ack()
            if not await open_settings_form(deps, team_id=team_id, trigger_id=trigger_id):
                await deps.slack.respond(
                    body_response_url,
                    response_type="ephemeral",
                    text="Slack took too long to open the settings. "
                    "Please run `/mentor admin settings` again.",
                )
        case "participants":
            counts = await deps.db.run(
                lambda s: participants.count_participants(session=s, team_id=team_id)
            )
            await _reply(ack, blocks.participant_counts_blocks(counts), "Participants")
        case "summary":
            await summary_command(ack, deps, team_id=team_id, response_url=body_response_url)
        case "export":
            await export_command(
                ack, deps, team_id=team_id, user_id=user_id, response_url=body_response_url
            )
        case _:
            await _reply(ack, blocks.admin_help_blocks(parsed), "Reverse Mentor admin commands")


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|^([UW][A-Z0-9]+)$")


def mentioned_users(args: tuple[str, ...]) -> list[str]:
    """User IDs from `<@U123|name>` mentions (or bare IDs), in order, without repeats."""
    found = []
    for word in args:
        hit = _MENTION.search(word)
        if hit:
            found.append(hit.group(1) or hit.group(2))
    return list(dict.fromkeys(found))


async def _match(deps: Deps, response_url: str, *, team_id: str, preview: bool) -> None:
    """Work out (and, unless previewing, commit) the pairs, then replace the "Matching…"
    reply with the result: whatever fails, the admin is told rather than left waiting."""
    done = "Nothing was changed."
    try:
        result = await pairing.propose(deps, team_id=team_id)
        if not preview:
            now = deps.clock()
            created = await deps.db.run(
                lambda s: pairing.commit_pairs(s, team_id=team_id, proposals=result.pairs, now=now)
            )
            done = f"{len(created)} new pairs were made and are being introduced."
            kept = {(p.mentor_id, p.mentee_id) for p in created}
            chosen = [p for p in result.pairs if (p.mentor_id, p.mentee_id) in kept]
            result = replace(result, pairs=chosen, total_score=sum(p.score for p in chosen))
            log.info("admin matched %d new pairs", len(created))
            delivery.kick(deps)
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


async def _unpair(ack: AsyncAck, deps: Deps, args: tuple[str, ...], *, team_id: str) -> None:
    users = mentioned_users(args)
    if len(users) != 2:
        await ack(
            text="Name the two people to unpair: `/mentor admin unpair @mentor @mentee`.",
            response_type="ephemeral",
        )
        return
    first, second = users

    def unpair(session):
        pair = pairs.live_pair_between(session=session, team_id=team_id, a=first, b=second)
        if pair is None:
            return False
        return pairs.end_pair(session=session, pair=pair, reason="admin_unpaired", now=deps.clock())

    ended = await deps.db.run(unpair)
    if not ended:
        await ack(text=f"<@{first}> and <@{second}> are not paired.", response_type="ephemeral")
        return
    await ack(
        text=f"Ended the pair of <@{first}> and <@{second}>. Both are told, and both are back "
        "in the pool for the next `/mentor admin match`.",
        response_type="ephemeral",
    )
    delivery.kick(deps)


async def _met(ack: AsyncAck, deps: Deps, args: tuple[str, ...], *, team_id: str, user_id: str):
    named = mentioned_users(args)
    today = await today_for(deps, team_id=team_id, user_id=user_id)

    def log(session):
        pair, problem = pairing.active_pair_for(
            session, team_id=team_id, user_id=user_id, partner=named[0] if named else None
        )
        if pair is None:
            return problem, None
        new = pairing.log_met(session, pair=pair, user_id=user_id, day=today, now=deps.clock())
        return None, (pair, new)

    problem, logged = await deps.db.run(log)
    if logged is None:
        await ack(text=problem, response_type="ephemeral")
        return
    pair, new = logged
    if not new:
        text = "Today's session was already logged. Thanks!"
    else:
        text = "Logged today's session. Thanks!"
        if pair.next_session_on:
            text += f" Your next one is proposed for {blocks.date_text(pair.next_session_on)}."
    await ack(text=text, response_type="ephemeral")
    delivery.kick(deps)  # the first session held brings the fit question
