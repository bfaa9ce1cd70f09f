"""Two real `python app.py` processes on one database file (a rolling restart, or a second
copy started by mistake): every message due goes out once, whichever process sends it.

Both processes tick every second against the same SQLite file and the same fake Slack,
which answers each post slowly, so their drains overlap for seconds. The in-process lock
cannot help across processes: the outbox's claim (a conditional UPDATE with a lease) must.
"""

from __future__ import annotations

import asyncio

from tests.test_fault_kill import (
    PAIRS,
    _assert_clean,
    _outbox,
    _people,
    _posts,
    _seed_active_pairs,
    _seed_participants,
    _start,
    _until,
    world,  # noqa: F401  (fixture)
)

POST_DELAY = 0.1  # seconds the fake holds each chat.postMessage answer


async def test_two_processes_on_one_file_post_each_prompt_once(world):  # noqa: F811
    plan, slack, db_path = world
    now = plan.now()
    _seed_participants(f"sqlite:///{db_path}", plan.tz, now)
    _seed_active_pairs(db_path, slack, now)
    slack.delays["chat.postMessage"] = POST_DELAY
    first, second = await asyncio.gather(_start(slack, db_path, plan), _start(slack, db_path, plan))
    try:
        await _until(
            first, "every prompt sent", lambda: _outbox(db_path, "prompt") == ["sent"] * PAIRS
        )
        # Real processes on real time: a duplicate already in flight would land within this.
        await asyncio.sleep(2 * POST_DELAY)
        posted = _posts(slack, "conversation prompt")
        assert posted == {slack.conversation_id(j, leader): 1 for j, leader in _people()}
        assert len(slack.calls_to("chat.postMessage")) == PAIRS
        for app in (first, second):
            assert await app.stop() == 0
            _assert_clean(app)
    finally:
        await first.kill()
        await second.kill()
