"""The program settings form, pre-filled with the workspace's current settings, and what it
shows back after Save."""

from __future__ import annotations

from datetime import date

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
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.cadence import ProgramSettings
from bot.program_settings import (
    BOUNDS,
    COMMON_TIMEZONES,
    FIELDS,
    MAX_PROGRAM_ADMINS,
    WEEKDAYS,
    describe_settings,
)
from handlers.core.blocks import INPUT_ACTION, escape, option

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
    "admin_channel_oauth": "Optional: a private channel for summaries and alerts (they name "
    "stalled pairs); invite the bot to it first. Empty: they go to the program admins in a "
    "direct message.",
    "program_admins": "People who may run the admin commands and see the program at a "
    "glance, besides the workspace's owners and admins (who always may).",
    "send_guides": "Before each person's first session of the program, a short guide in a "
    "direct message: for mentors, how to run the first conversation and give honest feedback; "
    "for leaders, listen first and let the mentor lead. Once per person per program (new "
    "program dates send them again). The text is in bot/guides.toml. Default on.",
    "working_days": "Messages reach people only 09:00-18:00 on these days, in each person's "
    "own time zone; sessions are proposed on them, and the weekly summary goes out on one. "
    "Default Monday to Friday.",
}


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
    options = [option(str(n), name) for n, name in enumerate(WEEKDAYS)]
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


def _program_admins(people: tuple[str, ...]) -> InputBlock:
    return InputBlock(
        block_id="program_admins",
        label="Program admins",
        hint=_HINTS["program_admins"],
        optional=True,
        element=UserMultiSelectElement(
            action_id=INPUT_ACTION,
            placeholder="Choose people",
            initial_users=list(people) or None,
            max_selected_items=MAX_PROGRAM_ADMINS,
        ),
    )


def _heading(text: str) -> HeaderBlock:
    return HeaderBlock(text=text)


def settings_modal(settings: ProgramSettings, *, many_workspaces: bool = False) -> View:
    """The settings form, pre-filled with the workspace's current settings. With
    `many_workspaces` (OAuth mode) it also names the program's admins, and no admin channel
    comes from MENTOR_ADMIN_CHANNEL."""
    weekdays = [option(str(n), name) for n, name in enumerate(WEEKDAYS)]
    hours = [option(str(h), f"{h:02d}:00") for h in range(24)]
    zones = list(COMMON_TIMEZONES)
    if settings.timezone not in zones:
        zones.insert(0, settings.timezone)
    zone_options = [option(tz, tz) for tz in zones[:100]]
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
        _heading("Preparation guides"),
        _select(
            "send_guides",
            "Guides before the first session",
            [option("on", "Send them"), option("off", "Don't send them")],
            "on" if settings.send_guides else "off",
            _HINTS["send_guides"],
        ),
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
            hint=_HINTS["admin_channel_oauth" if many_workspaces else "admin_channel"],
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
    if many_workspaces:
        blocks.append(_program_admins(settings.program_admins))
    return View(
        type="modal",
        callback_id=SETTINGS_CALLBACK,
        title=TITLE,
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )


def settings_saved_view(settings: ProgramSettings, *, many_workspaces: bool = False) -> View:
    lines = [f"*{label}:* {escape(value)}" for label, value in describe_settings(settings)]
    channel = settings.admin_channel
    unset = "not set" if many_workspaces else "not set (MENTOR_ADMIN_CHANNEL applies)"
    lines.append(f"*Admin channel:* {f'<#{channel}>' if channel else unset}")
    if many_workspaces:
        named = ", ".join(f"<@{person}>" for person in settings.program_admins)
        lines.append(f"*Program admins:* {named or 'the workspace owners and admins only'}")
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
        if isinstance(field.get("selected_users"), list):  # people: "U1,U2"
            raw[name] = ",".join(str(u) for u in field["selected_users"]) or None
            continue
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
