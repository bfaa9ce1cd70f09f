"""Block Kit surfaces, built with slack_sdk.models so Slack's limits are checked when built."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.commands import ADMIN_COMMANDS, PARTICIPANT_COMMANDS, CommandSpec, ParsedCommand
from bot.introductions import GROUND_RULES, first_agenda, shared_topics
from bot.matching import MatchResult
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
from bot.prompts import Prompt
from storage.models import Pair, Participant

SIGNUP_CALLBACK = "signup"
INPUT_ACTION = "value"  # every signup input uses this action_id; the block_id names the field
SIGNUP_FIELDS = ("role", "level", "department", "manager", "topics", "goals", "capacity")


class Actions:
    OPEN_SIGNUP = "open_signup"
    PAUSE = "pause_participation"
    RESUME = "resume_participation"
    LEAVE_CONFIRM = "leave_confirm"
    LEAVE_CANCEL = "leave_cancel"
    PAUSE_KEEP_PAIR = "pause_keep_pair"
    PAUSE_RELEASE_PAIR = "pause_release_pair"
    PICK_SESSION_DATE = "pick_session_date"
    CHECKIN_MET = "checkin_met"
    CHECKIN_RESCHEDULE = "checkin_reschedule"
    CHECKIN_SKIP = "checkin_skip"
    LOG_MET_TODAY = "log_met_today"
    SEND_PROMPT = "send_prompt"
    FIT_GOOD = "fit_good"
    FIT_POOR = "fit_poor"
    FIT_REMATCH = "fit_rematch"
    REQUEST_REMATCH = "request_rematch"


def escape(text: str) -> str:
    """Neutralise people's own text in mrkdwn, so it can't mention @channel or fake a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _command_lines(specs: tuple[CommandSpec, ...]) -> str:
    return "\n".join(f"`{spec.usage}`: {spec.summary}" for spec in specs)


def help_blocks(parsed: ParsedCommand) -> list[Block]:
    blocks: list[Block] = []
    if parsed.unknown:
        shown = escape(parsed.unknown[:60])
        blocks.append(_section(f"I don't know `{shown}`. Here's what I can do:"))
    else:
        blocks.append(
            _section(
                "*Reverse Mentor* pairs junior colleagues with senior leaders: juniors share "
                "digital trends, AI and what younger colleagues expect; leaders share career "
                "perspective back."
            )
        )
    blocks.append(_section(_command_lines(PARTICIPANT_COMMANDS)))
    blocks.append(_context("Running the program? See `/mentor admin help`."))
    return blocks


def direct_message_help_blocks() -> list[Block]:
    """The answer to anything typed in a DM with the bot, which has no conversation to offer."""
    return [
        _section("I can't answer messages, and I don't keep them. Here's what `/mentor` does:"),
        *help_blocks(ParsedCommand("help")),
    ]


def admin_help_blocks(parsed: ParsedCommand) -> list[Block]:
    blocks: list[Block] = []
    if parsed.unknown:
        shown = escape(parsed.unknown[:60])
        blocks.append(_section(f"I don't know the admin command `{shown}`."))
    blocks.append(_section("*Admin commands*\n" + _command_lines(ADMIN_COMMANDS)))
    return blocks


def admin_refused_blocks() -> list[Block]:
    return [
        _section(
            "Admin commands are for the program's admins, so I didn't change anything. "
            "If you run the program, ask whoever installed the bot to add you to MENTOR_ADMINS."
        )
    ]


def participant_counts_blocks(counts: Counter[tuple[str, str]]) -> list[Block]:
    if not counts:
        return [_section("Nobody has signed up yet. Share `/mentor signup` with your cohort.")]
    lines = []
    for role in Role:
        per_status = {status: counts.get((role.value, status.value), 0) for status in Status}
        if any(per_status.values()):
            lines.append(
                f"*{role.value.capitalize()}*: {per_status[Status.ACTIVE]} active, "
                f"{per_status[Status.PAUSED]} paused, {per_status[Status.LEFT]} left"
            )
    return [HeaderBlock(text="Participants"), _section("\n".join(lines))]


def _option(value: str, label: str) -> Option:
    return Option(value=value, label=label)


def signup_modal(existing: Participant | None) -> View:
    """The signup form, pre-filled from an existing profile so re-running signup edits it."""
    has_profile = existing is not None and existing.status != Status.LEFT
    profile = existing if has_profile else None
    role_options = [_option(role.value, label) for role, label in ROLE_LABELS.items()]
    level_options = [_option(str(level), label) for level, label in LEVELS.items()]
    topic_options = [_option(key, label) for key, label in TOPICS.items()]
    capacity_options = [_option(str(n), str(n)) for n in CAPACITY_RANGE]
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
            _section(
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
            _section(
                f"*{headline}* We'll message you as soon as you've been paired. "
                "You can check your details any time with `/mentor status`."
            ),
            _section(profile_summary(participant)),
        ],
    )


def signup_unavailable_view(reason: str) -> View:
    return View(
        type="modal",
        title="Reverse mentoring",
        close="Close",
        blocks=[_section(f"Nothing was saved. {reason}")],
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
        return [_section("You're not signed up yet. Join with `/mentor signup`.")]
    if participant.status == Status.PAUSED:
        state = "You're *paused*: no new matches or reminders until `/mentor resume`."
    elif paired:
        state = "You're *active* and paired."
    else:
        state = "You're *active*: waiting to be paired."
    return [_section(state), _section(profile_summary(participant))]


# What leaving deletes and keeps (storage/forgetting.py), said before and after. LEAVING is
# also the Home button's confirm dialog, which Slack caps at 300 characters.
LEAVING = (
    "Leaving deletes your profile (goals, topics, department, manager, level, title, time zone), "
    "pulse answers, fit answers and any change you shared; progress answers stay only as "
    "anonymous counts. We keep that you took part and who you were paired with, so you're "
    "never re-paired. Messages stop."
)
LEFT_TEXT = (
    "You've left the program. Deleted: your profile (goals, topics, department, manager, level, "
    "job title, time zone), your pulse answers, your fit answers and any change you shared. "
    "Your progress answers are kept only as anonymous counts, no longer linked to you. Kept: "
    "that you took part, who you were paired with (so you're never paired with them again) and "
    "the dates your pairs met. Thank you for taking part. You're welcome back any time with "
    "`/mentor signup`."
)


def leave_confirm_blocks() -> list[Block]:
    return [
        _section(f"{LEAVING} Are you sure?"),
        ActionsBlock(
            block_id="leave",
            elements=[
                ButtonElement(
                    action_id=Actions.LEAVE_CONFIRM,
                    text="Yes, leave",
                    style="danger",
                    value="leave",
                ),
                ButtonElement(action_id=Actions.LEAVE_CANCEL, text="Stay", value="stay"),
            ],
        ),
    ]


def pause_choice_blocks(user_id: str, live: list[Pair]) -> list[Block]:
    partners = " and ".join(
        f"<@{p.mentee_id if p.mentor_id == user_id else p.mentor_id}>" for p in live
    )
    return [
        _section(
            f"Pausing stops reminders and new matches. What about your pairing with {partners}?"
        ),
        ActionsBlock(
            block_id="pause",
            elements=[
                ButtonElement(
                    action_id=Actions.PAUSE_KEEP_PAIR,
                    text="Pause, keep my pair",
                    style="primary",
                ),
                ButtonElement(
                    action_id=Actions.PAUSE_RELEASE_PAIR,
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


def home_view(
    participant: Participant | None,
    *,
    pairs_section: Sequence[Block] = (),
    admin_section: Sequence[Block] = (),
    extra_section: Sequence[Block] = (),
) -> View:
    """The Home tab: the admin's part first (if any), then the person's own (handlers/home.py)."""
    signed_up = participant is not None and participant.status != Status.LEFT
    blocks: list[Block] = [HeaderBlock(text="Reverse Mentor"), *admin_section]
    if not signed_up:
        blocks += [
            _section(
                "Junior colleagues mentor senior leaders on digital trends, AI, social media, "
                "inclusion and hybrid work; leaders share career perspective back. "
                "Sign up and we'll pair you with someone who wants what you have to share."
            ),
            ActionsBlock(
                block_id="home_signup",
                elements=[
                    ButtonElement(action_id=Actions.OPEN_SIGNUP, text="Sign up", style="primary")
                ],
            ),
        ]
        return View(type="home", blocks=blocks)
    assert participant is not None
    paused = participant.status == Status.PAUSED
    blocks += status_blocks(participant, paired=bool(pairs_section))
    blocks += list(pairs_section)
    blocks += list(extra_section)
    blocks += [
        DividerBlock(),
        ActionsBlock(
            block_id="home_profile",
            elements=[
                ButtonElement(action_id=Actions.OPEN_SIGNUP, text="Edit profile"),
                ButtonElement(action_id=Actions.RESUME, text="Resume", style="primary")
                if paused
                else ButtonElement(action_id=Actions.PAUSE, text="Pause"),
                ButtonElement(
                    action_id=Actions.LEAVE_CONFIRM,
                    text="Leave the program",
                    style="danger",
                    confirm=ConfirmObject(
                        title="Leave the program?",
                        text=LEAVING,
                        confirm="Leave",
                        deny="Stay",
                        style="danger",
                    ),
                ),
            ],
        ),
        _context("What you share in your pair stays in your pair."),
    ]
    return View(type="home", blocks=blocks)


# --- Pairs -----------------------------------------------------------------------------------


TITLE_SHOWN = 80  # job titles come from Slack profiles: any length, capped where shown
EXPLANATION_SHOWN = 600  # it names departments, which people typed


def _who(user_id: str, participant: Participant | None) -> str:
    title = participant.title if participant is not None else None
    return f"<@{user_id}> ({escape(clip(title, TITLE_SHOWN))})" if title else f"<@{user_id}>"


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_text(day: date) -> str:
    """A calendar date (a session's) as plain text, "Tuesday 8 December 2026". Not Slack's
    <!date^…>: that formats an instant in each reader's zone, so any instant chosen for a
    date shows the day before or after somewhere (UTC-11 or UTC+14)."""
    return f"{_WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def slack_time(moment: datetime) -> str:
    """An instant, shown by Slack in each reader's own zone (the fallback for old clients)."""
    stamp = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_long}}|{fallback}>"


def intro_blocks(pair: Pair, *, mentor: Participant, mentee: Participant) -> list[Block]:
    shared = shared_topics(mentor.topics, mentee.topics)
    agenda = "\n".join(f"{n}. {item}" for n, item in enumerate(first_agenda(shared), start=1))
    rules = "\n".join(f"• {rule}" for rule in GROUND_RULES)
    return [
        HeaderBlock(text="Meet your reverse-mentoring pair"),
        _section(
            f"*Mentor:* {_who(pair.mentor_id, mentor)}\n"
            f"*Mentee:* {_who(pair.mentee_id, mentee)}\n"
            "In reverse mentoring the junior colleague mentors the leader."
        ),
        _section(f"*Why you two:* {escape(clip(pair.explanation, EXPLANATION_SHOWN))}"),
        _section(f"*Ground rules*\n{rules}"),
        _section(f"*A first agenda*\n{agenda}"),
        ActionsBlock(
            block_id=f"intro_{pair.id}",
            elements=[
                DatePickerElement(
                    action_id=Actions.PICK_SESSION_DATE,
                    placeholder="Pick your first session",
                ),
                ButtonElement(
                    action_id=Actions.REQUEST_REMATCH,
                    text="Ask for a different match",
                    value=str(pair.id),
                    confirm=ConfirmObject(
                        title="Ask for a different match?",
                        text="This pairing ends and you both go back to the pool. "
                        "Your partner is not told who asked.",
                        confirm="Yes, re-match",
                        deny="Keep this pair",
                    ),
                ),
            ],
        ),
        _context("See your pairing any time with `/mentor status`."),
    ]


_ENDED_TEXT = {
    "admin_unpaired": "The program team has ended this pairing.",
    "participant_left": "This pairing has ended because one of you has left the program.",
    "rematch_requested": "This pairing has ended because a different match was requested.",
    "participant_paused": "This pairing has ended because one of you is stepping back for now.",
    "program_ended": "The reverse-mentoring program has come to its end, and so has this "
    "pairing. Thank you both for your time, your openness and everything you taught each "
    "other: it made a difference. You're welcome to keep talking, of course.",
}


def pair_message(kind: str, pair: Pair, payload: dict) -> tuple[str, list[Block]]:
    if kind == "session_set":
        day = date.fromisoformat(payload["date"])
        text = f"Your next session is set for {date_text(day)}."
        return text, [_section(f":calendar: {text}")]
    reason = _ENDED_TEXT.get(payload.get("reason", ""), "This pairing has ended.")
    if payload.get("reason") == "program_ended":  # nobody goes back to the pool: it's over
        return reason, [_section(f":tada: {reason}")]
    text = (
        f"{reason} Thank you both for the conversations you had. Anyone still in the program "
        "goes back to the pool and will be introduced to someone new."
    )
    return text, [_section(text)]


def pairs_status_blocks(user_id: str, live: list[Pair], people: dict[str, Participant]) -> list:
    out: list[Block] = []
    for pair in live:
        if pair.mentor_id == user_id:
            line = f"You're mentoring {_who(pair.mentee_id, people.get(pair.mentee_id))}."
        else:
            line = f"You're mentored by {_who(pair.mentor_id, people.get(pair.mentor_id))}."
        if pair.status == "introducing":
            line += " Your introduction is on its way."
        elif pair.status == "intro_failed":
            line += " Your introduction is on hold; the program team knows."
        line += f"\n*Why you were matched:* {escape(clip(pair.explanation, EXPLANATION_SHOWN))}"
        if pair.next_session_on is not None:
            line += f"\n*Next session:* {date_text(pair.next_session_on)}"
        else:
            line += "\n*Next session:* not set yet; pick a date in your group DM."
        out.append(_section(line))
    return out


SECTION_MAX = 2900  # Slack allows 3000 characters in a section's text
REASON_MAX = 200
NAMES_PER_REASON = 6
REASONS_SHOWN = 8


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def match_preview_blocks(
    result: MatchResult, *, committed: bool, shown_pairs: int = 20
) -> list[Block]:
    """The admin's view of an assignment, within a message's 50 blocks: the first pairs,
    then who is not matched, grouped by why (a few names each), however many there are."""
    verb = "Matched" if committed else "Proposed"
    head = f"*{verb} {len(result.pairs)} pair{'s' if len(result.pairs) != 1 else ''}*"
    head += f", total score {result.total_score:.0f}."
    if not committed:
        head += " Nothing has been sent. Run `/mentor admin match` to introduce them."
    else:
        head += " Introductions are on their way."
    out: list[Block] = [_section(head)]
    for proposal in result.pairs[:shown_pairs]:
        out.append(
            _section(
                clip(
                    f"<@{proposal.mentor_id}> mentors <@{proposal.mentee_id}> "
                    f"(score {proposal.score:.0f})\n_{escape(proposal.explanation)}_",
                    SECTION_MAX,
                )
            )
        )
    if len(result.pairs) > shown_pairs:
        out.append(_context(f"…and {len(result.pairs) - shown_pairs} more pairs."))
    if result.unmatched:
        out.append(_section(_unmatched_text(result)))
    elif not result.pairs:
        out.append(_section("Nobody is waiting to be matched."))
    return out


def _unmatched_text(result: MatchResult) -> str:
    by_reason: dict[str, list[str]] = {}
    for person in result.unmatched:
        by_reason.setdefault(person.reason, []).append(person.user_id)
    groups = sorted(by_reason.items(), key=lambda group: (-len(group[1]), group[0]))
    lines = [f"*Not matched this time* ({len(result.unmatched)})"]
    for reason, users in groups[:REASONS_SHOWN]:
        names = ", ".join(f"<@{user}>" for user in users[:NAMES_PER_REASON])
        if len(users) > NAMES_PER_REASON:
            names += f" and {len(users) - NAMES_PER_REASON} more"
        lines.append(f"• {escape(clip(reason, REASON_MAX))}: {names}")
    hidden = sum(len(users) for _, users in groups[REASONS_SHOWN:])
    if hidden:
        lines.append(f"…and {hidden} more for other reasons.")
    text = "\n".join(lines)
    return text if len(text) <= SECTION_MAX else text[: SECTION_MAX - 1] + "…"


# --- The rhythm: prompts, check-ins, nudges, fit survey -------------------------------------


def prompt_blocks(prompt: Prompt, *, session_day: date | None) -> tuple[str, list[Block]]:
    when = f" for your session on {date_text(session_day)}" if session_day else ""
    text = f"A conversation prompt{when}: {prompt.question}"
    return text, [
        _section(f":speech_balloon: *A conversation prompt{when}*"),
        _section(f"*To open:* {escape(prompt.question)}"),
        _section(f"*And the other way round:* {escape(prompt.reverse)}"),
        _context(f"{TOPICS.get(prompt.topic, prompt.topic)} · `/mentor prompt` for another one"),
    ]


def checkin_blocks(pair: Pair, *, session_day: date) -> tuple[str, list[Block]]:
    text = f"Did your session on {date_text(session_day)} happen?"
    value = f"{pair.id}:{session_day.isoformat()}"
    return text, [
        _section(f":wave: {text}"),
        ActionsBlock(
            block_id=f"checkin:{value}",
            elements=[
                ButtonElement(
                    action_id=Actions.CHECKIN_MET, text="We met", style="primary", value=value
                ),
                DatePickerElement(
                    action_id=Actions.CHECKIN_RESCHEDULE, placeholder="We rescheduled"
                ),
                ButtonElement(action_id=Actions.CHECKIN_SKIP, text="Skip this one", value=value),
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
        _section(f":seedling: {text}"),
        ActionsBlock(
            block_id=f"nudge:{pair.id}",
            elements=[
                DatePickerElement(
                    action_id=Actions.PICK_SESSION_DATE, placeholder="Pick our next date"
                ),
                ButtonElement(action_id=Actions.LOG_MET_TODAY, text="We met today"),
                ButtonElement(action_id=Actions.SEND_PROMPT, text="Give us a prompt"),
            ],
        ),
    ]


def fit_survey_blocks(pair: Pair, *, user_id: str) -> tuple[str, list[Block]]:
    partner = pair.mentee_id if pair.mentor_id == user_id else pair.mentor_id
    text = f"After your first session with <@{partner}>: is this pairing a good fit?"
    return text, [
        _section(f"{text} Only the program team sees your answer; <@{partner}> doesn't."),
        ActionsBlock(
            block_id=f"fit:{pair.id}",
            elements=[
                ButtonElement(
                    action_id=Actions.FIT_GOOD, text="Good fit", style="primary", value=str(pair.id)
                ),
                ButtonElement(
                    action_id=Actions.FIT_POOR, text="Not a good fit", value=str(pair.id)
                ),
            ],
        ),
    ]


def fit_rematch_blocks(pair: Pair) -> list[Block]:
    return [
        _section(
            "Thank you for saying so; only the program team sees it. "
            "Would you like to be matched with someone else?"
        ),
        ActionsBlock(
            block_id=f"fit_rematch:{pair.id}",
            elements=[
                ButtonElement(
                    action_id=Actions.FIT_REMATCH,
                    text="Find me a different match",
                    style="primary",
                    value=str(pair.id),
                ),
            ],
        ),
    ]
