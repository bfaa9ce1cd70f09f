"""Signup and profile: the signup form, what it shows back, status, pausing and leaving."""

from __future__ import annotations

from collections import Counter

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.profiles import (
    CAPACITY_RANGE,
    DEPARTMENT_MAX,
    GOALS_MAX,
    LEVELS,
    ROLE_LABELS,
    TOPICS,
    Role,
    Status,
    describe_topics,
)
from handlers.core.blocks import INPUT_ACTION, clip, escape, option, section
from storage.models import Pair, Participant

SIGNUP_CALLBACK = "signup"
SIGNUP_FIELDS = ("role", "level", "department", "manager", "topics", "goals", "capacity")


class ProfileActions:
    OPEN_SIGNUP = "open_signup"
    PAUSE = "pause_participation"
    RESUME = "resume_participation"
    LEAVE_CONFIRM = "leave_confirm"
    LEAVE_CANCEL = "leave_cancel"
    PAUSE_KEEP_PAIR = "pause_keep_pair"
    PAUSE_RELEASE_PAIR = "pause_release_pair"


def participant_counts_blocks(counts: Counter[tuple[str, str]]) -> list[Block]:
    if not counts:
        return [section("Nobody has signed up yet. Share `/mentor signup` with your cohort.")]
    lines = []
    for role in Role:
        per_status = {status: counts.get((role.value, status.value), 0) for status in Status}
        if any(per_status.values()):
            lines.append(
                f"*{role.value.capitalize()}*: {per_status[Status.ACTIVE]} active, "
                f"{per_status[Status.PAUSED]} paused, {per_status[Status.LEFT]} left"
            )
    return [HeaderBlock(text="Participants"), section("\n".join(lines))]


def signup_modal(existing: Participant | None) -> View:
    """The signup form, pre-filled from an existing profile so re-running signup edits it."""
    has_profile = existing is not None and existing.status != Status.LEFT
    profile = existing if has_profile else None
    role_options = [option(role.value, label) for role, label in ROLE_LABELS.items()]
    level_options = [option(str(level), label) for level, label in LEVELS.items()]
    topic_options = [option(key, label) for key, label in TOPICS.items()]
    capacity_options = [option(str(n), str(n)) for n in CAPACITY_RANGE]
    initial_topics = [o for o in topic_options if profile and o.value in profile.topics]

    def initial(options: list[Option], value: object) -> Option | None:
        return next((o for o in options if o.value == str(value)), None)

    return View(
        type="modal",
        callback_id=SIGNUP_CALLBACK,
        title="Reverse mentoring",
        submit="Save" if has_profile else "Sign up",
        close="Cancel",
        blocks=[
            section(
                "Juniors mentor leaders on digital trends, AI, inclusion and new ways of "
                "working; leaders share career perspective back. Tell us about you so we "
                "can pair you well."
            ),
            InputBlock(
                block_id="role",
                label="Your role in the program",
                element=RadioButtonsElement(
                    action_id=INPUT_ACTION,
                    options=role_options,
                    initial_option=initial(role_options, profile.role) if profile else None,
                ),
            ),
            InputBlock(
                block_id="level",
                label="Your level",
                element=StaticSelectElement(
                    action_id=INPUT_ACTION,
                    placeholder="Choose a level",
                    options=level_options,
                    initial_option=initial(level_options, profile.level) if profile else None,
                ),
            ),
            InputBlock(
                block_id="department",
                label="Department",
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    placeholder="e.g. Finance",
                    max_length=DEPARTMENT_MAX,
                    initial_value=profile.department if profile else None,
                ),
            ),
            InputBlock(
                block_id="manager",
                label="Your manager",
                hint="Used only to keep pairs outside one reporting line.",
                optional=True,
                element=UserSelectElement(
                    action_id=INPUT_ACTION,
                    placeholder="Choose a person",
                    initial_user=profile.manager_id if profile else None,
                ),
            ),
            InputBlock(
                block_id="topics",
                label="Topics you'd like to share or learn about",
                element=StaticMultiSelectElement(
                    action_id=INPUT_ACTION,
                    placeholder="Choose topics",
                    options=topic_options,
                    initial_options=initial_topics or None,
                ),
            ),
            InputBlock(
                block_id="goals",
                label="Your goals",
                hint="What do you want to learn, or to teach? Only admins and your pair see this.",
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    max_length=GOALS_MAX,
                    placeholder="e.g. I want to understand how my team uses AI tools",
                    initial_value=profile.goals if profile else None,
                ),
            ),
            InputBlock(
                block_id="capacity",
                label="If you mentor: how many leaders can you take?",
                optional=True,
                element=StaticSelectElement(
                    action_id=INPUT_ACTION,
                    placeholder="1",
                    options=capacity_options,
                    initial_option=initial(capacity_options, profile.capacity if profile else 1),
                ),
            ),
        ],
    )


def signup_done_view(participant: Participant, *, created: bool) -> View:
    headline = "You're in!" if created else "Profile saved."
    return View(
        type="modal",
        title="Reverse mentoring",
        close="Done",
        blocks=[
            section(
                f"*{headline}* We'll message you as soon as you've been paired. "
                "You can check your details any time with `/mentor status`."
            ),
            section(profile_summary(participant)),
        ],
    )


def signup_unavailable_view(reason: str) -> View:
    return View(
        type="modal",
        title="Reverse mentoring",
        close="Close",
        blocks=[section(f"Nothing was saved. {reason}")],
    )


def profile_summary(participant: Participant) -> str:
    level = LEVELS.get(participant.level or 0, "level not set")
    capacity = (
        f"\n*Leaders you can mentor:* {participant.capacity}"
        if participant.role != Role.LEADER
        else ""
    )
    return (
        f"*Role:* {ROLE_LABELS[Role(participant.role)]}\n"
        f"*Level:* {level}\n"
        f"*Department:* {escape(clip(participant.department or '', DEPARTMENT_MAX))}\n"
        f"*Topics:* {describe_topics(participant.topics)}{capacity}"
    )


def status_blocks(participant: Participant | None, *, paired: bool = False) -> list[Block]:
    if participant is None or participant.status == Status.LEFT:
        return [section("You're not signed up yet. Join with `/mentor signup`.")]
    if participant.status == Status.PAUSED:
        state = "You're *paused*: no new matches or reminders until `/mentor resume`."
    elif paired:
        state = "You're *active* and paired."
    else:
        state = "You're *active*: waiting to be paired."
    return [section(state), section(profile_summary(participant))]


# What leaving deletes and keeps (storage/forgetting.py), said before and after. LEAVING is
# also the Home button's confirm dialog, which Slack caps at 300 characters.
LEAVING = (
    "Leaving deletes your profile (goals, topics, department, manager, level, title, time zone), "
    "pulse answers, fit answers and any change you shared; goal answers stay only as "
    "anonymous counts. We keep that you took part and who you were paired with, so you're "
    "never re-paired. Messages stop."
)

LEFT_TEXT = (
    "You've left the program. Deleted: your profile (goals, topics, department, manager, level, "
    "job title, time zone), your pulse answers, your fit answers, your pairs' learning "
    "agreements, your answers about their items and any change you shared. "
    "Your goal-progress answers are kept only as anonymous counts, no longer linked to you. Kept: "
    "that you took part, who you were paired with (so you're never paired with them again) and "
    "the dates your pairs met. Thank you for taking part. You're welcome back any time with "
    "`/mentor signup`."
)


def leave_confirm_blocks() -> list[Block]:
    return [
        section(f"{LEAVING} Are you sure?"),
        ActionsBlock(
            block_id="leave",
            elements=[
                ButtonElement(
                    action_id=ProfileActions.LEAVE_CONFIRM,
                    text="Yes, leave",
                    style="danger",
                    value="leave",
                ),
                ButtonElement(action_id=ProfileActions.LEAVE_CANCEL, text="Stay", value="stay"),
            ],
        ),
    ]


def pause_choice_blocks(user_id: str, live: list[Pair]) -> list[Block]:
    partners = " and ".join(
        f"<@{p.mentee_id if p.mentor_id == user_id else p.mentor_id}>" for p in live
    )
    return [
        section(
            f"Pausing stops reminders and new matches. What about your pairing with {partners}?"
        ),
        ActionsBlock(
            block_id="pause",
            elements=[
                ButtonElement(
                    action_id=ProfileActions.PAUSE_KEEP_PAIR,
                    text="Pause, keep my pair",
                    style="primary",
                ),
                ButtonElement(
                    action_id=ProfileActions.PAUSE_RELEASE_PAIR,
                    text="Step back for good",
                    confirm=ConfirmObject(
                        title="Step back from your pair?",
                        text="Your pairing ends and your partner is matched with someone new.",
                        confirm="Step back",
                        deny="Keep my pair",
                    ),
                ),
            ],
        ),
    ]
