"""The scheduler's tick: every MENTOR_TICK_SECONDS it asks the database what is due and does it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from handlers.core import outbox
from handlers.core.deps import Deps
from storage import events
from storage import outbox as outbox_rows

log = logging.getLogger(__name__)

# Slack retries an event for about an hour at most; keep IDs well past that.
EVENT_ID_RETENTION = timedelta(days=2)
DECISIONS_LOCK = "reverse-mentor:tick-decisions"


async def tick(deps: Deps) -> None:
    with deps.working():  # a shutdown lets a tick in flight finish
        await _decide(deps)
        await outbox.deliver_due(deps)  # every instance sends: claims share the rows out


async def _decide(deps: Deps) -> None:
    """The features' decisions (prompts, pulses, summaries, ...), made by one instance at a
    time: the decisions' unique keys already make them happen once, and the lock spares the
    other instances the work."""
    lock = await deps.db.try_lock_async(DECISIONS_LOCK)
    if lock is None:
        log.debug("another instance is making this tick's decisions")
        return
    try:
        now = deps.clock()
        purged = await deps.db.run(
            lambda s: events.purge_events(session=s, older_than=now - EVENT_ID_RETENTION)
        )
        if purged:
            log.info("forgot %d processed event IDs", purged)
        for step in deps.tick_steps:
            try:
                await step(deps)
            except Exception:
                # One feature's fault must not stop the others or the sending after them.
                log.exception("tick step %s failed", getattr(step, "__qualname__", step))
    finally:
        await lock.release_async()


async def next_due(deps: Deps) -> datetime | None:
    """The earliest moment a tick could decide or send anything, as the database stands now
    (None: nothing waits). Until then ticks do nothing but housekeeping (forgetting old event
    IDs), unless something else happens first (an event, a command, a new message). A step
    without a probe (Deps.tick_due) makes it `now`."""
    now = deps.clock()
    probes = [deps.tick_due.get(step) for step in deps.tick_steps]
    if any(probe is None for probe in probes):
        return now

    def read(session: Session) -> datetime | None:
        moments = [outbox_rows.next_due(session=session, now=now)]
        moments += [probe(session, deps, now) for probe in probes if probe is not None]
        return min((moment for moment in moments if moment is not None), default=None)

    return await deps.db.read(read)


def build_scheduler(deps: Deps) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=deps.settings.tick_seconds),
        args=[deps],
        id="tick",
        # After downtime run once to catch up, not once per missed tick.
        coalesce=True,
        misfire_grace_time=None,
        max_instances=1,
        replace_existing=True,
    )
    return scheduler
