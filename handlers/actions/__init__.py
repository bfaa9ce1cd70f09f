"""Button presses: from the App Home tab and from ephemeral command replies."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers import blocks, delivery, pairing
from handlers.blocks import Actions
from handlers.deps import Deps
from handlers.home import ADMIN_ACTIONS, admin_action, publish_home
from handlers.today import today_for
from handlers.views import open_signup_form
from storage import forgetting, outbox, pairs, participants, program, rhythm

log = logging.getLogger(__name__)


def _ids(body: dict) -> tuple[str, str]:
    return body["team"]["id"], body["user"]["id"]


def _channel_of(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _from_message(body: dict) -> bool:
    return (body.get("container") or {}).get("type") == "message" and "response_url" in body


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(Actions.OPEN_SIGNUP)
    async def open_signup(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        await open_signup_form(
            deps, team_id=team_id, user_id=user_id, trigger_id=body["trigger_id"]
        )

    for admin_action_id in ADMIN_ACTIONS:  # the admin buttons on Home

        @app.action(admin_action_id)
        async def admin_home_button(ack: AsyncAck, body: dict, action: dict) -> None:
            await ack()
            await admin_action(deps, body, action["action_id"])

    @app.action(Actions.PAUSE)
    @app.action(Actions.RESUME)
    async def change_status(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        paused = action["action_id"] == Actions.PAUSE
        await deps.db.run(
            lambda s: pairing.set_participation(
                s, team_id=team_id, user_id=user_id, paused=paused, now=deps.clock()
            )
        )
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(Actions.PAUSE_KEEP_PAIR)
    @app.action(Actions.PAUSE_RELEASE_PAIR)
    async def pause_from_choice(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        release = action["action_id"] == Actions.PAUSE_RELEASE_PAIR

        def pause(session) -> None:
            now = deps.clock()
            if release:
                pairing.end_pairs_of(
                    session, team_id=team_id, user_id=user_id, reason="participant_paused", now=now
                )
            pairing.set_participation(
                session, team_id=team_id, user_id=user_id, paused=True, now=now
            )

        await deps.db.run(pause)
        text = (
            "Paused, and your partner will be matched with someone new. "
            "Run `/mentor resume` when you're ready to be matched again."
            if release
            else "Paused. Your pair stays; run `/mentor resume` when you're back."
        )
        if _from_message(body):
            await deps.slack.respond(body["response_url"], replace_original=True, text=text)
        if release:
            delivery.kick(deps)
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(Actions.LEAVE_CONFIRM)
    async def leave(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)

        def leave_and_free_partners(session):
            now = deps.clock()
            pairing.end_pairs_of(
                session, team_id=team_id, user_id=user_id, reason="participant_left", now=now
            )
            participants.leave_program(session=session, team_id=team_id, user_id=user_id, now=now)
            forgetting.forget_person(session=session, team_id=team_id, user_id=user_id)

        await deps.db.run(leave_and_free_partners)
        log.info("participant left the program")
        delivery.kick(deps)
        if _from_message(body):
            await deps.slack.respond(
                body["response_url"],
                replace_original=True,
                text=blocks.LEFT_TEXT,
            )
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(Actions.LEAVE_CANCEL)
    async def stay(ack: AsyncAck, body: dict) -> None:
        await ack()
        if _from_message(body):
            await deps.slack.respond(
                body["response_url"], replace_original=True, text="Great, you're staying."
            )

    @app.action(Actions.PICK_SESSION_DATE)
    async def pick_session_date(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        channel_id = _channel_of(body)
        picked = _parse_date(action.get("selected_date"))
        today = await today_for(deps, team_id=team_id, user_id=user_id)
        if picked is None or picked < today:
            await _tell(deps, body, "Pick a date from today onwards for your session.")
            return

        def set_date(session) -> bool:
            pair = _pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel_id)
            if pair is None:
                return False
            now = deps.clock()
            settings = program.get_program_settings(session=session, team_id=team_id)
            rhythm.schedule_session(
                session=session, pair=pair, day=picked, settings=settings, now=now
            )
            outbox.enqueue(
                session=session,
                team_id=team_id,
                key=f"session_set:{pair.id}:{picked.isoformat()}",
                kind="session_set",
                pair_id=pair.id,
                payload={"date": picked.isoformat()},
                now=now,
            )
            return True

        if await deps.db.run(set_date):
            delivery.kick(deps)
        else:
            await _tell(deps, body, "Only the two people in this pair can set its sessions.")

    @app.action(Actions.REQUEST_REMATCH)
    async def request_rematch(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        channel_id = _channel_of(body)

        def end(session) -> bool:
            pair = _pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel_id)
            if pair is None:
                return False
            now = deps.clock()
            pairs.end_pair(session=session, pair=pair, reason="rematch_requested", now=now)
            delivery.alert_admins(
                session,
                deps,
                team_id=team_id,
                key=f"rematch:{pair.id}",
                text=f"The pair of <@{pair.mentor_id}> and <@{pair.mentee_id}> asked for a "
                "different match. Both are back in the pool for the next `/mentor admin match`.",
                now=now,
            )
            return True

        if await deps.db.run(end):
            await _tell(deps, body, "Done: you're back in the pool and we'll find you a new match.")
            delivery.kick(deps)
        else:
            await _tell(deps, body, "This pairing has already ended.")

    @app.action(Actions.CHECKIN_MET)
    @app.action(Actions.CHECKIN_SKIP)
    @app.action(Actions.CHECKIN_RESCHEDULE)
    async def checkin_answer(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        kind = {
            Actions.CHECKIN_MET: "met",
            Actions.CHECKIN_SKIP: "skipped",
            Actions.CHECKIN_RESCHEDULE: "rescheduled",
        }[action["action_id"]]
        # The session date travels in the button value, or the block_id for the date picker.
        reference = action.get("value") or action.get("block_id", "").removeprefix("checkin:")
        session_day = _parse_date(reference.partition(":")[2])
        picked = _parse_date(action.get("selected_date"))
        if kind == "rescheduled" and picked is not None:
            too_early = picked < await today_for(deps, team_id=team_id, user_id=user_id)
        else:
            too_early = kind == "rescheduled"
        if session_day is None or too_early:
            await _tell(deps, body, "Pick a date from today onwards for your session.")
            return

        def answer(session):
            pair = _pair_in_channel(
                session, team_id=team_id, user_id=user_id, channel=_channel_of(body)
            )
            if pair is None:
                return None
            now = deps.clock()
            settings = program.get_program_settings(session=session, team_id=team_id)
            if kind == "met":
                if not pairing.log_met(
                    session, pair=pair, user_id=user_id, day=session_day, now=now
                ):
                    return pair.next_session_on, "already_met"
            elif kind == "rescheduled":
                rhythm.schedule_session(
                    session=session, pair=pair, day=picked, settings=settings, now=now
                )
            else:
                rhythm.schedule_after(
                    session=session, pair=pair, day=session_day, settings=settings, now=now
                )
            return pair.next_session_on, kind

        answered = await deps.db.run(answer)
        if answered is None:
            await _tell(deps, body, "Only the two people in this pair can answer its check-in.")
            return
        next_day, outcome = answered
        shown_day = picked if kind == "rescheduled" else session_day
        await deps.slack.respond(
            body["response_url"],
            replace_original=True,
            text=blocks.checkin_answered_text(
                outcome, user_id=user_id, day=shown_day, next_day=next_day
            ),
        )
        delivery.kick(deps)

    @app.action(Actions.LOG_MET_TODAY)
    async def met_today(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        today = await today_for(deps, team_id=team_id, user_id=user_id)

        def log(session) -> bool | None:
            pair = _pair_in_channel(
                session, team_id=team_id, user_id=user_id, channel=_channel_of(body)
            )
            if pair is None:
                return None
            return pairing.log_met(session, pair=pair, user_id=user_id, day=today, now=deps.clock())

        logged = await deps.db.run(log)
        if logged is None:
            await _tell(deps, body, "Only the two people in this pair can log its sessions.")
        elif not logged:
            await _tell(deps, body, "Today's session was already logged. Thanks!")
        else:
            await _tell(deps, body, "Logged today's session. Thanks!")
            delivery.kick(deps)

    @app.action(Actions.SEND_PROMPT)
    async def prompt_now(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        prompt = await deps.db.run(
            lambda s: pairing.prompt_for(
                s, deps, team_id=team_id, user_id=user_id, now=deps.clock()
            )
        )
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

    @app.action(Actions.FIT_GOOD)
    @app.action(Actions.FIT_POOR)
    async def fit_answer(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        good = action["action_id"] == Actions.FIT_GOOD
        pair_id = int(action.get("value") or 0)

        def record(session):
            pair = pairs.get_pair(session=session, team_id=team_id, pair_id=pair_id)
            if pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
                return None
            if participants.has_left(session=session, team_id=team_id, user_id=user_id):
                return "left"
            now = deps.clock()
            first = rhythm.record_fit(
                session=session, pair=pair, user_id=user_id, good_fit=good, now=now
            )
            if first and not good:
                partner = pair.mentee_id if pair.mentor_id == user_id else pair.mentor_id
                delivery.alert_admins(
                    session,
                    deps,
                    team_id=team_id,
                    key=f"poor_fit:{pair.id}:{user_id}",
                    text=f"<@{user_id}> feels their pairing with <@{partner}> is not a good fit "
                    "and has been offered a different match. Their partner has not been told.",
                    now=now,
                )
            return pair

        pair = await deps.db.run(record)
        if pair is None:
            return
        if pair == "left":
            await _tell(deps, body, "You've left the program, so your answer wasn't saved.")
            return
        if good:
            await _tell(deps, body, "Great to hear. Enjoy the conversations!", replace=True)
        else:
            await deps.slack.respond(
                body["response_url"],
                replace_original=True,
                text="Thanks for telling us.",
                blocks=blocks.fit_rematch_blocks(pair),
            )
        delivery.kick(deps)

    @app.action(Actions.FIT_REMATCH)
    async def fit_rematch(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = _ids(body)
        pair_id = int(action.get("value") or 0)

        def end(session) -> bool:
            pair = pairs.get_pair(session=session, team_id=team_id, pair_id=pair_id)
            if pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
                return False
            return pairs.end_pair(
                session=session, pair=pair, reason="rematch_requested", now=deps.clock()
            )

        ended = await deps.db.run(end)
        text = (
            "Done: you're back in the pool and we'll find you a new match."
            if ended
            else "This pairing has already ended."
        )
        await _tell(deps, body, text, replace=True)
        delivery.kick(deps)


def _parse_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _pair_in_channel(session, *, team_id: str, user_id: str, channel: str | None):
    """The live pair whose group DM this is, if the clicker belongs to it."""
    if channel is None:
        return None
    pair = pairs.pair_in_channel(session=session, team_id=team_id, channel_id=channel)
    return pair if pair is not None and user_id in (pair.mentor_id, pair.mentee_id) else None


async def _tell(deps: Deps, body: dict, text: str, *, replace: bool = False) -> None:
    """A note to whoever clicked, where they clicked: replacing the message, or ephemeral."""
    if "response_url" in body:
        await deps.slack.respond(
            body["response_url"], response_type="ephemeral", replace_original=replace, text=text
        )
