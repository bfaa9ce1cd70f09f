"""The rhythm's messages: the prompt before a session, the check-in after it, the nudge for
a quiet pair, the new date, and the fit question after the first session. Each says when it
is no longer worth sending: a prompt for a session whose day is over, a check-in for a session
logged or replaced by a later one, a nudge for a pair active since."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from slack_sdk.models.blocks import Block
from sqlmodel import Session

from bot import cadence
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.rhythm import blocks
from storage import outbox as rows
from storage import pairs, program, rhythm
from storage.models import OutboxMessage, Pair

Drafter = Callable[[Deps, OutboxMessage], Awaitable[outbox.Draft | None]]
Stale = Callable[[Session, OutboxMessage, datetime], str | None]


async def _in_pair_dm(
    deps: Deps, message: OutboxMessage, render: Callable[[Pair], tuple[str, list[Block]]]
) -> outbox.Draft | None:
    """A draft for the pair's group DM, while the pair is introduced and active: a paused or
    ended pair gets nothing."""
    pair = await outbox.checked_pair(deps, message)
    if pair is None or pair.dm_channel_id is None or pair.status != "active":
        return None
    text, content = render(pair)
    return outbox.Draft(channel=pair.dm_channel_id, text=text, blocks=content)


async def draft_prompt(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    def render(pair: Pair) -> tuple[str, list[Block]]:
        prompt = next((p for p in deps.prompts if p.id == message.payload["prompt"]), None)
        if prompt is None:  # removed from the library since: any other will do
            prompt = deps.prompts[(pair.id or 0) % len(deps.prompts)]
        day = date.fromisoformat(message.payload["session"])
        return blocks.prompt_blocks(prompt, session_day=day)

    return await _in_pair_dm(deps, message, render)


async def draft_checkin(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    day = date.fromisoformat(message.payload["session"])
    return await _in_pair_dm(deps, message, lambda p: blocks.checkin_blocks(p, session_day=day))


async def draft_nudge(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    days = message.payload["days"]
    return await _in_pair_dm(deps, message, lambda p: blocks.nudge_blocks(p, days=days))


async def draft_session_set(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    day = date.fromisoformat(message.payload["date"])
    return await _in_pair_dm(deps, message, lambda _: blocks.session_set_blocks(day))


async def draft_fit_survey(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    pair = await outbox.checked_pair(deps, message)
    if pair is None or pair.status == "ended":
        return None
    user_id = message.payload["user"]
    text, content = blocks.fit_survey_blocks(pair, user_id=user_id)
    channel = await outbox.open_if_person(deps, user_id, team_id=message.team_id)
    return outbox.Draft(channel=channel, text=text, blocks=content)


# --- too late to send -------------------------------------------------------------------------


def _pair_of(session: Session, message: OutboxMessage) -> Pair | None:
    return pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id or 0)


def prompt_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    pair = _pair_of(session, message)
    if pair is None:
        return None  # moot, not stale: the draft skips it
    day = date.fromisoformat(message.payload["session"])
    if pair.next_session_on != day:
        return "its session was moved"
    settings = program.get_program_settings(
        session=session, team_id=pair.team_id, cohort_id=pair.cohort_id
    )
    leader_tz = rhythm.leader_timezone(session=session, pair=pair)
    if now >= cadence.session_over(day, leader_tz, settings):
        return "its session has passed"  # on the day itself it still helps
    return None


def checkin_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    pair = _pair_of(session, message)
    if pair is None:
        return None
    day = date.fromisoformat(message.payload["session"])
    if rhythm.session_logged_since(session=session, pair_id=pair.id or 0, day=day):
        return "the session was logged"
    if rows.has_later_key(
        session=session, team_id=message.team_id, key=message.key, prefix=f"checkin:{pair.id}:"
    ):
        return "a later check-in replaces it"
    return None


def checkin_prefetch(session: Session, messages: list[OutboxMessage]) -> None:
    """What `checkin_stale` asks about a batch of check-ins, read in two statements."""
    days = {(m.pair_id or 0, date.fromisoformat(m.payload["session"])) for m in messages}
    rhythm.remember_sessions_logged(session=session, pair_days=days)
    later: dict[str, set[tuple[str, str]]] = {}
    for m in messages:
        later.setdefault(m.team_id, set()).add((m.key, f"checkin:{m.pair_id}:"))
    for team_id, keys in later.items():
        rows.remember_later_keys(session=session, team_id=team_id, keys=keys)


def nudge_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    pair = _pair_of(session, message)
    if pair is not None and pair.last_activity_at and pair.last_activity_at > message.created_at:
        return "the pair has been active since"
    return None


def session_set_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    pair = _pair_of(session, message)
    if pair is not None and pair.next_session_on != date.fromisoformat(message.payload["date"]):
        return "the date has changed again"
    return None


# --- when Slack will not take it ----------------------------------------------------------------


def pause_unreachable_pair(failure: outbox.Failure) -> bool:
    """Slack will not take messages for this pair (a channel or account is gone): stop its
    rhythm rather than retry forever, and let the admins decide. A message Slack can never
    take as written is not the pair's fault: left to the outbox to report."""
    if failure.content:
        return False
    session, message, error, now = failure.session, failure.message, failure.error, failure.now
    pair = _pair_of(session, message)
    if pair is not None and pair.status == "active":
        rhythm.pause_pair(session=session, pair=pair, reason="delivery_failed", now=now)
        outbox.alert_admins(
            session,
            failure.deps,
            team_id=message.team_id,
            key=f"delivery_failed:{pair.id}",
            text=(
                f"I couldn't reach the pair of <@{pair.mentor_id}> and <@{pair.mentee_id}> "
                f"(Slack said `{error}`), so I've paused their reminders. "
                f"`/mentor admin unpair <@{pair.mentor_id}> <@{pair.mentee_id}>` "
                "returns both to the pool."
            ),
            now=now,
        )
    return True


def _to_pair(
    draft: Drafter,
    stale: Stale,
    valid_for: timedelta | None = None,
    prefetch: Callable[[Session, list[OutboxMessage]], None] | None = None,
) -> outbox.Kind:
    """A message in the pair's group DM: in both people's working hours (else the leader's);
    a pair Slack cannot reach is paused."""
    return outbox.Kind(
        draft=draft,
        stale=stale,
        valid_for=valid_for,
        to_pair=True,
        on_failed=pause_unreachable_pair,
        prefetch=prefetch,
    )


KINDS: dict[str, outbox.Kind] = {
    "prompt": _to_pair(draft_prompt, prompt_stale),  # stale once its session's day is over
    "checkin": _to_pair(draft_checkin, checkin_stale, timedelta(days=14), checkin_prefetch),
    "nudge": _to_pair(draft_nudge, nudge_stale, timedelta(days=7)),
    "session_set": _to_pair(draft_session_set, session_set_stale, timedelta(days=7)),
    "fit_survey": outbox.Kind(
        draft=draft_fit_survey,
        valid_for=timedelta(days=14),
        recipient=outbox.to_person("user"),
        on_failed=pause_unreachable_pair,
    ),
}
