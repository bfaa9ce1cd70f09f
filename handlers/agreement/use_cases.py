"""Learning agreements: opening the form, saving it, and the one reminder. One transaction
each; the messages decided here go through the outbox.

Only the pair's two people may open or save their agreement, and only while the pair is
live. Saving posts a confirmation in the pair's group DM, keyed per save
(`agreement_saved:{pair_id}:{number of the save}`). A pair that logs its second session
without an agreement is reminded once (`agreement_reminder:{pair_id}`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.agreement import Agreement, leader_prefill
from bot.introductions import shared_topics
from handlers.core.deps import Deps
from storage import agreements, pairs, participants, rhythm
from storage import outbox as rows
from storage.models import Pair, saved_id

SAVED = "agreement_saved"
REMINDER = "agreement_reminder"
REMIND_AFTER_SESSIONS = 2


def saved_key(pair_id: int, saves: int) -> str:
    """Numbered per save, zero-padded so a later save's key sorts after (its stale check)."""
    return f"agreement_saved:{pair_id}:{saves:06d}"


def reminder_key(pair_id: int) -> str:
    return f"agreement_reminder:{pair_id}"


@dataclass(frozen=True)
class Form:
    """What the form opens with."""

    pair_id: int
    leader_items: tuple[str, ...]
    junior_items: tuple[str, ...]
    saved: bool


def _member_pair(session: Session, *, team_id: str, user_id: str, pair_id: int) -> Pair | None:
    """The pair, if it is live and `user_id` is one of its two people."""
    pair = pairs.get_pair(session=session, team_id=team_id, pair_id=pair_id)
    if pair is None or pair.status not in pairs.LIVE:
        return None
    return pair if user_id in (pair.mentor_id, pair.mentee_id) else None


async def form_for(deps: Deps, *, team_id: str, user_id: str, pair_id: int) -> Form | None:
    """The form as `user_id` should see it; None if it is not theirs to open."""

    def load(session: Session) -> Form | None:
        pair = _member_pair(session, team_id=team_id, user_id=user_id, pair_id=pair_id)
        if pair is None:
            return None
        row = agreements.agreement_of(session=session, team_id=team_id, pair_id=saved_id(pair))
        if row is not None:
            return Form(saved_id(pair), tuple(row.leader_items), tuple(row.junior_items), True)
        mentor = participants.get_participant(
            session=session, team_id=team_id, user_id=pair.mentor_id
        )
        leader = participants.get_participant(
            session=session, team_id=team_id, user_id=pair.mentee_id
        )
        shared = shared_topics(mentor.topics if mentor else [], leader.topics if leader else [])
        prefill = leader_prefill(shared, leader.goals if leader else None)
        return Form(saved_id(pair), tuple(prefill), (), False)

    return await deps.db.read(load)


async def save(
    deps: Deps, *, team_id: str, user_id: str, pair_id: int, agreement: Agreement
) -> bool:
    """Store the pair's agreement and decide its confirmation; False (nothing changed) if it
    is not `user_id`'s to change."""

    def apply(session: Session) -> bool:
        now = deps.clock()
        pair = _member_pair(session, team_id=team_id, user_id=user_id, pair_id=pair_id)
        if pair is None:
            return False
        row = agreements.save_agreement(
            session=session,
            team_id=team_id,
            pair_id=saved_id(pair),
            leader_items=agreement.leader_items,
            junior_items=agreement.junior_items,
            updated_by=user_id,
            now=now,
        )
        rows.enqueue(
            session=session,
            team_id=team_id,
            key=saved_key(saved_id(pair), row.saves),
            kind=SAVED,
            pair_id=pair.id,
            payload={"user": user_id},
            now=now,
        )
        return True

    return await deps.db.run(apply)


def decide_reminder(session: Session, *, pair: Pair, now: datetime) -> bool:
    """After a session is logged: the pair's second session and still no agreement gets
    the one reminder. Runs in the transaction that logs the session."""
    if rhythm.sessions_held(session=session, pair_id=saved_id(pair)) < REMIND_AFTER_SESSIONS:
        return False
    if agreements.agreement_of(session=session, team_id=pair.team_id, pair_id=saved_id(pair)):
        return False
    return rows.enqueue(
        session=session,
        team_id=pair.team_id,
        key=reminder_key(saved_id(pair)),
        kind=REMINDER,
        pair_id=pair.id,
        now=now,
    )
