"""Signup and profile's listeners: the signup form (opened and submitted), pause and resume,
stepping back from a pair, leaving, and the `signup`, `status`, `pause`, `resume`, `leave`
and admin `participants` sub-commands."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy.exc import SQLAlchemyError

from bot.profiles import SignupForm, Status, validate_signup
from handlers.core import outbox
from handlers.core.blocks import INPUT_ACTION
from handlers.core.deps import Deps
from handlers.core.interactions import from_message, ids
from handlers.core.mentor import MentorCommand
from handlers.core.slack import SlackCallError
from handlers.home.use_cases import publish_home
from handlers.pairing.blocks import pairs_status_blocks
from handlers.pairing.use_cases import view_of
from handlers.profile import blocks, use_cases
from handlers.profile.blocks import ProfileActions

log = logging.getLogger(__name__)

# Slack could not give us the person's profile: waiting will not help.
_PROFILE_GONE = frozenset({"user_not_found", "user_disabled", "account_inactive"})


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(blocks.SIGNUP_CALLBACK)
    async def signup_submitted(ack: AsyncAck, body: dict) -> None:
        await _signup_submitted(ack, deps, body)

    @app.action(ProfileActions.OPEN_SIGNUP)
    async def open_signup(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        await open_signup_form(
            deps, team_id=team_id, user_id=user_id, trigger_id=body["trigger_id"]
        )

    @app.action(ProfileActions.PAUSE)
    @app.action(ProfileActions.RESUME)
    async def change_status(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        paused = action["action_id"] == ProfileActions.PAUSE
        await use_cases.set_paused(deps, team_id=team_id, user_id=user_id, paused=paused)
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(ProfileActions.PAUSE_KEEP_PAIR)
    @app.action(ProfileActions.PAUSE_RELEASE_PAIR)
    async def pause_from_choice(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        release = action["action_id"] == ProfileActions.PAUSE_RELEASE_PAIR
        await use_cases.set_paused(
            deps, team_id=team_id, user_id=user_id, paused=True, release_pairs=release
        )
        text = (
            "Paused, and your partner will be matched with someone new. "
            "Run `/mentor resume` when you're ready to be matched again."
            if release
            else "Paused. Your pair stays; run `/mentor resume` when you're back."
        )
        if from_message(body):
            await deps.slack.respond(body["response_url"], replace_original=True, text=text)
        if release:
            outbox.kick(deps)
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(ProfileActions.LEAVE_CONFIRM)
    async def leave(ack: AsyncAck, body: dict) -> None:
        await ack()
        team_id, user_id = ids(body)
        await use_cases.leave(deps, team_id=team_id, user_id=user_id)
        log.info("participant left the program")
        outbox.kick(deps)
        if from_message(body):
            await deps.slack.respond(
                body["response_url"], replace_original=True, text=blocks.LEFT_TEXT
            )
        await publish_home(deps, team_id=team_id, user_id=user_id)

    @app.action(ProfileActions.LEAVE_CANCEL)
    async def stay(ack: AsyncAck, body: dict) -> None:
        await ack()
        if from_message(body):
            await deps.slack.respond(
                body["response_url"], replace_original=True, text="Great, you're staying."
            )


def parse_signup(values: dict, user_id: str) -> SignupForm:
    """Read the modal's state into plain strings; anything missing (or malformed) becomes None."""

    def dict_or_empty(value: object) -> dict:
        return value if isinstance(value, dict) else {}

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    def field(name: str) -> dict:
        return dict_or_empty(dict_or_empty(dict_or_empty(values).get(name)).get(INPUT_ACTION))

    def selected(name: str) -> str | None:
        return text(dict_or_empty(field(name).get("selected_option")).get("value"))

    options = field("topics").get("selected_options")
    return SignupForm(
        user_id=user_id,
        role=selected("role"),
        level=selected("level"),
        department=text(field("department").get("value")),
        manager_id=text(field("manager").get("selected_user")),
        topics=tuple(
            text(dict_or_empty(o).get("value")) or ""
            for o in (options if isinstance(options, list) else [])
        ),
        goals=text(field("goals").get("value")),
        capacity=selected("capacity"),
    )


async def open_signup_form(deps: Deps, *, team_id: str, user_id: str, trigger_id: str) -> bool:
    """Open the signup modal, pre-filled for an edit; False if Slack did not open it in time."""
    existing = await use_cases.profile_of(deps, team_id=team_id, user_id=user_id)
    try:
        # The trigger expires 3 s after the click or command: spend well under that.
        await deps.slack.call(
            "views.open",
            team_id=team_id,
            trigger_id=trigger_id,
            view=blocks.signup_modal(existing),
            budget=2.0,
        )
    except SlackCallError as exc:
        log.warning("signup form did not open: %s", exc.error)
        return False
    return True


async def _signup_submitted(ack: AsyncAck, deps: Deps, body: dict) -> None:
    team_id, user_id = ids(body)
    form = parse_signup(body["view"]["state"]["values"], user_id)
    result = validate_signup(form)
    if result.profile is None:
        await ack(response_action="errors", errors=result.errors)
        return
    try:
        # Inside the 3 s window: a failure can still go back to the person in the modal.
        info = await deps.slack.call("users.info", team_id=team_id, user=user_id, budget=1.5)
    except SlackCallError as exc:
        if exc.error in _PROFILE_GONE:
            await ack(
                response_action="update",
                view=blocks.signup_unavailable_view(
                    "We couldn't read your Slack profile (we need your time zone to "
                    "schedule sessions). If you are a guest or from another organisation, "
                    "ask a program admin to add you."
                ),
            )
        else:
            await ack(
                response_action="errors",
                errors={
                    "role": "Slack didn't answer in time, so nothing was saved yet. "
                    "Your answers are still here: please press the button again."
                },
            )
        return
    user = info.get("user") or {}
    try:
        participant, created = await use_cases.save_signup(
            deps,
            team_id=team_id,
            user_id=user_id,
            profile=result.profile,
            timezone=user.get("tz"),
            title=(user.get("profile") or {}).get("title") or None,
        )
    except SQLAlchemyError:
        # Rolled back: nothing was saved. The engine hides bound values, so the
        # traceback names the statement but never what the person wrote.
        log.exception("a signup could not be saved")
        await ack(
            response_action="errors",
            errors={
                "role": "Something went wrong on our side, so nothing was saved. Your "
                "answers are still here: please press the button again."
            },
        )
        return
    await ack(response_action="update", view=blocks.signup_done_view(participant, created=created))
    log.info("participant %s", "signed up" if created else "edited their profile")
    await publish_home(deps, team_id=team_id, user_id=user_id)


# --- /mentor sub-commands -----------------------------------------------------------------------


async def signup(command: MentorCommand) -> None:
    await command.ack()
    opened = await open_signup_form(
        command.deps,
        team_id=command.team_id,
        user_id=command.user_id,
        trigger_id=command.trigger_id,
    )
    if not opened:
        await command.deps.slack.respond(
            command.response_url,
            response_type="ephemeral",
            text="Slack took too long to open the signup form. Please run `/mentor signup` again.",
        )


async def status(command: MentorCommand) -> None:
    me, live, partners = await view_of(
        command.deps, team_id=command.team_id, user_id=command.user_id
    )
    content = blocks.status_blocks(me, paired=bool(live))
    if me is not None and me.status != Status.LEFT:
        content += pairs_status_blocks(command.user_id, live, partners)
    await command.reply(content, "Your Reverse Mentor status")


async def pause(command: MentorCommand) -> None:
    live = await use_cases.live_pairs_of(
        command.deps, team_id=command.team_id, user_id=command.user_id
    )
    if live:  # a pair is waiting on them: ask whether to keep it
        await command.reply(blocks.pause_choice_blocks(command.user_id, live), "Pause?")
    else:
        await _set_status(command, paused=True)


async def resume(command: MentorCommand) -> None:
    await _set_status(command, paused=False)


async def _set_status(command: MentorCommand, *, paused: bool) -> None:
    participant = await use_cases.set_paused(
        command.deps, team_id=command.team_id, user_id=command.user_id, paused=paused
    )
    if participant is None or participant.status == Status.LEFT:
        text = "You're not signed up yet. Join with `/mentor signup`."
    elif paused:
        text = "Paused. You won't be matched or reminded until you run `/mentor resume`."
    else:
        text = "Welcome back! You're active again."
    await command.say(text)


async def leave(command: MentorCommand) -> None:
    participant = await use_cases.profile_of(
        command.deps, team_id=command.team_id, user_id=command.user_id
    )
    if participant is None or participant.status == Status.LEFT:
        await command.reply(blocks.status_blocks(None), "You're not signed up")
    else:
        await command.reply(blocks.leave_confirm_blocks(), "Leave the program?")


async def participants(command: MentorCommand) -> None:
    """`/mentor admin participants`: head counts by role and status."""
    counts = await use_cases.participant_counts(command.deps, team_id=command.team_id)
    await command.reply(blocks.participant_counts_blocks(counts), "Participants")
