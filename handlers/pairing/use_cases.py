"""Pairing: who is paired with whom, one transaction per decision.

The optimal assignment for everyone waiting (computed off the event loop), committing it
(each new pair's introduction decided with it), ending a pair (and its goodbye), and what a
person's pairs look like to them."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

from sqlmodel import Session

from bot.cohort import CohortStatus
from bot.matching import MatchResult, MatchRules, ProposedPair, match
from bot.pool import Person, build_pool
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.guides.use_cases import decide_guides
from storage import cohorts, pairs, participants
from storage import outbox as rows
from storage.models import Pair, Participant

INTRO = "intro"
ENDED = "pair_ended"


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


def matched_cohort(session: Session, *, team_id: str) -> int | None:
    """The cohort a match fills: the one open for signups, else the newest running one;
    None while the workspace has no cohort yet (its first is made with the first pairs)."""
    found = cohorts.signup_cohort(session=session, team_id=team_id)
    if found is None:
        running = cohorts.running_cohorts(session=session, team_id=team_id)
        found = running[-1] if running else None
    return found.id if found is not None else None


async def running_cohort_named(deps: Deps, *, team_id: str, name: str) -> int | None:
    def find(session: Session) -> int | None:
        found = cohorts.cohort_named(session=session, team_id=team_id, name=name)
        return found.id if found is not None and found.status == CohortStatus.RUNNING else None

    return await deps.db.read(find)


async def propose(deps: Deps, *, team_id: str, cohort_id: int | None = None) -> MatchResult:
    """The optimal assignment for everyone waiting now in a cohort's pool (`cohort_id`, else
    the cohort a match fills); people waiting for a cohort are in every pool. Pure
    computation runs off the loop. Nobody is paired with a past partner from any cohort."""

    def load(
        session: Session,
    ) -> tuple[list[Person], list[tuple[str, str]], set[frozenset[str]]]:
        target = cohort_id or matched_cohort(session, team_id=team_id)
        people = [
            _person(p)
            for p in participants.all_participants(session=session, team_id=team_id)
            if p.cohort_id is None or p.cohort_id == target
        ]
        live = [
            (p.mentor_id, p.mentee_id) for p in pairs.live_pairs(session=session, team_id=team_id)
        ]
        return people, live, pairs.past_pairs(session=session, team_id=team_id)

    people, live, past = await deps.db.read(load)
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
    session: Session, *, team_id: str, proposals: list[ProposedPair], now: datetime
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
        pair = new_pair(session, team_id=team_id, proposal=proposal, now=now)
        created.append(pair)
        mentoring[proposal.mentor_id] += 1
        mentored.add(proposal.mentee_id)
    return created


def new_pair(session: Session, *, team_id: str, proposal: ProposedPair, now: datetime) -> Pair:
    """Store a proposed pair in its cohort and, with it, the decisions to introduce it
    (never left unannounced) and to send each of the two their preparation guide. Someone
    waiting for a cohort joins the pair's."""
    people = [
        participants.get_participant(session=session, team_id=team_id, user_id=user)
        for user in (proposal.mentor_id, proposal.mentee_id)
    ]
    cohort_id = next((p.cohort_id for p in people if p is not None and p.cohort_id), None)
    if cohort_id is None:
        cohort_id = matched_cohort(session, team_id=team_id)
    if cohort_id is None:
        cohort_id = cohorts.first_cohort(session=session, team_id=team_id, now=now).id
    for person in people:
        if person is not None and person.cohort_id is None:
            cohorts.join(session=session, person=person, cohort_id=cohort_id, now=now)
    pair = pairs.create_pair(
        session=session,
        team_id=team_id,
        mentor_id=proposal.mentor_id,
        mentee_id=proposal.mentee_id,
        score=proposal.score,
        explanation=proposal.explanation,
        cohort_id=cohort_id,
        now=now,
    )
    rows.enqueue(
        session=session,
        team_id=team_id,
        key=f"intro:{pair.id}",
        kind=INTRO,
        pair_id=pair.id,
        now=now,
    )
    decide_guides(session, pair=pair, now=now)
    return pair


def end_pair(session: Session, *, pair: Pair, reason: str, now: datetime) -> bool:
    """End a live pair and, if it was ever introduced, decide to tell both people; False if
    it had already ended. Both go back to the pool (unless they left)."""
    introduced = pair.dm_channel_id is not None
    if not pairs.end_pair(session=session, pair=pair, reason=reason, now=now):
        return False
    if introduced:
        rows.enqueue(
            session=session,
            team_id=pair.team_id,
            key=f"ended:{pair.id}",
            kind=ENDED,
            pair_id=pair.id,
            payload={"reason": reason},
            now=now,
        )
    return True


def end_pairs_of(
    session: Session, *, team_id: str, user_id: str, reason: str, now: datetime
) -> list[Pair]:
    """End every live pair someone is in; their partners go back to the pool."""
    ended: list[Pair] = []
    for pair in pairs.live_pairs_of(session=session, team_id=team_id, user_id=user_id):
        if end_pair(session, pair=pair, reason=reason, now=now):
            ended.append(pair)
    return ended


async def commit(deps: Deps, *, team_id: str, proposals: list[ProposedPair]) -> list[Pair]:
    """The admin's `match`: store the proposals still valid and introduce each new pair."""
    now = deps.clock()
    created = await deps.db.run(
        lambda s: commit_pairs(s, team_id=team_id, proposals=proposals, now=now)
    )
    outbox.kick(deps)
    return created


async def unpair(deps: Deps, *, team_id: str, first: str, second: str) -> bool:
    """An admin ends the pair of these two; False if they are not paired."""

    def end(session: Session) -> bool:
        pair = pairs.live_pair_between(session=session, team_id=team_id, a=first, b=second)
        if pair is None:
            return False
        return end_pair(session, pair=pair, reason="admin_unpaired", now=deps.clock())

    ended = await deps.db.run(end)
    if ended:
        outbox.kick(deps)
    return ended


async def request_rematch(deps: Deps, *, team_id: str, user_id: str, channel: str) -> bool:
    """One of the two asks for a different match from their group DM: the pair ends, the
    admins hear (not who asked); False if this is no longer a live pair of theirs."""

    def end(session: Session) -> bool:
        pair = pair_in_channel(session, team_id=team_id, user_id=user_id, channel=channel)
        if pair is None:
            return False
        now = deps.clock()
        end_pair(session, pair=pair, reason="rematch_requested", now=now)
        outbox.alert_admins(
            session,
            deps,
            team_id=team_id,
            key=f"rematch:{pair.id}",
            text=f"The pair of <@{pair.mentor_id}> and <@{pair.mentee_id}> asked for a "
            "different match. Both are back in the pool for the next `/mentor admin match`.",
            now=now,
        )
        return True

    ended = await deps.db.run(end)
    if ended:
        outbox.kick(deps)
    return ended


def pair_in_channel(
    session: Session, *, team_id: str, user_id: str, channel: str | None
) -> Pair | None:
    """The live pair whose group DM this is, if `user_id` belongs to it."""
    if channel is None:
        return None
    pair = pairs.pair_in_channel(session=session, team_id=team_id, channel_id=channel)
    return pair if pair is not None and user_id in (pair.mentor_id, pair.mentee_id) else None


PairView = tuple[Participant | None, list[Pair], dict[str, Participant]]


def pair_view(session: Session, *, team_id: str, user_id: str) -> PairView:
    """Someone's profile, live pairs and their partners' profiles, for status and Home."""
    live = pairs.live_pairs_of(session=session, team_id=team_id, user_id=user_id)
    partner_ids = {
        other for pair in live for other in (pair.mentor_id, pair.mentee_id) if other != user_id
    }
    # Everyone in one statement: status is the command people type most.
    people = participants.participants_by_id(
        session=session, team_id=team_id, user_ids=partner_ids | {user_id}
    )
    partners = {other: people[other] for other in partner_ids if other in people}
    return people.get(user_id), live, partners


async def view_of(deps: Deps, *, team_id: str, user_id: str) -> PairView:
    """(participant, live pairs, partners' profiles) of someone, for status and Home."""
    return await deps.db.read(lambda s: pair_view(s, team_id=team_id, user_id=user_id))
