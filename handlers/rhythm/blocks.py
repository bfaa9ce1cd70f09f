"""The rhythm: conversation prompts, check-ins, nudges, the new date, and the fit question."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DatePickerElement

from bot.profiles import TOPICS
from bot.prompts import Prompt
from handlers.core.blocks import context, date_text, escape, section
from storage.models import Pair


class RhythmActions:
    PICK_SESSION_DATE = "pick_session_date"
    CHECKIN_MET = "checkin_met"
    CHECKIN_RESCHEDULE = "checkin_reschedule"
    CHECKIN_SKIP = "checkin_skip"
    LOG_MET_TODAY = "log_met_today"
    SEND_PROMPT = "send_prompt"
    FIT_GOOD = "fit_good"
    FIT_POOR = "fit_poor"
    FIT_REMATCH = "fit_rematch"


def prompt_blocks(prompt: Prompt, *, session_day: date | None) -> tuple[str, list[Block]]:
    when = f" for your session on {date_text(session_day)}" if session_day else ""
    text = f"A conversation prompt{when}: {prompt.question}"
    return text, [
        section(f":speech_balloon: *A conversation prompt{when}*"),
        section(f"*To open:* {escape(prompt.question)}"),
        section(f"*And the other way round:* {escape(prompt.reverse)}"),
        context(f"{TOPICS.get(prompt.topic, prompt.topic)} · `/mentor prompt` for another one"),
    ]


def checkin_blocks(pair: Pair, *, session_day: date) -> tuple[str, list[Block]]:
    text = f"Did your session on {date_text(session_day)} happen?"
    value = f"{pair.id}:{session_day.isoformat()}"
    return text, [
        section(f":wave: {text}"),
        ActionsBlock(
            block_id=f"checkin:{value}",
            elements=[
                ButtonElement(
                    action_id=RhythmActions.CHECKIN_MET, text="We met", style="primary", value=value
                ),
                DatePickerElement(
                    action_id=RhythmActions.CHECKIN_RESCHEDULE, placeholder="We rescheduled"
                ),
                ButtonElement(
                    action_id=RhythmActions.CHECKIN_SKIP, text="Skip this one", value=value
                ),
            ],
        ),
    ]


def checkin_answered_text(kind: str, *, user_id: str, day: date, next_day: date | None) -> str:
    following = f" Next session: {date_text(next_day)}." if next_day else ""
    if kind == "met":
        return (
            f":white_check_mark: <@{user_id}> logged your session on {date_text(day)}.{following}"
        )
    if kind == "already_met":  # the pair had logged this meeting already (see log_session)
        return f":white_check_mark: Your session on {date_text(day)} was already logged.{following}"
    if kind == "rescheduled":
        return f":calendar: <@{user_id}> moved your session to {date_text(day)}."
    return f":fast_forward: <@{user_id}> skipped the session on {date_text(day)}.{following}"


def nudge_blocks(pair: Pair, *, days: int) -> tuple[str, list[Block]]:
    text = (
        f"It's been {days} days since your last session or message. Busy weeks happen: "
        "could you find half an hour in the next fortnight?"
    )
    return text, [
        section(f":seedling: {text}"),
        ActionsBlock(
            block_id=f"nudge:{pair.id}",
            elements=[
                DatePickerElement(
                    action_id=RhythmActions.PICK_SESSION_DATE, placeholder="Pick our next date"
                ),
                ButtonElement(action_id=RhythmActions.LOG_MET_TODAY, text="We met today"),
                ButtonElement(action_id=RhythmActions.SEND_PROMPT, text="Give us a prompt"),
            ],
        ),
    ]


def session_set_blocks(day: date) -> tuple[str, list[Block]]:
    text = f"Your next session is set for {date_text(day)}."
    return text, [section(f":calendar: {text}")]


def fit_survey_blocks(pair: Pair, *, user_id: str) -> tuple[str, list[Block]]:
    partner = pair.mentee_id if pair.mentor_id == user_id else pair.mentor_id
    text = f"After your first session with <@{partner}>: is this pairing a good fit?"
    return text, [
        section(f"{text} Only the program team sees your answer; <@{partner}> doesn't."),
        ActionsBlock(
            block_id=f"fit:{pair.id}",
            elements=[
                ButtonElement(
                    action_id=RhythmActions.FIT_GOOD,
                    text="Good fit",
                    style="primary",
                    value=str(pair.id),
                ),
                ButtonElement(
                    action_id=RhythmActions.FIT_POOR, text="Not a good fit", value=str(pair.id)
                ),
            ],
        ),
    ]


def fit_rematch_blocks(pair: Pair) -> list[Block]:
    return [
        section(
            "Thank you for saying so; only the program team sees it. "
            "Would you like to be matched with someone else?"
        ),
        ActionsBlock(
            block_id=f"fit_rematch:{pair.id}",
            elements=[
                ButtonElement(
                    action_id=RhythmActions.FIT_REMATCH,
                    text="Find me a different match",
                    style="primary",
                    value=str(pair.id),
                ),
            ],
        ),
    ]
