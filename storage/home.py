"""What the App Home tab reads: each pair's latest prompt, and head counts for admins."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import HeldSession, Pair, Participant, PromptSent
from storage.pairs import LIVE


def latest_prompts(*, session: Session, pair_ids: list[int]) -> dict[int, str]:
    """The id of the last library prompt each pair received (pairs without one are left out)."""
    if not pair_ids:
        return {}
    rows = session.exec(
        select(PromptSent.pair_id, PromptSent.prompt_id)
        .where(col(PromptSent.pair_id).in_(pair_ids))
        .order_by(col(PromptSent.sent_at), col(PromptSent.id))
    ).all()
    return {pair_id: prompt_id for pair_id, prompt_id in rows}  # later rows win


def program_counts(*, session: Session, team_id: str) -> dict[str, int]:
    """A few head counts for admins: people waiting for a pair, active pairs, sessions held."""
    live = session.exec(
        select(Pair.mentor_id, Pair.mentee_id).where(
            Pair.team_id == team_id, col(Pair.status).in_(LIVE)
        )
    ).all()
    paired = {user for row in live for user in row}
    active = session.exec(
        select(Participant.user_id).where(
            Participant.team_id == team_id, Participant.status == "active"
        )
    ).all()
    active_pairs = session.exec(
        select(func.count())
        .select_from(Pair)
        .where(Pair.team_id == team_id, Pair.status == "active")
    ).one()
    held = session.exec(
        select(func.count())
        .select_from(HeldSession)
        .join(Pair, col(Pair.id) == col(HeldSession.pair_id))
        .where(Pair.team_id == team_id)
    ).one()
    return {
        "waiting": sum(1 for user in active if user not in paired),
        "active_pairs": int(active_pairs),
        "sessions_held": int(held),
    }
