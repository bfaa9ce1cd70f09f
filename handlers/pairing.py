"""Matching as the listeners use it: load the pool, ask bot/ for the best pairs, commit them."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlmodel import Session

from bot.introductions import shared_topics
from bot.matching import MatchResult, MatchRules, ProposedPair, match
from bot.pool import Person, build_pool
from bot.profiles import Status
from bot.prompts import choose_prompt
from handlers.deps import Deps
from storage import pairs, participants, program, rhythm
from storage.models import Pair, Participant


def _person(p: Participant) -> Person:
    return Person(
        user_id=p.user_id,
        role=p.role,
        status=p.status,
        level=p.level,
        department=p.department,
        manager_id=p.manager_id,
        topics=tuple(p.topics),
        goals=p.goals,
        capacity=p.capacity,
        timezone=p.timezone,
    )


async def propose(deps: Deps, *, team_id: str) -> MatchResult:
    """The optimal assignment for everyone waiting now. Pure computation runs off the loop."""

    def load(session: Session):
        people = [
            _person(p) for p in participants.all_participants(session=session, team_id=team_id)
        ]
        live = [
            (p.mentor_id, p.mentee_id) for p in pairs.live_pairs(session=session, team_id=team_id)
        ]
        return people, live, pairs.past_pairs(session=session, team_id=team_id)

    people, live, past = await deps.db.run(load)
    now = deps.clock()
    settings = deps.settings
    rules = MatchRules(
        min_level_gap=settings.min_level_gap,
        ideal_level_gap=settings.ideal_level_gap,
        min_shared_hours=settings.min_shared_hours,
    )

    def solve() -> MatchResult:
        pool = build_pool(people, live, now)
        return match(
            pool.juniors, pool.leaders, past_pairs=past, rules=rules, managers=pool.managers
        )

    return await asyncio.to_thread(solve)


def commit_pairs(
    session: Session, *, team_id: str, proposals: list[ProposedPair], now
) -> list[Pair]:
    """Store proposals that are still valid. Re-checked inside the write transaction, so two
    admins matching at once (or one matching twice) never pair anyone twice."""
    live = pairs.live_pairs(session=session, team_id=team_id)
    past = pairs.past_pairs(session=session, team_id=team_id)
    mentoring = Counter(p.mentor_id for p in live)
    mentored = {p.mentee_id for p in live}
    created: list[Pair] = []
    for proposal in proposals:
        mentor = participants.get_participant(
            session=session, team_id=team_id, user_id=proposal.mentor_id
        )
        mentee = participants.get_participant(
            session=session, team_id=team_id, user_id=proposal.mentee_id
        )
        if mentor is None or mentee is None or {mentor.status, mentee.status} != {"active"}:
            continue
        if proposal.mentee_id in mentored or mentoring[proposal.mentor_id] >= mentor.capacity:
            continue
        if frozenset((proposal.mentor_id, proposal.mentee_id)) in past:
            continue
        created.append(
            pairs.create_pair(
                session=session,
                team_id=team_id,
                mentor_id=proposal.mentor_id,
                mentee_id=proposal.mentee_id,
                score=proposal.score,
                explanation=proposal.explanation,
                now=now,
            )
        )
        mentoring[proposal.mentor_id] += 1
        mentored.add(proposal.mentee_id)
    return created


def end_pairs_of(session: Session, *, team_id: str, user_id: str, reason: str, now) -> list[Pair]:
    """End every live pair someone is in; their partners go back to the pool."""
    ended = []
    for pair in pairs.live_pairs_of(session=session, team_id=team_id, user_id=user_id):
        if pairs.end_pair(session=session, pair=pair, reason=reason, now=now):
            ended.append(pair)
    return ended


def pair_view(session: Session, *, team_id: str, user_id: str):
    """Someone's profile, live pairs and their partners' profiles, for status and Home."""
    me = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
    live = pairs.live_pairs_of(session=session, team_id=team_id, user_id=user_id)
    partners = {
        other: participants.get_participant(session=session, team_id=team_id, user_id=other)
        for pair in live
        for other in (pair.mentor_id, pair.mentee_id)
        if other != user_id
    }
    return me, live, {k: v for k, v in partners.items() if v is not None}


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


def log_met(session: Session, *, pair: Pair, user_id: str, day, now) -> bool:
    settings = program.get_program_settings(session=session, team_id=pair.team_id)
    return rhythm.log_session(
        session=session, pair=pair, held_on=day, logged_by=user_id, settings=settings, now=now
    )


def prompt_for(session: Session, deps, *, team_id: str, user_id: str, now):
    """A prompt for someone's pair (remembered, so the pair won't get it again soon), or from
    their own topics when they have no pair."""
    pair, _ = active_pair_for(session, team_id=team_id, user_id=user_id)
    me = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
    if pair is None:
        return choose_prompt(deps.prompts, topics=me.topics if me else [], history=[])
    mentor = participants.get_participant(session=session, team_id=team_id, user_id=pair.mentor_id)
    mentee = participants.get_participant(session=session, team_id=team_id, user_id=pair.mentee_id)
    prompt = choose_prompt(
        deps.prompts,
        topics=shared_topics(mentor.topics if mentor else [], mentee.topics if mentee else []),
        history=rhythm.prompt_history(session=session, pair_id=pair.id),
        salt=pair.id or 0,
    )
    if prompt is not None:
        rhythm.remember_prompt(session=session, pair=pair, prompt_id=prompt.id, now=now)
    return prompt


def set_participation(session: Session, *, team_id: str, user_id: str, paused: bool, now):
    """Pause or resume someone, and with them the rhythm of their pairs."""
    me = participants.set_status(
        session=session,
        team_id=team_id,
        user_id=user_id,
        status=Status.PAUSED if paused else Status.ACTIVE,
        now=now,
    )
    if me is None or me.status == Status.LEFT:
        return me
    settings = program.get_program_settings(session=session, team_id=team_id)
    for pair in pairs.live_pairs_of(session=session, team_id=team_id, user_id=user_id):
        if paused:
            rhythm.pause_pair(session=session, pair=pair, reason="participant", now=now)
            continue
        partner_id = pair.mentee_id if pair.mentor_id == user_id else pair.mentor_id
        partner = participants.get_participant(session=session, team_id=team_id, user_id=partner_id)
        if pair.paused_reason == "participant" and partner and partner.status == Status.ACTIVE:
            rhythm.resume_pair(session=session, pair=pair, settings=settings, now=now)
    return me


def note_activity(session: Session, *, team_id: str, channel_id: str, user_id: str, at) -> bool:
    """A message in a pair's group DM counts as activity (only its time is kept)."""
    pair = pairs.pair_in_channel(session=session, team_id=team_id, channel_id=channel_id)
    if pair is None or pair.status != "active" or user_id not in (pair.mentor_id, pair.mentee_id):
        return False
    settings = program.get_program_settings(session=session, team_id=team_id)
    rhythm.record_activity(session=session, pair=pair, at=at, settings=settings)
    return True
