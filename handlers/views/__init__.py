"""Modal submissions."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy.exc import SQLAlchemyError

from bot.profiles import SignupForm, validate_signup
from handlers import blocks
from handlers.deps import Deps
from handlers.home import publish_home
from handlers.program_settings import SETTINGS_CALLBACK, settings_submitted
from handlers.slack_api import SlackCallError
from storage import participants

log = logging.getLogger(__name__)

# Slack could not give us the person's profile: waiting will not help.
_PROFILE_GONE = frozenset({"user_not_found", "user_disabled", "account_inactive"})


def parse_signup(values: dict, user_id: str) -> SignupForm:
    """Read the modal's state into plain strings; anything missing (or malformed) becomes None."""

    def dict_or_empty(value) -> dict:
        return value if isinstance(value, dict) else {}

    def text(value) -> str | None:
        return value if isinstance(value, str) else None

    def field(name: str) -> dict:
        return dict_or_empty(
            dict_or_empty(dict_or_empty(values).get(name)).get(blocks.INPUT_ACTION)
        )

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
    existing = await deps.db.run(
        lambda s: participants.get_participant(session=s, team_id=team_id, user_id=user_id)
    )
    try:
        # The trigger expires 3 s after the click or command: spend well under that.
        await deps.slack.call(
            "views.open", trigger_id=trigger_id, view=blocks.signup_modal(existing), budget=2.0
        )
    except SlackCallError as exc:
        log.warning("signup form did not open: %s", exc.error)
        return False
    return True


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(SETTINGS_CALLBACK)
    async def program_settings_submitted(ack: AsyncAck, body: dict) -> None:
        await settings_submitted(ack, deps, body)

    @app.view(blocks.SIGNUP_CALLBACK)
    async def signup_submitted(ack: AsyncAck, body: dict) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        form = parse_signup(body["view"]["state"]["values"], user_id)
        result = validate_signup(form)
        if result.profile is None:
            await ack(response_action="errors", errors=result.errors)
            return
        try:
            # Inside the 3 s window: a failure can still go back to the person in the modal.
            info = await deps.slack.call("users.info", user=user_id, budget=1.5)
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
        profile = result.profile
        try:
            participant, created = await deps.db.run(
                lambda s: participants.save_profile(
                    session=s,
                    team_id=team_id,
                    user_id=user_id,
                    profile=profile,
                    timezone=user.get("tz"),
                    title=(user.get("profile") or {}).get("title") or None,
                    now=deps.clock(),
                )
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
        await ack(
            response_action="update", view=blocks.signup_done_view(participant, created=created)
        )
        log.info("participant %s", "signed up" if created else "edited their profile")
        await publish_home(deps, team_id=team_id, user_id=user_id)
