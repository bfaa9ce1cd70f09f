"""The admin's program settings modal: open it pre-filled, validate and save what comes back.

Settings are read by every tick decision; on save the pending due times of the workspace's
pairs are recomputed too, so a new stall or escalation threshold counts from the next tick.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime

from slack_bolt.async_app import AsyncAck
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from sqlmodel import Session

from bot import cohort
from bot.admin_channel import ChannelProblem
from bot.cadence import ProgramSettings
from bot.program_settings import (
    BOUNDS,
    COMMON_TIMEZONES,
    FIELDS,
    WEEKDAYS,
    describe_settings,
    is_channel_id,
    validate_settings,
)
from handlers import delivery
from handlers.admin_channel import check_admin_channel
from handlers.blocks import INPUT_ACTION, escape
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from storage import outbox, outcomes, pairs, program, rhythm

log = logging.getLogger(__name__)

SETTINGS_CALLBACK = "program_settings"
TITLE = "Program settings"
_DEFAULTS = ProgramSettings()

_HINTS: dict[str, str] = {
    "program_start": "Optional. The midpoint and end check-ins are timed from the start "
    "and end dates.",
    "program_end": "Optional; after the start. Six months is a common length.",
    "cadence_days": "When nobody picks a date, the next session is proposed this many days "
    "after the last one.",
    "prompt_lead_hours": "The pair's group DM gets a conversation prompt this long before "
    "each session (moved into working hours).",
    "stall_days": "With no session and no message for this long, a pair gets a friendly "
    "nudge. Longer than the time between sessions.",
    "escalate_after_days": "Still quiet this long after the nudge: the admins are told.",
    "pulse_cadence_days": "Pairs that log no sessions get a pulse survey this often.",
    "pulse_close_days": "A pulse survey takes answers for this long.",
    "min_responses": "An average or a share is shown only when at least this many different "
    "people answered, so nobody's rating can be singled out. At least 2.",
    "admin_channel": "Optional: a private channel for summaries and alerts (they name stalled "
    "pairs); invite the bot to it first. Empty means MENTOR_ADMIN_CHANNEL.",
    "working_days": "Messages reach people only 09:00-18:00 on these days, in each person's "
    "own time zone; sessions are proposed on them, and the weekly summary goes out on one. "
    "Default Monday to Friday.",
}


def _option(value: str, label: str) -> Option:
    return Option(value=value, label=label)


def _number(name: str, value: int) -> InputBlock:
    bound = BOUNDS[name]
    unit = f" ({bound.unit})" if bound.unit else ""
    return InputBlock(
        block_id=name,
        label=f"{bound.label}{unit}",
        hint=f"{_HINTS[name]} Default {getattr(_DEFAULTS, name)}.",
        element=NumberInputElement(
            action_id=INPUT_ACTION,
            is_decimal_allowed=False,
            initial_value=str(value),
            min_value=str(bound.low),
            max_value=str(bound.high),
        ),
    )


def _day(name: str, label: str, value: date | None) -> InputBlock:
    return InputBlock(
        block_id=name,
        label=label,
        hint=_HINTS[name],
        optional=True,
        element=DatePickerElement(
            action_id=INPUT_ACTION,
            placeholder="Not set",
            initial_date=value.isoformat() if value else None,
        ),
    )


def _select(name: str, label: str, options: list[Option], value: str, hint: str) -> InputBlock:
    return InputBlock(
        block_id=name,
        label=label,
        hint=hint,
        element=StaticSelectElement(
            action_id=INPUT_ACTION,
            options=options,
            initial_option=next((o for o in options if o.value == value), None),
        ),
    )


def _working_days(days: tuple[int, ...]) -> InputBlock:
    options = [_option(str(n), name) for n, name in enumerate(WEEKDAYS)]
    return InputBlock(
        block_id="working_days",
        label="Working days",
        hint=_HINTS["working_days"],
        element=CheckboxesElement(
            action_id=INPUT_ACTION,
            options=options,
            initial_options=[o for o in options if int(o.value) in days] or None,
        ),
    )


def _heading(text: str) -> HeaderBlock:
    return HeaderBlock(text=text)


def settings_modal(settings: ProgramSettings) -> View:
    """The settings form, pre-filled with the workspace's current settings."""
    weekdays = [_option(str(n), name) for n, name in enumerate(WEEKDAYS)]
    hours = [_option(str(h), f"{h:02d}:00") for h in range(24)]
    zones = list(COMMON_TIMEZONES)
    if settings.timezone not in zones:
        zones.insert(0, settings.timezone)
    zone_options = [_option(tz, tz) for tz in zones[:100]]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text="These settings apply to this workspace's program from the bot's next "
                "check, within a minute of saving."
            )
        ),
        _heading("Program dates"),
        _day("program_start", "Program start", settings.program_start),
        _day("program_end", "Program end", settings.program_end),
        _heading("Working week"),
        _working_days(settings.working_days),
        _heading("Rhythm"),
        _number("cadence_days", settings.cadence_days),
        _number("prompt_lead_hours", settings.prompt_lead_hours),
        _number("stall_days", settings.stall_days),
        _number("escalate_after_days", settings.escalate_after_days),
        _heading("Pulse surveys"),
        _number("pulse_cadence_days", settings.pulse_cadence_days),
        _number("pulse_close_days", settings.pulse_close_days),
        _number("min_responses", settings.min_responses),
        _heading("Weekly summary"),
        _select(
            "summary_weekday",
            "Day",
            weekdays,
            str(settings.summary_weekday),
            "One of the working days. Default Monday.",
        ),
        _select(
            "summary_hour",
            "Hour",
            hours,
            str(settings.summary_hour),
            "In the workspace time zone below. Default 09:00.",
        ),
        _select(
            "timezone",
            "Workspace time zone",
            zone_options,
            settings.timezone,
            "For the weekly summary. People's own messages follow their Slack time zone. "
            "Default UTC.",
        ),
        InputBlock(
            block_id="admin_channel",
            label="Admin channel",
            hint=_HINTS["admin_channel"],
            optional=True,
            element=ConversationSelectElement(
                action_id=INPUT_ACTION,
                placeholder="Choose a channel",
                initial_conversation=settings.admin_channel,
                # Summaries and alerts name stalled pairs: private channels only.
                filter=ConversationFilter(include=["private"], exclude_bot_users=True),
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=SETTINGS_CALLBACK,
        title=TITLE,
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )


def settings_saved_view(settings: ProgramSettings) -> View:
    lines = [f"*{label}:* {escape(value)}" for label, value in describe_settings(settings)]
    channel = settings.admin_channel
    shown = f"<#{channel}>" if channel else "not set (MENTOR_ADMIN_CHANNEL applies)"
    lines.append(f"*Admin channel:* {shown}")
    return View(
        type="modal",
        title=TITLE,
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text="*Saved.* The new settings apply from the bot's next check, within "
                    "a minute. Pairs' pending reminders and nudges are re-timed to match."
                )
            ),
            SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ],
    )


def settings_refused_view() -> View:
    return View(
        type="modal",
        title=TITLE,
        close="Close",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text="Only the program's admins can change its settings, so nothing was saved."
                )
            )
        ],
    )


def parse_settings(values: dict) -> dict[str, str | None]:
    """The modal's state as plain strings keyed by setting name; empty fields become None."""
    raw: dict[str, str | None] = {}
    for name in FIELDS:
        field = (values.get(name) or {}).get(INPUT_ACTION) or {}
        option = field.get("selected_option") or {}
        if isinstance(field.get("selected_options"), list):  # checkboxes: "6,0,1,2,3"
            chosen = [
                str(o.get("value") if isinstance(o, dict) else o) for o in field["selected_options"]
            ]
            raw[name] = ",".join(chosen) or None
            continue
        raw[name] = (
            field.get("selected_date")
            or field.get("selected_conversation")
            or field.get("selected_channel")
            or option.get("value")
            or field.get("value")
            or None
        )
    return raw


async def open_settings_form(deps: Deps, *, team_id: str, trigger_id: str) -> bool:
    """Open the settings modal; False if Slack did not open it in time."""
    current = await deps.db.run(lambda s: program.get_program_settings(session=s, team_id=team_id))
    try:
        # The trigger expires 3 s after the command or click: spend well under that.
        await deps.slack.call(
            "views.open", trigger_id=trigger_id, view=settings_modal(current), budget=2.0
        )
    except SlackCallError as exc:
        log.warning("settings form did not open: %s", exc.error)
        return False
    return True


async def settings_submitted(ack: AsyncAck, deps: Deps, body: dict) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    raw = parse_settings(body["view"]["state"]["values"])
    # Slack is asked about the admin channel while the admin check runs: both within the ack.
    admin, channel_problem = await asyncio.gather(
        deps.is_admin(team_id=team_id, user_id=user_id), _admin_channel_problem(deps, raw)
    )
    if not admin:
        await ack(response_action="update", view=settings_refused_view())
        return
    settings, errors = validate_settings(raw)
    now = deps.clock()
    if settings is not None:
        errors = await deps.db.run(lambda s: _surprise_end(s, team_id, settings, now))
    if channel_problem is not None:
        errors.setdefault("admin_channel", channel_problem.text)
    if settings is None or errors:
        await ack(response_action="errors", errors=errors)
        return

    def save(session: Session) -> bool:
        program.save_program_settings(
            session=session, team_id=team_id, settings=settings, now=now, saved_by=user_id
        )
        # The channel was just checked: whatever waited for the admin channel goes now.
        if not program.clear_admin_channel_problem(session=session, team_id=team_id):
            return False
        outbox.retry_now(session=session, team_id=team_id, kinds=delivery.ADMIN_KINDS, now=now)
        return True

    released = await deps.db.run(save)
    await ack(response_action="update", view=settings_saved_view(settings))
    log.info("program settings saved")
    deps.spawn(retime_pairs(deps, team_id=team_id, settings=settings))
    if released:
        delivery.kick(deps)


async def _admin_channel_problem(deps: Deps, raw: dict[str, str | None]) -> ChannelProblem | None:
    channel = (raw.get("admin_channel") or "").strip()
    if not is_channel_id(channel):
        return None  # empty, or validate_settings says what is wrong with it
    return await check_admin_channel(deps.slack, channel, budget=1.5)


def _surprise_end(
    session: Session, team_id: str, settings: ProgramSettings, now: datetime
) -> dict[str, str]:
    """A field error when this save would end the program (and close every pair) at once."""
    _, end_decided = outcomes.decided_flags(session=session, team_id=team_id)
    found = cohort.surprise_end(
        settings,
        program.get_program_settings(session=session, team_id=team_id),
        now=now,
        end_decided=end_decided,
        live_pairs=pairs.count_live(session=session, team_id=team_id),
    )
    return dict([found]) if found else {}


async def retime_pairs(deps: Deps, *, team_id: str, settings: ProgramSettings) -> None:
    """Recompute the pairs' pending due times in small transactions, off the modal's clock."""
    after = 0
    while after is not None:
        now = deps.clock()
        after = await deps.db.run(
            lambda s, after=after, now=now: rhythm.retime_pairs(
                session=s, team_id=team_id, settings=settings, now=now, after_id=after
            )
        )
