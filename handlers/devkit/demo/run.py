"""`run_demo`: set up the fake workspace, the app and the clock, play the program hour by hour,
then print the final admin summary and save its chart."""

from __future__ import annotations

import heapq
import random
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from sqlmodel import select

from handlers.core.scheduler import tick
from handlers.devkit.demo.behaviour import Demo
from handlers.devkit.demo.cast import (
    ADMIN,
    ADMIN_CHANNEL,
    LATE_JOINER,
    LEADER_GOALS,
    PROGRAM_START,
    SIGNUP_DAY,
    Person,
    at_work,
    make_people,
    weekday_after,
)
from handlers.devkit.demo.transcript import Transcript, blocks_to_text
from handlers.devkit.driver import (
    BOT_TOKEN,
    TEAM_ID,
    Clock,
    FakeTimer,
    make_settings,
    start_driver,
    stop_driver,
)
from handlers.devkit.fake_slack import FakeSlack
from storage.models import Pair


async def run_demo(
    *,
    weeks: int = 12,
    seed: int = 1,
    database: str | Path | None = None,
    quiet: bool = False,
    out: TextIO,
    chart: str | Path | None = None,
) -> int:
    """Play a `weeks`-long program; print the transcript (unless quiet), the final summary
    and where the chart went. Returns a process exit code."""
    if not 2 <= weeks <= 52:
        print("demo: --weeks must be between 2 and 52", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="reverse-mentor-demo-"))
    if database is None:
        database_path = workdir / "demo.db"
    else:
        database_path = Path(database)
        if database_path.exists() and database_path.stat().st_size > 0:
            print(f"demo: {database_path} already exists; give a new file", file=sys.stderr)
            shutil.rmtree(workdir, ignore_errors=True)
            return 2
    chart_path = Path(chart) if chart is not None else workdir / "program-summary.png"
    clock = Clock(now=SIGNUP_DAY)
    rng = random.Random(seed)
    end = PROGRAM_START + timedelta(days=7 * weeks - 3)  # the Friday of the last week
    try:
        async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock) as slack:
            slack.add_user(ADMIN, tz="Europe/London", real_name="Morgan Reyes", title="L&D lead")
            slack.add_channel(ADMIN_CHANNEL, name="mentoring-admins", is_private=True)
            settings = make_settings(
                slack, database_path, MENTOR_ADMINS=ADMIN, MENTOR_TICK_SECONDS="60"
            )
            driver = await start_driver(settings, slack, clock=clock, timer=FakeTimer())
            transcript = Transcript(slack, out, quiet=quiet, start=PROGRAM_START)
            try:
                demo = Demo(driver, clock, rng, transcript)
                await play(demo, weeks=weeks, end=end)
            finally:
                await stop_driver(driver)
            return report(slack, transcript, out, chart_path)
    finally:
        _clean_up(workdir, database_path if database is None else None)


def _clean_up(workdir: Path, database_path: Path | None) -> None:
    """Delete the temporary database (the chart stays) and the folder if nothing is left."""
    if database_path is not None:
        for suffix in ("", "-wal", "-shm"):
            database_path.with_name(database_path.name + suffix).unlink(missing_ok=True)
    if not any(workdir.iterdir()):
        workdir.rmdir()


async def play(demo: Demo, *, weeks: int, end: date) -> None:
    clock, rng = demo.clock, demo.rng
    await demo.configure(weeks, end)
    people = make_people(rng)
    for person in rng.sample(people, len(people)):
        clock.advance(minutes=rng.randint(3, 25))
        await demo.sign_up(person)

    clock.now = datetime.combine(PROGRAM_START, time(9), tzinfo=UTC)
    await demo.command(ADMIN, "admin match")
    pairs = sorted(
        demo.bot.runtime.deps.db.run_sync(
            lambda s: {frozenset((p.mentor_id, p.mentee_id)) for p in s.exec(select(Pair))}
        ),
        key=sorted,
    )
    moods = ["stalls", "revives", "flaky", "flaky", "flaky"]
    moods += ["engaged"] * max(0, len(pairs) - len(moods))
    rng.shuffle(moods)
    demo.mood.update(zip(pairs, moods, strict=False))
    await settle_and_tick(demo)

    # Someone from an engaged pair leaves part-way; a late joiner takes their partner on.
    engaged = [p for p in pairs if demo.mood[p] == "engaged"]
    leave_day = weekday_after(PROGRAM_START, max(3, round(weeks * 7 * 0.3)))
    if engaged:
        leaving_pair = rng.choice(engaged)
        leaver = next(u for u in sorted(leaving_pair) if demo.people[u].role == "leader")
        partner = next(u for u in leaving_pair if u != leaver)
        tz = demo.people[leaver].tz
        leave_at = at_work(datetime.combine(leave_day, time(0), tzinfo=UTC), tz, rng)
        demo.later(leave_at, lambda: demo.leave(leaver))

        async def late_signup() -> None:
            freed = demo.people[partner]
            answers = dict(freed.answers, role="leader", level="6", goals=LEADER_GOALS[0])
            answers["department"] = "Strategy"
            await demo.sign_up(Person("UL99", LATE_JOINER, freed.tz, "leader", answers))
            # The admin matches the pool again the next working day.
            match_at = at_work(clock.now + timedelta(hours=12), "Europe/London", rng)
            demo.later(match_at, lambda: demo.command(ADMIN, "admin match"))

        demo.later(
            at_work(leave_at + timedelta(hours=20), demo.people[partner].tz, rng), late_signup
        )

    next_tick = clock.now.replace(minute=0) + timedelta(hours=1)
    finish = datetime.combine(end, time(23), tzinfo=UTC)
    while next_tick <= finish:
        if demo.plan and demo.plan[0].when <= next_tick:
            planned = heapq.heappop(demo.plan)
            clock.now = max(clock.now, planned.when)
            await planned.action()
            demo.respond_to_new_messages()
            continue
        clock.now = next_tick
        await settle_and_tick(demo)
        next_tick += timedelta(hours=1)


async def settle_and_tick(demo: Demo) -> None:
    await tick(demo.bot.runtime.deps)
    await demo.bot.settle()
    demo.log.flush(demo.clock.now)
    demo.respond_to_new_messages()


def report(slack: FakeSlack, transcript: Transcript, out: TextIO, chart_path: Path) -> int:
    summaries = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("channel") == ADMIN_CHANNEL and "summary" in c.params.get("text", "")
    ]
    if not summaries:
        print("demo: no summary was posted", file=out)
        return 1
    last = summaries[-1].params
    print("\n" + "═" * 72, file=out)
    print(blocks_to_text(last.get("blocks") or [], transcript) or last["text"], file=out)
    print("═" * 72, file=out)
    charts = [
        c
        for c in slack.calls_to("files.completeUploadExternal")
        if c.params.get("channel_id") == ADMIN_CHANNEL
    ]
    content = None
    if charts:
        file_id = (charts[-1].params.get("files") or [{}])[0].get("id")
        content = slack.files.get(file_id, {}).get("content")
    if content:
        chart_path.parent.mkdir(parents=True, exist_ok=True)
        chart_path.write_bytes(content)
        print(f"Chart: {chart_path}", file=out)
    else:
        print("demo: the summary's chart was not shared", file=out)
        return 1
    counts = transcript.counts
    print(
        f"Slack calls the bot made: {sum(counts.values())} "
        f"({counts.get('chat.postMessage', 0)} messages, "
        f"{counts.get('reactions.add', 0)} reactions, {counts.get('views.open', 0)} forms)",
        file=out,
    )
    return 0
