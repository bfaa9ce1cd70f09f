"""Signup and profile: what a person does to their own participation, one transaction each.

Signing up (or editing), pausing and resuming (with their pairs' rhythm), stepping back
from a pair, and leaving, which forgets what they rated or answered. (The roster import,
for admins who pick a cohort up front, is in roster.py.)"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import Session

from bot.profiles import Profile, Status
from handlers.cohorts.use_cases import place_new_member
from handlers.core.deps import Deps
from handlers.pairing import use_cases as pairing
from storage import forgetting, outbox, pairs, participants, program, rhythm
from storage.models import Pair, Participant


async def profile_of(deps: Deps, *, team_id: str, user_id: str) -> Participant | None:
    return await deps.db.read(
        lambda s: participants.get_participant(session=s, team_id=team_id, user_id=user_id)
    )


async def save_signup(
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    profile: Profile,
    timezone: str | None,
    title: str | None,
) -> tuple[Participant, bool]:
    """Create or edit someone's profile (someone who left and signs up again is back, in
    the cohort open for signups); returns (participant, created)."""

    def save(session: Session) -> tuple[Participant, bool]:
        now = deps.clock()
        before = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
        rejoined = before is not None and before.status == Status.LEFT
        person, created = participants.save_profile(
            session=session,
            team_id=team_id,
            user_id=user_id,
            profile=profile,
            timezone=timezone,
            title=title,
            now=now,
        )
        place_new_member(session, person=person, rejoined=rejoined, now=now)
        return person, created

    return await deps.db.run(save)


async def live_pairs_of(deps: Deps, *, team_id: str, user_id: str) -> list[Pair]:
    return await deps.db.read(
        lambda s: pairs.live_pairs_of(session=s, team_id=team_id, user_id=user_id)
    )


async def set_paused(
    deps: Deps, *, team_id: str, user_id: str, paused: bool, release_pairs: bool = False
) -> Participant | None:
    """Pause or resume someone, and with them the rhythm of their pairs; `release_pairs`
    (stepping back for good) ends their pairs first, so their partners are matched anew."""

    def change(session: Session) -> Participant | None:
        now = deps.clock()
        if release_pairs:
            pairing.end_pairs_of(
                session, team_id=team_id, user_id=user_id, reason="participant_paused", now=now
            )
        return _set_participation(session, team_id=team_id, user_id=user_id, paused=paused, now=now)

    return await deps.db.run(change)


def _set_participation(
    session: Session, *, team_id: str, user_id: str, paused: bool, now: datetime
) -> Participant | None:
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


async def leave(deps: Deps, *, team_id: str, user_id: str) -> None:
    """One transaction: their pairs end (partners back to the pool), their profile details
    go, and nothing they rated or answered stays linked to them; what was decided for them
    alone (a fit question, an outcome question) is never sent."""

    def leave_and_forget(session: Session) -> None:
        now = deps.clock()
        pairing.end_pairs_of(
            session, team_id=team_id, user_id=user_id, reason="participant_left", now=now
        )
        participants.leave_program(session=session, team_id=team_id, user_id=user_id, now=now)
        forgetting.forget_person(session=session, team_id=team_id, user_id=user_id)
        outbox.skip_pending_for_user(session=session, team_id=team_id, user_id=user_id)

    await deps.db.run(leave_and_forget)


async def participant_counts(deps: Deps, *, team_id: str) -> Counter[tuple[str, str]]:
    return await deps.db.read(lambda s: participants.count_participants(session=s, team_id=team_id))
