"""The rhythm's listeners: the date pickers, the check-in's answers, "we met today", "give us
a prompt", the fit question's answers, a pair's group-DM messages (as activity), and the
`met` and `prompt` sub-commands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.commands import mentioned_users
from handlers.core import inbox, outbox
from handlers.core.blocks import date_text
from handlers.core.deps import Deps
from handlers.core.interactions import channel_of, ids, parse_date, tell
from handlers.core.mentor import MentorCommand
from handlers.core.today import today_for
from handlers.profile.blocks import status_blocks
from handlers.rhythm import blocks, messages, tick, use_cases
from handlers.rhythm.blocks import RhythmActions

_CHECKIN_ANSWERS = {
    RhythmActions.CHECKIN_MET: "met",
    RhythmActions.CHECKIN_SKIP: "skipped",
    RhythmActions.CHECKIN_RESCHEDULE: "rescheduled",
}


def register(app: AsyncApp, deps: Deps) -> None:
    for name, kind in messages.KINDS.items():
        outbox.register_kind(deps, name, kind)
    deps.tick_steps.append(tick.decide_due)
    deps.tick_due[tick.decide_due] = tick.next_due
    inbox.register_applier(deps, "message", use_cases.note_activity)

    @app.event("message")
    async def pair_message(event: dict, body: dict, context: AsyncBoltContext) -> None:
        await inbox.apply_received(deps, body=body, event=event, context=context)

    @app.action(RhythmActions.PICK_SESSION_DATE)
    async def pick_session_date(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        picked = parse_date(action.get("selected_date"))
        today = await today_for(deps, team_id=team_id, user_id=user_id)
        if picked is None or picked < today:
            await tell(deps, body, "Pick a date from today onwards for your session.")
            return
        if not await use_cases.set_session_date(
            deps, team_id=team_id, user_id=user_id, channel=channel_of(body), day=picked
        ):
            await tell(deps, body, "Only the two people in this pair can set its sessions.")

    @app.action(RhythmActions.CHECKIN_MET)
    @app.action(RhythmActions.CHECKIN_SKIP)
    @app.action(RhythmActions.CHECKIN_RESCHEDULE)
    async def checkin_answer(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        answer = _CHECKIN_ANSWERS[action["action_id"]]
        # The session date travels in the button value, or the block_id for the date picker.
        reference = action.get("value") or action.get("block_id", "").removeprefix("checkin:")
        session_day = parse_date(reference.partition(":")[2])
        picked = parse_date(action.get("selected_date"))
        if answer == "rescheduled" and picked is not None:
            too_early = picked < await today_for(deps, team_id=team_id, user_id=user_id)
        else:
            too_early = answer == "rescheduled"
        if session_day is None or too_early:
            await tell(deps, body, "Pick a date from today onwards for your session.")
            return
        answered = await use_cases.answer_checkin(
            deps,
            team_id=team_id,
            user_id=user_id,
            channel=channel_of(body),
            answer=answer,
            session_day=session_day,
            picked=picked,
        )
        if answered is None:
            await tell(deps, body, "Only the two people in this pair can answer its check-in.")
            return
        next_day, outcome = answered
        shown_day = picked if answer == "rescheduled" and picked is not None else session_day
        await deps.slack.respond(
            body["response_url"],
            replace_original=True,
            text=blocks.checkin_answered_text(
                outcome, user_id=user_id, day=shown_day, next_day=next_day
            ),
        )

    @app.action(RhythmActions.LOG_MET_TODAY)
    async def met_today(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        today = await today_for(deps, team_id=team_id, user_id=user_id)
        logged = await use_cases.met_in_channel(
            deps, team_id=team_id, user_id=user_id, channel=channel_of(body), day=today
        )
        if logged is None:
            await tell(deps, body, "Only the two people in this pair can log its sessions.")
        elif not logged:
            await tell(deps, body, "Today's session was already logged. Thanks!")
        else:
            await tell(deps, body, "Logged today's session. Thanks!")

    @app.action(RhythmActions.SEND_PROMPT)
    async def prompt_now(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        prompt = await use_cases.prompt_for(deps, team_id=team_id, user_id=user_id)
        if prompt is not None and "response_url" in body:
            text, content = blocks.prompt_blocks(prompt, session_day=None)
            # In the channel, for both of them: it's their conversation starter.
            await deps.slack.respond(
                body["response_url"],
                response_type="in_channel",
                replace_original=False,
                text=text,
                blocks=content,
            )

    @app.action(RhythmActions.FIT_GOOD)
    @app.action(RhythmActions.FIT_POOR)
    async def fit_answer(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        good = action["action_id"] == RhythmActions.FIT_GOOD
        answer = await use_cases.record_fit(
            deps, team_id=team_id, user_id=user_id, pair_id=int(action.get("value") or 0), good=good
        )
        if answer is None:
            return
        if isinstance(answer, str):  # "left"
            await tell(deps, body, "You've left the program, so your answer wasn't saved.")
        elif good:
            await tell(deps, body, "Great to hear. Enjoy the conversations!", replace=True)
        else:
            await deps.slack.respond(
                body["response_url"],
                replace_original=True,
                text="Thanks for telling us.",
                blocks=blocks.fit_rematch_blocks(answer),
            )

    @app.action(RhythmActions.FIT_REMATCH)
    async def fit_rematch(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        ended = await use_cases.rematch_after_fit(
            deps, team_id=team_id, user_id=user_id, pair_id=int(action.get("value") or 0)
        )
        text = (
            "Done: you're back in the pool and we'll find you a new match."
            if ended
            else "This pairing has already ended."
        )
        await tell(deps, body, text, replace=True)


async def met(command: MentorCommand) -> None:
    """`/mentor met [@partner]`: a session held today (the person's own today)."""
    named = mentioned_users(command.args)
    deps = command.deps
    today = await today_for(deps, team_id=command.team_id, user_id=command.user_id)
    pair, new, problem = await use_cases.met(
        deps,
        team_id=command.team_id,
        user_id=command.user_id,
        day=today,
        partner=named[0] if named else None,
    )
    if pair is None:
        await command.say(problem or "You don't have an active pair right now.")
        return
    if not new:
        text = "Today's session was already logged. Thanks!"
    else:
        text = "Logged today's session. Thanks!"
        if pair.next_session_on:
            text += f" Your next one is proposed for {date_text(pair.next_session_on)}."
    await command.say(text)


async def prompt(command: MentorCommand) -> None:
    """`/mentor prompt`: a conversation starter now."""
    found = await use_cases.prompt_for(
        command.deps, team_id=command.team_id, user_id=command.user_id
    )
    if found is None:
        await command.reply(status_blocks(None), "You're not signed up")
        return
    text, content = blocks.prompt_blocks(found, session_day=None)
    await command.reply(content, text)
