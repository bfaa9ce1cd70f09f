"""Slack events applied from their durable record: each once, and none lost.

The events middleware records every event on arrival (storage/events.py), before the ack.
An event type with an applier (registered on Deps.event_appliers) is applied in the same
transaction that records it as done, so it applies once; the listener learns so from the
context (APPLIED). If applying fails, that transaction is undone and the event is recorded
pending with what the applier needs (never people's words): Slack's retry of that event
applies it, and so does the tick (`replay_pending`), which is what saves an event Slack will
not retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlmodel import Session

from handlers.core.deps import Deps
from storage import events

log = logging.getLogger(__name__)

# What is kept of an event until it is applied: who, where, which emoji. Never the text.
_KEPT = frozenset(
    {"type", "subtype", "user", "channel", "channel_type", "reaction", "item_user", "bot_id"}
)
_KEPT_ITEM = ("type", "channel", "ts")
REPLAY_AFTER = timedelta(seconds=30)  # leave the listener that is applying it now alone
GIVE_UP_ATTEMPTS = 10

Applier = Callable[[Session, Deps, str, dict, datetime], Any]


def register_applier(deps: Deps, event_type: str, applier: Applier) -> None:
    """An event type whose effect is a database change: applied once, retried until done."""
    deps.event_appliers[event_type] = applier


def kept_payload(event: dict, *, bot_user_id: str | None) -> dict:
    """What an applier may read of an event (the same when applied now or replayed later);
    `from_bot` says the bot itself is its user (say, the bot joining a channel)."""
    # Only text: what Slack sends there is text, and anything else (a number such as
    # Infinity, which PostgreSQL's json cannot hold) would only fail the record.
    kept = {key: value for key, value in event.items() if key in _KEPT and _text(value)}
    item = event.get("item")
    if isinstance(item, dict):
        kept["item"] = {key: item[key] for key in _KEPT_ITEM if _text(item.get(key))}
    kept["from_bot"] = bool(bot_user_id) and event.get("user") == bot_user_id
    return kept


def _text(value: object) -> bool:
    return isinstance(value, str)


# Set on the request's context by the middleware when it has dealt with the event's effect:
# True if this delivery applied it, False if not (applied before, or applying failed).
APPLIED = "event_applied"


async def apply_received(deps: Deps, *, body: dict, event: dict, context: Any) -> bool:
    """From a listener: apply the event Slack just delivered (see `apply`), unless the
    middleware already has, in the transaction that recorded it; True for the one delivery
    that applied it."""
    if APPLIED in context:
        return bool(context[APPLIED])
    kept = kept_payload(event, bot_user_id=context.bot_user_id)
    return await apply(deps, team_id=body["team_id"], event_id=body.get("event_id"), event=kept)


async def apply(deps: Deps, *, team_id: str, event_id: str | None, event: dict) -> bool:
    """Apply an event's effect once; False if it was applied already or failed (then it
    stays pending and is tried again)."""
    applier = deps.event_appliers.get(event.get("type") or "")
    if applier is None:
        return False

    def work(session: Session) -> bool:
        now = deps.clock()
        if event_id and not events.mark_applied(
            session=session, team_id=team_id, event_id=event_id, now=now
        ):
            return False
        applier(session, deps, team_id, event, now)
        return True

    try:
        return await deps.db.run(work)
    except Exception:
        log.warning("a %s event could not be applied yet", event.get("type"), exc_info=True)
        if event_id:
            await deps.db.run(lambda s: _count_failure(s, deps, team_id, event_id))
        return False


def _count_failure(session: Session, deps: Deps, team_id: str, event_id: str) -> None:
    if events.note_failure(session=session, team_id=team_id, event_id=event_id) >= GIVE_UP_ATTEMPTS:
        events.give_up(session=session, team_id=team_id, event_id=event_id, now=deps.clock())
        log.error("gave up on an event after %d failed attempts", GIVE_UP_ATTEMPTS)


async def replay_pending(deps: Deps) -> int:
    """Tick step: apply the events whose handler failed or never ran; returns how many."""
    before = deps.clock() - REPLAY_AFTER
    pending = await deps.db.run(lambda s: events.pending_events(session=s, received_before=before))
    applied = 0
    for record in pending:
        applied += await apply(
            deps, team_id=record.team_id, event_id=record.event_id, event=record.payload or {}
        )
    if pending:
        log.info("applied %d of %d events recorded earlier", applied, len(pending))
    return applied


def next_replay(session: Session, _deps: Deps, _now: datetime) -> datetime | None:
    """When `replay_pending` could next find an event to apply."""
    oldest = events.oldest_pending(session=session)
    return oldest + REPLAY_AFTER if oldest is not None else None


def register(app: AsyncApp, deps: Deps) -> None:
    """Record every event on arrival; skip a retried delivery of one already applied."""
    deps.tick_steps.append(replay_pending)
    deps.tick_due[replay_pending] = next_replay

    @app.middleware
    async def record_events(
        req: AsyncBoltRequest, body: dict, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        event_id, team_id = body.get("event_id"), body.get("team_id")
        if body.get("type") != "event_callback" or not event_id or not team_id:
            return await next()
        event = body.get("event") or {}
        event_type = event.get("type") if _text(event.get("type")) else None
        applier = deps.event_appliers.get(event_type or "")
        if applier is None:  # nothing to apply: recorded as done at once
            state = await deps.db.run(
                lambda s: _record(s, deps, team_id, event_id, event_type, None, done=True)
            )
            if state == "done":
                log.info("skipped a repeated delivery of an event")
                return BoltResponse(status=200, body="")
            return await next()
        payload = kept_payload(event, bot_user_id=req.context.bot_user_id)
        try:
            # One transaction records the event and applies it: half the writes of recording
            # it here and applying it in the listener, and still once (mark_applied).
            state = await deps.db.run(
                lambda s: _record_and_apply(
                    s, deps, applier, team_id, event_id, event_type, payload
                )
            )
        except Exception:
            log.warning("a %s event could not be applied yet", event_type, exc_info=True)
            # Recorded as pending with what it needs, so Slack's retry or the tick applies it.
            state = await deps.db.run(
                lambda s: _record_failed(s, deps, team_id, event_id, event_type, payload)
            )
        if state == "done":
            log.info("skipped a repeated delivery of an event")
            return BoltResponse(status=200, body="")
        req.context[APPLIED] = state == "applied"
        return await next()


def _record(
    session: Session,
    deps: Deps,
    team_id: str,
    event_id: str,
    event_type: str | None,
    payload: dict | None,
    *,
    done: bool,
) -> str:
    return events.record_event(
        session=session,
        team_id=team_id,
        event_id=event_id,
        event_type=event_type,
        payload=None if done else payload,
        now=deps.clock(),
        done=done,
    )


def _record_and_apply(
    session: Session,
    deps: Deps,
    applier: Applier,
    team_id: str,
    event_id: str,
    event_type: str | None,
    payload: dict,
) -> str:
    """ "applied" (by this delivery), or "done" (applied before): the record and the effect
    commit together, or neither does."""
    now = deps.clock()
    state = events.record_event(
        session=session,
        team_id=team_id,
        event_id=event_id,
        event_type=event_type,
        payload=None,
        now=now,
        done=True,
    )
    # New, or recorded before and never applied (its handler failed): this delivery applies it.
    if state == "new" or events.mark_applied(
        session=session, team_id=team_id, event_id=event_id, now=now
    ):
        applier(session, deps, team_id, payload, now)
        return "applied"
    return "done"


def _record_failed(
    session: Session,
    deps: Deps,
    team_id: str,
    event_id: str,
    event_type: str | None,
    payload: dict,
) -> str:
    state = _record(session, deps, team_id, event_id, event_type, payload, done=False)
    if state != "done":  # "new" or "pending": this attempt failed
        _count_failure(session, deps, team_id, event_id)
    return state
