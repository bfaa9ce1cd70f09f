"""Leaving forgets: nothing a person rated or answered stays linked to their user ID.

Run in the transaction that marks them left and ends their pairs (the profile feature's
leave use case, which also drops the messages decided for them alone). What stays is what
the program needs without them: their participant row (role, status, when they left) and
the pair rows (so nobody is paired with a past partner again), sessions without who logged
them, and their goal-progress answers under an opaque token, so the anonymous counts do not
change. Their pairs' learning agreements go: both wrote them, and they name both. So do
their answers about their own agreement items: an answer is stored with its pair, and the pair
row (which stays) names them, so no token could make it anonymous; and the items it was about
are gone with the agreement. Their partner's answers about the partner's own items stay.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.agreements import delete_agreements_of
from storage.models import FitAnswer, HeldSession, OutcomeAnswer, PulseResponse
from storage.outcomes import delete_item_answers_of


def forget_person(*, session: Session, team_id: str, user_id: str) -> None:
    session.execute(
        delete(PulseResponse).where(
            col(PulseResponse.team_id) == team_id, col(PulseResponse.user_id) == user_id
        )
    )
    session.execute(
        delete(FitAnswer).where(
            col(FitAnswer.team_id) == team_id, col(FitAnswer.user_id) == user_id
        )
    )
    session.execute(
        update(HeldSession)
        .where(col(HeldSession.team_id) == team_id, col(HeldSession.logged_by) == user_id)
        .values(logged_by="")  # the column is NOT NULL: empty means "someone who left"
    )
    anonymise_outcome_answers(session=session, team_id=team_id, user_id=user_id)
    # Stored with the pair, whose row names them: deleted, not anonymised (see above).
    delete_item_answers_of(session=session, team_id=team_id, user_id=user_id)
    # Written by both of a pair, about both: it goes with either of them.
    delete_agreements_of(session=session, team_id=team_id, user_id=user_id)


def anonymise_outcome_answers(*, session: Session, team_id: str, user_id: str) -> None:
    """Progress answers keep counting under a fresh random token each (so even someone's
    midpoint and end answers cannot be put together); the words of a shared change go."""
    for row in session.exec(
        select(OutcomeAnswer).where(
            OutcomeAnswer.team_id == team_id, OutcomeAnswer.user_id == user_id
        )
    ).all():
        if row.progress is None:
            session.delete(row)  # only a change, now gone: nothing left to count
            continue
        row.user_id = f"left:{secrets.token_hex(8)}"
        row.change = None
        session.add(row)
