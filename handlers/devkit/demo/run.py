"""`run_demo`: set up the fake workspace, the app and the clock, play a pilot and an expanded
cohort hour by hour, then print the final admin summary and the expansion's impact report, and
save the summary's chart and the report's chart and page beside it."""

from __future__ import annotations

import heapq
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import TextIO, TypeVar

from sqlmodel import Session, select

from handlers.core.scheduler import next_due, tick
from handlers.devkit.demo.behaviour import Demo
from handlers.devkit.demo.cast import (
    ADMIN,
    ADMIN_CHANNEL,
    EXPANSION,
    LATE_JOINER,
    LEADER_GOALS,
    PILOT,
    PILOT_SIZE,
    PROGRAM_START,
    SIGNUP_DAY,
    Calendar,
    Person,
    at_work,
    make_people,
    own_rhythm,
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
from handlers.devkit.fake_slack import Call, FakeSlack
from handlers.reports.impact import AFTER_THE_END as REPORT_DELAY
from storage.db import Database
from storage.models import Pair

T = TypeVar("T")


async def run_demo(
    *,
    weeks: int = 12,
    seed: int = 1,
    database: str | Path | None = None,
    quiet: bool = False,
    out: TextIO,
    chart: str | Path | None = None,
) -> int:
    """Play two cohorts, `weeks` long together; print the transcript (unless quiet), the final
    summary, the impact report and where their files went. Returns a process exit code."""
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
    try:
        async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock) as slack:
            slack.add_user(ADMIN, tz="Europe/London", real_name="Morgan Reyes", title="L&D lead")
            slack.add_channel(ADMIN_CHANNEL, name="mentoring-admins", is_private=True)
            settings = make_settings(
                slack, database_path, MENTOR_ADMINS=ADMIN, MENTOR_TICK_SECONDS="60"
            )
            driver = await start_driver(settings, slack, clock=clock, timer=FakeTimer())
            _run_transactions_inline(driver.runtime.deps.db)
            transcript = Transcript(slack, out, quiet=quiet, start=PROGRAM_START)
            try:
                demo = Demo(driver, clock, rng, transcript)
                await play(demo, weeks=weeks)
            finally:
                await stop_driver(driver)
            return report(slack, transcript, out, chart_path)
    finally:
        _clean_up(workdir, database_path if database is None else None)


def _run_transactions_inline(db: Database) -> None:
    """The demo's database is its own, and one simulated person acts at a time: its
    transactions (a few milliseconds each, thousands of ticks' worth) run on the event
    loop instead of each hopping to a worker thread and back. The bot's code is the same."""

    async def run_inline(work: Callable[[Session], T]) -> T:
        return db.run_sync(work)

    async def read_inline(work: Callable[[Session], T]) -> T:
        return db.read_sync(work)

    db.run = run_inline  # type: ignore[method-assign]
    db.read = read_inline  # type: ignore[method-assign]


def _clean_up(workdir: Path, database_path: Path | None) -> None:
    """Delete the temporary database (the chart stays) and the folder if nothing is left."""
    if database_path is not None:
        for suffix in ("", "-wal", "-shm"):
            database_path.with_name(database_path.name + suffix).unlink(missing_ok=True)
    if not any(workdir.iterdir()):
        workdir.rmdir()


async def play(demo: Demo, *, weeks: int) -> None:
    """A pilot cohort of eight leaders and eight junior mentors, then an expanded one: the
    pilot's pairs that want to carry on, the rest of the cast, and people from the pilot who
    take up the offer of its pool; until the expansion's impact report is out."""
    clock, rng = demo.clock, demo.rng
    days = Calendar.of(weeks)
    await demo.new_cohort(PILOT, days.pilot_start, days.pilot_end)
    await demo.configure(days.pilot_weeks)
    people = make_people(rng)
    juniors = [p for p in people if p.role == "junior"]
    leaders = [p for p in people if p.role == "leader"]
    pilot = rng.sample(juniors, PILOT_SIZE) + rng.sample(leaders, PILOT_SIZE)
    later = [p for p in people if p not in pilot]
    for person in rng.sample(pilot, len(pilot)):
        clock.advance(minutes=rng.randint(3, 25))
        await demo.sign_up(person)

    clock.now = datetime.combine(days.pilot_start, time(9), tzinfo=UTC)
    await demo.command(ADMIN, "admin match")
    assign_moods(demo, ["stalls", "revives", "flaky", "flaky"])
    await settle_and_tick(demo)
    if days.pilot_weeks >= 2:
        plan_a_leave(demo, days)

    # In the pilot's last week the admin creates the expansion, and the rest of the cast
    # signs up: new signups join the newest cohort open for them.
    created_at = datetime.combine(days.pilot_end - timedelta(days=3), time(10), tzinfo=UTC)
    own = own_rhythm(days.pilot_weeks, days.expansion_weeks)

    async def create_expansion() -> None:
        await demo.new_cohort(EXPANSION, days.expansion_start, days.expansion_end, *own)
        for person in later:
            signup_at = at_work(clock.now, person.tz, rng, max_delay_hours=30)
            demo.later(signup_at, partial(demo.sign_up, person))

    demo.later(created_at, create_expansion)

    # The expansion starts: the admin matches its pool (newcomers and people carried over).
    async def match_expansion() -> None:
        await demo.command(ADMIN, "admin match")
        await settle_and_tick(demo)
        assign_moods(demo, ["revives", "flaky"])

    match_at = datetime.combine(days.expansion_start, time(10), tzinfo=UTC)
    demo.later(match_at, match_expansion)

    # Until a week after the expansion's end, when its impact report is posted.
    next_tick = clock.now.replace(minute=0) + timedelta(hours=1)
    finish = datetime.combine(days.expansion_end + REPORT_DELAY, time(15), tzinfo=UTC)
    while next_tick <= finish:
        if demo.plan and demo.plan[0].when <= next_tick:
            planned = heapq.heappop(demo.plan)
            clock.now = max(clock.now, planned.when)
            await planned.action()
            demo.respond_to_new_messages()
            next_tick = await skip_idle_ticks(demo, next_tick, finish)
            continue
        clock.now = next_tick
        await settle_and_tick(demo)
        next_tick = await skip_idle_ticks(demo, next_tick + timedelta(hours=1), finish)


async def skip_idle_ticks(demo: Demo, next_tick: datetime, finish: datetime) -> datetime:
    """Most hours nothing is due: the ticks before the product's next due moment, and
    before the next planned action, would decide and send nothing, so the clock moves past
    them as they would have moved it. Returns the next tick to play."""
    deps = demo.bot.runtime.deps

    def free(tick: datetime) -> bool:  # no planned action comes first, and the demo goes on
        return tick <= finish and not (demo.plan and demo.plan[0].when <= tick)

    if not free(next_tick) or any(not task.done() for task in deps.background):
        return next_tick  # work still going may decide more: the next tick settles it
    due = await next_due(deps)
    skipped = None
    while free(next_tick) and (due is None or next_tick < due):
        skipped = next_tick
        next_tick += timedelta(hours=1)
    if skipped is not None:
        demo.clock.now = skipped
    return next_tick


def assign_moods(demo: Demo, unusual: list[str]) -> None:
    """How each new pair will get on: a few `unusual` ones, the rest engaged (pairs already
    known, such as those carrying on from the pilot, keep theirs)."""
    pairs = sorted(
        demo.bot.runtime.deps.db.run_sync(
            lambda s: {frozenset((p.mentor_id, p.mentee_id)) for p in s.exec(select(Pair))}
        ),
        key=sorted,
    )
    new = [p for p in pairs if p not in demo.mood]
    moods = unusual[: len(new)] + ["engaged"] * max(0, len(new) - len(unusual))
    demo.rng.shuffle(moods)
    demo.mood.update(zip(new, moods, strict=True))


def plan_a_leave(demo: Demo, days: Calendar) -> None:
    """Someone from an engaged pilot pair leaves part-way; a late joiner takes their partner
    on, matched by the admin well before the expansion is created."""
    clock, rng = demo.clock, demo.rng
    engaged = sorted((p for p, mood in demo.mood.items() if mood == "engaged"), key=sorted)
    if not engaged:
        return
    pilot_days = 7 * days.pilot_weeks
    leave_day = weekday_after(days.pilot_start, min(round(pilot_days * 0.3), pilot_days - 12))
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

    demo.later(at_work(leave_at + timedelta(hours=20), demo.people[partner].tz, rng), late_signup)


async def settle_and_tick(demo: Demo) -> None:
    await tick(demo.bot.runtime.deps)
    await demo.bot.settle()
    demo.log.flush(demo.clock.now)
    demo.respond_to_new_messages()


def report(slack: FakeSlack, transcript: Transcript, out: TextIO, chart_path: Path) -> int:
    """The expansion's final summary and its chart, then its impact report (compared with
    the pilot), whose chart and page are saved beside the summary's chart."""
    calls = slack.calls
    summaries = [
        index
        for index, c in enumerate(calls)
        if c.method == "chat.postMessage"
        and c.params.get("channel") == ADMIN_CHANNEL
        and "summary" in c.params.get("text", "")
    ]
    final = [i for i in summaries if calls[i].params.get("text", "").startswith("Final")]
    if not summaries:
        print("demo: no summary was posted", file=out)
        return 1
    at = (final or summaries)[-1]
    last = calls[at].params
    print("\n" + "═" * 72, file=out)
    print(blocks_to_text(last.get("blocks") or [], transcript) or last["text"], file=out)
    print("═" * 72, file=out)
    chart = next(
        (
            c
            for c in calls[at:]
            if c.method == "files.completeUploadExternal"
            and c.params.get("channel_id") == ADMIN_CHANNEL
            and not _shared_name(slack, c).startswith("impact-")
        ),
        None,
    )
    content = _shared_content(slack, chart) if chart is not None else None
    if content:
        chart_path.parent.mkdir(parents=True, exist_ok=True)
        chart_path.write_bytes(content)
        print(f"Chart: {chart_path}", file=out)
    else:
        print("demo: the summary's chart was not shared", file=out)
        return 1
    code = impact(slack, transcript, out, chart_path.parent)
    counts = transcript.counts
    print(
        f"Slack calls the bot made: {sum(counts.values())} "
        f"({counts.get('chat.postMessage', 0)} messages, "
        f"{counts.get('reactions.add', 0)} reactions, {counts.get('views.open', 0)} forms)",
        file=out,
    )
    return code


def impact(slack: FakeSlack, transcript: Transcript, out: TextIO, folder: Path) -> int:
    """Print the expansion's impact report; save its chart and page in `folder`."""
    title = f"Impact report: {EXPANSION}"
    posts = [
        c.params
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("channel") == ADMIN_CHANNEL and c.params.get("text", "").startswith(title)
    ]
    if not posts:
        print(f"demo: the impact report of {EXPANSION} was not posted", file=out)
        return 1
    print("\n" + "═" * 72, file=out)
    print(blocks_to_text(posts[-1].get("blocks") or [], transcript), file=out)
    print("═" * 72, file=out)
    saved = {}
    for call in slack.calls_to("files.completeUploadExternal"):
        name = _shared_name(slack, call)
        if call.params.get("channel_id") == ADMIN_CHANNEL and name.startswith("impact-"):
            saved[Path(name).suffix] = (name, _shared_content(slack, call))
    for suffix, label in ((".png", "Impact chart"), (".html", "Impact page")):
        name, content = saved.get(suffix, ("", None))
        if not content:
            print(f"demo: the impact report's {suffix[1:]} file was not shared", file=out)
            return 1
        path = folder / name
        path.write_bytes(content)
        print(f"{label}: {path}", file=out)
    return 0


def _shared_name(slack: FakeSlack, call: Call) -> str:
    file_id = (call.params.get("files") or [{}])[0].get("id")
    return str(slack.files.get(file_id, {}).get("name") or "")


def _shared_content(slack: FakeSlack, call: Call) -> bytes | None:
    file_id = (call.params.get("files") or [{}])[0].get("id")
    return slack.files.get(file_id, {}).get("content")
