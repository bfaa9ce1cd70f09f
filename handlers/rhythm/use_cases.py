"""The rhythm, as the two people of a pair live it: logging a session (once per meeting),
setting or moving the next date, answering a check-in, asking for a prompt, and saying
whether the pairing fits. One transaction each; messages decided here go through the
outbox."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot import cadence
from bot.introductions import shared_topics
from bot.prompts import Prompt, choose_prompt
from handlers.agreement.use_cases import decide_reminder
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.pairing.use_cases import end_pair, pair_in_channel
from handlers.pulse.use_cases import decide_session_pulse
from storage import outbox as rows
from storage import pairs, participants, program, rhythm
from storage.models import Pair

SESSION_SET = "session_set"
FIT_SURVEY = "fit_survey"


def log_session(
    session: Session, *, pair: Pair, held_on: date, logged_by: str, now: datetime
) -> bool:
    """Log a held session once per meeting, however many times or people press. A log within
    `cadence.same_meeting_days` calendar days of one the pair already has is that meeting,
    logged from the other side of the date line: not a new one. The first session held brings
    each person the fit question; every session brings a pulse survey; the second, to a pair
    with no learning agreement yet, its one reminder."""
    settings = program.get_program_settings(
        session=session, team_id=pair.team_id, cohort_id=pair.cohort_id
    )
    window = timedelta(
        days=cadence.same_meeting_days(rhythm.pair_timezones(session=session, pair=pair), now)
    )
    if rhythm.logged_near(session=session, pair=pair, day=held_on, window=window):
        return False
    if not rhythm.insert_held_session(
        session=session, pair=pair, held_on=held_on, logged_by=logged_by, now=now
    ):
        return False
    rhythm.record_activity(session=session, pair=pair, at=now, settings=settings)
    # A planned session that close is the meeting just logged: plan the next one instead.
    if pair.next_session_on is None or pair.next_session_on <= held_on + window:
        rhythm.schedule_after(session=session, pair=pair, day=held_on, settings=settings, now=now)
    if rhythm.sessions_held(session=session, pair_id=pair.id or 0) == 1:
        for user_id in (pair.mentor_id, pair.mentee_id):
            rows.enqueue(
                session=session,
                team_id=pair.team_id,
                key=f"fit:{pair.id}:{user_id}",
                kind=FIT_SURVEY,
                pair_id=pair.id,
                payload={"user": user_id},
                now=now,
            )
    # How valuable was it? (Also restarts the pair's pulse cadence.)
    decide_session_pulse(session, pair=pair, held_on=held_on, settings=settings, now=now)
    # Two sessions in and nothing agreed: one gentle reminder.
    decide_reminder(session, pair=pair, now=now)
    return True


def active_pair_for(
    session: Session, *, team_id: str, user_id: str, partner: str | None = None
) -> tuple[Pair | None, str | None]:
    """The pair a participant means: the only one they have, or the one with `partner`.
    Returns (pair, None) or (None, a sentence saying why not)."""
    live = [
        p
        for p in pairs.live_pairs_of(session=session, team_id=team_id, user_id=user_id)
        if p.status == "active"
    ]
    if partner is not None:
        live = [p for p in live if partner in (p.mentor_id, p.mentee_id)]
    if len(live) == 1:
        return live[0], None
    if not live:
        return None, "You don't have an active pair right now."
    return None, "You have more than one pair: name your partner, e.g. `/mentor met @name`."


async def met(
    deps: Deps, *, team_id: str, user_id: str, day: date, partner: str | None
) -> tuple[Pair | None, bool, str | None]:
    """`/mentor met`: a session held `day` (the person's today) with their pair (or the one
    with `partner`). Returns (pair, logged now, why not)."""

    def log(session: Session) -> tuple[Pair | None, bool, str | None]:
        pair, problem = active_pair_for(session, team_id=team_id, user_id=user_id, partner=partner)
        if pair is None:
            return None, False, problem
        new = log_session(session, pair=pair, held_on=day, logged_by=user_id, now=deps.clock())
        return pair, new, None

    found = await deps.db.run(log)
    outbox.kick(deps)  # the first session held brings the fit question
    return found


async def met_in_channel(
    deps: Deps, *, team_id: str, user_id: str, channel: str | None, day: date
) -> bool | None:
    """ "We met today" in the pair's group DM: True logged, False already, None not theirs."""

    def log(session: Session) -> bool | None:
        pair = pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel)
        if pair is None:
            return None
        return log_session(session, pair=pair, held_on=day, logged_by=user_id, now=deps.clock())

    logged = await deps.db.run(log)
    if logged:
        outbox.kick(deps)
    return logged


async def set_session_date(
    deps: Deps, *, team_id: str, user_id: str, channel: str | None, day: date
) -> bool:
    """One of the pair picks the next session's date; both are told in their group DM.
    False when the picker is not one of this live pair."""

    def set_date(session: Session) -> bool:
        pair = pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel)
        if pair is None:
            return False
        now = deps.clock()
        settings = program.get_program_settings(session=session, team_id=team_id)
        rhythm.schedule_session(session=session, pair=pair, day=day, settings=settings, now=now)
        rows.enqueue(
            session=session,
            team_id=team_id,
            key=f"session_set:{pair.id}:{day.isoformat()}",
            kind=SESSION_SET,
            pair_id=pair.id,
            payload={"date": day.isoformat()},
            now=now,
        )
        return True

    done = await deps.db.run(set_date)
    if done:
        outbox.kick(deps)
    return done


async def answer_checkin(
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    channel: str | None,
    answer: str,
    session_day: date,
    picked: date | None,
) -> tuple[date | None, str] | None:
    """A check-in answered: "met" logs the session, "rescheduled" moves it to `picked`,
    "skipped" plans the next one. Returns (next session, what happened: the answer, or
    "already_met"), or None when the person is not one of this live pair."""

    def apply(session: Session) -> tuple[date | None, str] | None:
        pair = pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel)
        if pair is None:
            return None
        now = deps.clock()
        settings = program.get_program_settings(session=session, team_id=team_id)
        if answer == "met":
            if not log_session(session, pair=pair, held_on=session_day, logged_by=user_id, now=now):
                return pair.next_session_on, "already_met"
        elif answer == "rescheduled" and picked is not None:
            rhythm.schedule_session(
                session=session, pair=pair, day=picked, settings=settings, now=now
            )
        else:
            rhythm.schedule_after(
                session=session, pair=pair, day=session_day, settings=settings, now=now
            )
        return pair.next_session_on, answer

    answered = await deps.db.run(apply)
    outbox.kick(deps)
    return answered


def _prompt_for(
    session: Session, deps: Deps, *, team_id: str, user_id: str, now: datetime
) -> Prompt | None:
    pair, _ = active_pair_for(session, team_id=team_id, user_id=user_id)
    me = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
    if pair is None:
        return choose_prompt(deps.prompts, topics=me.topics if me else [], history=[])
    mentor = participants.get_participant(session=session, team_id=team_id, user_id=pair.mentor_id)
    mentee = participants.get_participant(session=session, team_id=team_id, user_id=pair.mentee_id)
    prompt = choose_prompt(
        deps.prompts,
        topics=shared_topics(mentor.topics if mentor else [], mentee.topics if mentee else []),
        history=rhythm.prompt_history(session=session, pair_id=pair.id or 0),
        salt=pair.id or 0,
    )
    if prompt is not None:
        rhythm.remember_prompt(session=session, pair=pair, prompt_id=prompt.id, now=now)
    return prompt


async def prompt_for(deps: Deps, *, team_id: str, user_id: str) -> Prompt | None:
    """A prompt for someone's pair (remembered, so the pair won't get it again soon), or from
    their own topics when they have no pair; None when they are not signed up."""
    return await deps.db.run(
        lambda s: _prompt_for(s, deps, team_id=team_id, user_id=user_id, now=deps.clock())
    )


async def record_fit(
    deps: Deps, *, team_id: str, user_id: str, pair_id: int, good: bool
) -> Pair | str | None:
    """Someone's private answer to "is this a good fit?": the pair, "left" (someone who left
    answers nothing), or None when it is not their pair. The first "not a good fit" tells
    the admins, never the partner."""

    def record(session: Session) -> Pair | str | None:
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
            outbox.alert_admins(
                session,
                deps,
                team_id=team_id,
                key=f"poor_fit:{pair.id}:{user_id}",
                text=f"<@{user_id}> feels their pairing with <@{partner}> is not a good fit "
                "and has been offered a different match. Their partner has not been told.",
                now=now,
            )
        return pair

    answer = await deps.db.run(record)
    if answer is not None and answer != "left":
        outbox.kick(deps)
    return answer


async def rematch_after_fit(deps: Deps, *, team_id: str, user_id: str, pair_id: int) -> bool:
    """After "not a good fit": end the pair and put both back in the pool."""

    def end(session: Session) -> bool:
        pair = pairs.get_pair(session=session, team_id=team_id, pair_id=pair_id)
        if pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
            return False
        return end_pair(session, pair=pair, reason="rematch_requested", now=deps.clock())

    ended = await deps.db.run(end)
    outbox.kick(deps)
    return ended


def note_activity(session: Session, deps: Deps, team_id: str, event: dict, now: datetime) -> None:
    """Event applier: a message in a pair's group DM counts as activity. Only that it
    happened, and when: the text is never stored or logged."""
    if event.get("channel_type") != "mpim" or event.get("subtype") not in _PEOPLE_SUBTYPES:
        return
    user_id, channel_id = event.get("user"), event.get("channel")
    if not user_id or not channel_id or event.get("bot_id"):
        return
    pair = pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel_id)
    if pair is None or pair.status != "active":
        return
    settings = program.get_program_settings(session=session, team_id=team_id)
    rhythm.record_activity(session=session, pair=pair, at=now, settings=settings)


# Messages that people wrote (not edits, joins or the bot's own posts).
_PEOPLE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
