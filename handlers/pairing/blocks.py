"""Pairing: the introduction, a pair as its two people see it, the end of a pair, and the
admin's view of a proposed or committed assignment."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DatePickerElement,
    HeaderBlock,
)

from bot.introductions import GROUND_RULES, first_agenda, shared_topics
from bot.matching import MatchResult
from handlers.agreement.blocks import open_button
from handlers.core.blocks import SECTION_MAX, clip, context, date_text, escape, section, who
from handlers.rhythm.blocks import RhythmActions
from storage.models import Pair, Participant

EXPLANATION_SHOWN = 600  # it names departments, which people typed
REASON_MAX = 200
NAMES_PER_REASON = 6
REASONS_SHOWN = 8


class PairingActions:
    REQUEST_REMATCH = "request_rematch"


def intro_blocks(pair: Pair, *, mentor: Participant, mentee: Participant) -> list[Block]:
    shared = shared_topics(mentor.topics, mentee.topics)
    agenda = "\n".join(f"{n}. {item}" for n, item in enumerate(first_agenda(shared), start=1))
    rules = "\n".join(f"• {rule}" for rule in GROUND_RULES)
    return [
        HeaderBlock(text="Meet your reverse-mentoring pair"),
        section(
            f"*Mentor:* {who(pair.mentor_id, mentor)}\n"
            f"*Mentee:* {who(pair.mentee_id, mentee)}\n"
            "In reverse mentoring the junior colleague mentors the leader."
        ),
        section(f"*Why you two:* {escape(clip(pair.explanation, EXPLANATION_SHOWN))}"),
        section(f"*Ground rules*\n{rules}"),
        section(f"*A first agenda*\n{agenda}"),
        ActionsBlock(
            block_id=f"intro_{pair.id}",
            elements=[
                DatePickerElement(
                    action_id=RhythmActions.PICK_SESSION_DATE,
                    placeholder="Pick your first session",
                ),
                open_button(pair.id or 0),
                ButtonElement(
                    action_id=PairingActions.REQUEST_REMATCH,
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
        context("See your pairing any time with `/mentor status`."),
    ]


_ENDED_TEXT = {
    "admin_unpaired": "The program team has ended this pairing.",
    "participant_left": "This pairing has ended because one of you has left the program.",
    "rematch_requested": "This pairing has ended because a different match was requested.",
    "participant_paused": "This pairing has ended because one of you is stepping back for now.",
    "cohort_closed": "Your cohort has come to its end and you chose to close this pairing. "
    "Thank you both for your time, your openness and everything you taught each other.",
    "program_ended": "The reverse-mentoring program has come to its end, and so has this "
    "pairing. Thank you both for your time, your openness and everything you taught each "
    "other: it made a difference. You're welcome to keep talking, of course.",
}


def ended_blocks(reason: str | None) -> tuple[str, list[Block]]:
    """The goodbye in a pair's group DM, saying why it ended without saying who asked."""
    why = _ENDED_TEXT.get(reason or "", "This pairing has ended.")
    if reason in ("program_ended", "cohort_closed"):  # no pool to go back to: it's over
        return why, [section(f":tada: {why}")]
    text = (
        f"{why} Thank you both for the conversations you had. Anyone still in the program "
        "goes back to the pool and will be introduced to someone new."
    )
    return text, [section(text)]


def pairs_status_blocks(user_id: str, live: list[Pair], people: dict[str, Participant]) -> list:
    out: list[Block] = []
    for pair in live:
        if pair.mentor_id == user_id:
            line = f"You're mentoring {who(pair.mentee_id, people.get(pair.mentee_id))}."
        else:
            line = f"You're mentored by {who(pair.mentor_id, people.get(pair.mentor_id))}."
        if pair.status == "introducing":
            line += " Your introduction is on its way."
        elif pair.status == "intro_failed":
            line += " Your introduction is on hold; the program team knows."
        line += f"\n*Why you were matched:* {escape(clip(pair.explanation, EXPLANATION_SHOWN))}"
        if pair.next_session_on is not None:
            line += f"\n*Next session:* {date_text(pair.next_session_on)}"
        else:
            line += "\n*Next session:* not set yet; pick a date in your group DM."
        out.append(section(line))
    return out


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
    out: list[Block] = [section(head)]
    for proposal in result.pairs[:shown_pairs]:
        out.append(
            section(
                clip(
                    f"<@{proposal.mentor_id}> mentors <@{proposal.mentee_id}> "
                    f"(score {proposal.score:.0f})\n_{escape(proposal.explanation)}_",
                    SECTION_MAX,
                )
            )
        )
    if len(result.pairs) > shown_pairs:
        out.append(context(f"…and {len(result.pairs) - shown_pairs} more pairs."))
    if result.unmatched:
        out.append(section(_unmatched_text(result)))
    elif not result.pairs:
        out.append(section("Nobody is waiting to be matched."))
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
