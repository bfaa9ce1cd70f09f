"""`scheduler.next_due`: the earliest moment a tick could decide or send anything. The demo
skips the hourly ticks before it, so its promise is checked here against every tick played
(`next_due` reads the state, not the clock, unless it answers "now": asking it just before
a tick is asking it after the last tick or action)."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import event

import handlers.devkit.demo.run as demo_run
from handlers.core.scheduler import next_due
from handlers.devkit.demo import run_demo

# Forgetting old event IDs is the one thing a tick does whatever is due.
HOUSEKEEPING = "DELETE FROM processed_event"


async def test_a_tick_before_the_next_due_moment_changes_nothing(tmp_path, monkeypatch):
    """Two weeks of the demo with every hourly tick played: each tick that came before the
    moment `next_due` gave just before it made no Slack call and changed no row; and most
    ticks were such."""
    writes: list[str] = []
    checked: list[datetime] = []

    def count_writes(_conn, cursor, statement, _params, _context, _many) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and cursor.rowcount != 0:
            if not statement.lstrip().startswith(HOUSEKEEPING):
                writes.append(statement)

    async def play_every_tick(demo, next_tick, finish):
        return next_tick

    real_tick = demo_run.settle_and_tick

    async def checked_tick(demo):
        deps, now = demo.bot.runtime.deps, demo.clock.now
        if not event.contains(deps.db.engine, "after_cursor_execute", count_writes):
            event.listen(deps.db.engine, "after_cursor_execute", count_writes)
        settled = all(task.done() for task in deps.background)
        due = await next_due(deps) if settled else now
        before = (len(demo.slack.calls), len(writes))
        await real_tick(demo)
        if due is None or now < due:
            assert (len(demo.slack.calls), len(writes)) == before, (
                f"the tick at {now} did something before {due}: {writes[before[1] :]}"
            )
            checked.append(now)

    monkeypatch.setattr(demo_run, "skip_idle_ticks", play_every_tick)
    monkeypatch.setattr(demo_run, "settle_and_tick", checked_tick)
    out = io.StringIO()
    code = await run_demo(weeks=2, seed=1, database=tmp_path / "demo.db", quiet=True, out=out)
    assert code == 0, out.getvalue()[-2000:]
    assert writes  # the counting saw the program's writes
    assert len(checked) > 300, len(checked)  # of its ~450 hourly ticks
