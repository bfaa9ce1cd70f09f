"""The scheduler's tick over many active pairs of which few are due.

    python bench/bench_tick.py [--pairs 10000] [--due 20] [--repeat 5]

Builds a SQLite file with the real schema, starts the fake Slack Web API on 127.0.0.1 and runs
the real app (app.build) against both. Each run starts from a fresh copy of the same database
and times (a) a tick with `--due` pairs due (decide + deliver, Slack calls included), (b) a
second tick at the same moment, when nothing is due, (c) decide_due alone and (d) sending
alone: the decided messages delivered (claim, check, draft, post, record) with the fake Slack
answering at once from its own thread, so the bot's own CPU time (the process's minus the
fake's thread) and its database statements (counted with a `before_cursor_execute` listener)
can be divided by the messages sent. Prints a table with the targets, and the query plans of
the due queries, and writes bench/results/tick.json. From Python:
`run(pairs=..., due=..., repeat=...) -> dict` (bench/run_all.py does).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import Table, event, func, insert, inspect  # noqa: E402
from sqlalchemy.pool import PoolProxiedConnection  # noqa: E402
from sqlmodel import Session, SQLModel, select  # noqa: E402

import app  # noqa: E402
from bench.results_file import save_results  # noqa: E402
from bot import cadence  # noqa: E402
from bot.profiles import TOPICS  # noqa: E402
from handlers.core import outbox as sender  # noqa: E402
from handlers.core.scheduler import _decide, tick  # noqa: E402
from handlers.devkit.driver import BOT_TOKEN, TEAM_ID, Clock, make_settings  # noqa: E402
from handlers.devkit.fake_slack import FakeSlack  # noqa: E402
from handlers.rhythm.tick import decide_due  # noqa: E402
from storage import outbox, rhythm  # noqa: E402
from storage.db import Database, make_engine  # noqa: E402
from storage.models import OutboxMessage, Pair, Participant, ProcessedEvent  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "tick.json"
# A Tuesday, 10:00 UTC: inside working hours in every zone below, so nothing waits for morning.
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
ZONES = ("Europe/London", "Europe/Paris", "Europe/Berlin")
DEPARTMENTS = ("Finance", "Sales", "Operations", "Legal", "Engineering", "Marketing")
ADMIN = "UADMIN"
SETTINGS = cadence.ProgramSettings()
EVENTS = 5_000  # processed Slack event ids, so the tick's purge has a table to work on
_SCAN = re.compile(r"^SCAN (?:TABLE )?(\w+)(.*)$")
# Targets at 10,000 active pairs (issue 13, item 4).
TARGET_IDLE_MS = 10.0
TARGET_CPU_MS_PER_MESSAGE = 2.0
TARGET_STATEMENTS_PER_MESSAGE = 1.0


# --- the population ----------------------------------------------------------------------------


def _mentor(i: int) -> str:
    return f"UJ{i:05d}"


def _leader(i: int) -> str:
    return f"UL{i:05d}"


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _due_indexes(pairs: int, due: int) -> list[int]:
    """Due pairs spread evenly through the table, not bunched at the start of the rowid order."""
    step = pairs / due
    return [int(k * step + step / 2) for k in range(due)]


def _pair_row(i: int, *, due_as: int | None, channel: str, now: datetime) -> dict:
    """One active pair, introduced a while ago; `due_as` is its place among the due pairs."""
    leader_tz = ZONES[(i + 1) % len(ZONES)]
    created = now - timedelta(days=30 + i % 60)
    last_activity = now - timedelta(days=i % 14, hours=i % 7)
    row = {
        "team_id": TEAM_ID,
        "mentor_id": _mentor(i),
        "mentee_id": _leader(i),
        "status": "active",
        "score": 10.0 + i % 7,
        "explanation": "You both care about Digital trends & AI; different departments.",
        "dm_channel_id": channel,
        "intro_ts": f"{int(created.timestamp())}.000100",
        "created_at": created,
        "updated_at": created,
        "last_activity_at": last_activity,
        "stall_due_at": cadence.stall_due_at(last_activity, SETTINGS),
        "escalate_due_at": None,
        "nudged_at": None,
    }
    if due_as is None:
        day = _weekday_on_or_after(now.date() + timedelta(days=2 + i % 12))
        if i % 20 == 0:  # nudged yesterday, still quiet: an escalation is pending, not yet due
            nudged_at = now - timedelta(days=1)
            row["last_activity_at"] = now - timedelta(days=22)
            row["stall_due_at"], row["nudged_at"] = None, nudged_at
            row["escalate_due_at"] = cadence.escalate_due_at(nudged_at, SETTINGS)
    elif due_as % 5 == 4:
        # Their session was yesterday: the check-in is due (its prompt went out before).
        day = now.date() - timedelta(days=1)
    else:
        # Their session is tomorrow: the prompt (24 h before the leader's 09:00) is due.
        day = now.date() + timedelta(days=1)
    dues = cadence.dues_for_session(
        day, now=now - timedelta(days=3), leader_tz=leader_tz, settings=SETTINGS
    )
    row["next_session_on"] = day
    row["prompt_due_at"] = None if day < now.date() else dues.prompt_due_at
    row["checkin_due_at"] = dues.checkin_due_at
    if due_as is not None and due_as % 7 == 3:  # and quiet for 22 days: a nudge is due too
        quiet_since = now - timedelta(days=22)
        row["last_activity_at"] = quiet_since
        row["stall_due_at"] = cadence.stall_due_at(quiet_since, SETTINGS)
    if due_as == 0:  # nudged 8 days ago without effect: the admins are told
        nudged_at = now - timedelta(days=8)
        row["last_activity_at"] = now - timedelta(days=30)
        row["stall_due_at"], row["nudged_at"] = None, nudged_at
        row["escalate_due_at"] = cadence.escalate_due_at(nudged_at, SETTINGS)
    return row


def _participant_row(user_id: str, *, role: str, level: int, tz: str, i: int) -> dict:
    topics = list(TOPICS)
    return {
        "team_id": TEAM_ID,
        "user_id": user_id,
        "role": role,
        "level": level,
        "department": DEPARTMENTS[(i + (role == "leader")) % len(DEPARTMENTS)],
        "manager_id": None,
        "topics": [topics[i % len(topics)], topics[(i + 3) % len(topics)]],
        "goals": "Learn from each other.",
        "capacity": 1,
        "title": "Analyst" if role == "junior" else "Director",
        "timezone": tz,
        "status": "active",
        "created_at": NOW - timedelta(days=90),
        "updated_at": NOW - timedelta(days=90),
        "left_at": None,
    }


def populate(db_path: Path, fake: FakeSlack, *, pairs: int, due: int, now: datetime) -> dict:
    """Write the population into a fresh database and tell the fake Slack about everyone."""
    due_at = {index: k for k, index in enumerate(_due_indexes(pairs, due))}
    people, pair_rows = [], []
    for i in range(pairs):
        mentor_tz, leader_tz = ZONES[i % len(ZONES)], ZONES[(i + 1) % len(ZONES)]
        people.append(
            _participant_row(_mentor(i), role="junior", level=1 + i % 2, tz=mentor_tz, i=i)
        )
        people.append(
            _participant_row(_leader(i), role="leader", level=5 + i % 2, tz=leader_tz, i=i)
        )
        fake.add_user(_mentor(i), tz=mentor_tz, title="Analyst")
        fake.add_user(_leader(i), tz=leader_tz, title="Director")
        channel = fake.conversation_id(_mentor(i), _leader(i))
        # The group DM as conversations.open would have left it when the pair was introduced.
        fake.conversations[channel] = {
            "id": channel,
            "members": sorted((_mentor(i), _leader(i))),
            "is_im": False,
            "is_mpim": True,
        }
        pair_rows.append(_pair_row(i, due_as=due_at.get(i), channel=channel, now=now))
    fake.add_user(ADMIN, tz="Europe/London", title="L&D lead")
    # Two days of Slack event ids, the oldest few just past the retention the tick purges,
    # applied as events are (done_at): left unapplied, all 5,000 looked like events whose
    # handler had failed, and every tick retried 200 of them, none of which a real
    # workspace would have.
    span = timedelta(days=2, minutes=1)
    events = []
    for n in range(1, EVENTS + 1):
        received = now - span * n / EVENTS
        events.append(
            {"team_id": TEAM_ID, "event_id": f"Ev{n:07d}", "received_at": received}
            | {"done_at": received}
        )

    db = Database(make_engine(f"sqlite:///{db_path}"))
    db.prepare()
    # Executemany, not one multi-row VALUES: 20,000 rows would pass SQLite's variable limit.
    with db.engine.begin() as conn:
        conn.execute(insert(table_of(Participant)), people)
        conn.execute(insert(table_of(Pair)), pair_rows)
        conn.execute(insert(table_of(ProcessedEvent)), events)
    # Fold the WAL into the file, so a plain copy of it is the whole database. A raw
    # connection: the engine's own connections start every use with BEGIN IMMEDIATE.
    raw = db.engine.raw_connection()
    try:
        _sqlite(raw).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    db.close()

    expected = {
        "prompt_due_at": sum(1 for r in pair_rows if _is_due(r["prompt_due_at"], now)),
        "checkin_due_at": sum(1 for r in pair_rows if _is_due(r["checkin_due_at"], now)),
        "stall_due_at": sum(1 for r in pair_rows if _is_due(r["stall_due_at"], now)),
        "escalate_due_at": sum(1 for r in pair_rows if _is_due(r["escalate_due_at"], now)),
    }
    return {"participants": len(people), "pairs": len(pair_rows), "due_by_column": expected}


def _is_due(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


def _restore(pristine: Path, db_path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, db_path)


# --- query plans -------------------------------------------------------------------------------


class _Recorder:
    """The SQL (and parameters) an engine runs, in order, each distinct statement once."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: dict[str, tuple] = {}

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not executemany:
            self.statements.setdefault(statement, tuple(parameters or ()))

    def __enter__(self) -> _Recorder:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Table, for Core bulk inserts: SQLModel does not declare __table__."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def _sqlite(raw: PoolProxiedConnection) -> sqlite3.Connection:
    """The driver's own connection under a pooled one (typed Optional: None once closed)."""
    connection = raw.driver_connection
    assert isinstance(connection, sqlite3.Connection)
    return connection


def _plan(connection: sqlite3.Connection, sql: str, parameters: tuple) -> list[str]:
    rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters).fetchall()
    return [row[3] for row in rows]


def _full_scans(plan: list[str]) -> list[str]:
    """Plan lines that read a whole table (a bare SCAN, not a search through an index)."""
    found = []
    for line in plan:
        match = _SCAN.match(line)
        if match and "INDEX" not in match.group(2) and "PRIMARY KEY" not in match.group(2):
            found.append(line)
    return found


def due_query_plans(db_path: Path, now: datetime) -> list[dict]:
    """EXPLAIN QUERY PLAN on the exact SQL the storage functions run, on the full database."""
    scratch = db_path.with_name("plans.db")
    shutil.copyfile(db_path, scratch)
    db = Database(make_engine(f"sqlite:///{scratch}"))
    queries = {}
    try:
        for column in rhythm.DUE_COLUMNS:

            def due(s: Session, column: str = column) -> list[Pair]:
                return rhythm.due_pairs(session=s, column=column, now=now, limit=200)

            with _Recorder(db.engine) as rec:
                db.run_sync(due)
            queries[f"due_pairs({column})"] = _only_select(rec)
        with _Recorder(db.engine) as rec:
            db.run_sync(lambda s: outbox.due_messages(session=s, now=now, limit=50))
        queries["due_messages"] = _only_select(rec)
        raw = db.engine.raw_connection()
        try:
            return [
                {
                    "query": name,
                    "sql": " ".join(sql.split()),
                    "plan": (plan := _plan(_sqlite(raw), sql, params)),
                    "full_scan": _full_scans(plan),
                }
                for name, (sql, params) in queries.items()
            ]
        finally:
            raw.close()
    finally:
        db.close()


def _only_select(rec: _Recorder) -> tuple[str, tuple]:
    [(sql, params)] = [(s, p) for s, p in rec.statements.items() if s.lstrip().startswith("SELECT")]
    return sql, params


def tick_statement_plans(runtime: app.Runtime, statements: dict[str, tuple]) -> list[dict]:
    """Every distinct statement a due tick ran that reads or writes a table, with its plan."""
    raw = runtime.deps.db.engine.raw_connection()
    try:
        out = []
        for sql, params in statements.items():
            if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT)", sql):
                continue
            plan = _plan(_sqlite(raw), sql, params)
            out.append({"sql": " ".join(sql.split()), "plan": plan, "full_scan": _full_scans(plan)})
        return out
    finally:
        raw.close()


# --- the fake Slack in a thread of its own, and what the bot itself spends -------------------


class SlackThread:
    """The fake Slack served from its own thread and event loop: its CPU time is then its
    thread's (`cpu()`), apart from the bot's."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-slack", daemon=True)

    def __enter__(self) -> SlackThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result()
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    def cpu(self) -> float:
        assert self.thread.ident is not None
        return time.clock_gettime(time.pthread_getcpuclockid(self.thread.ident))


class StatementCounter:
    """Statements the engine sends to the database (SQLite's BEGIN IMMEDIATE, issued by
    storage/db.py for every transaction, counted apart)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements = 0
        self.begins = 0

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements += 1
        if statement.startswith("BEGIN"):
            self.begins += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


# --- the runs ----------------------------------------------------------------------------------


async def _timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = await work
    return time.perf_counter() - start, result


def _posts(fake: FakeSlack) -> int:
    return len(fake.calls_to("chat.postMessage"))


def _outbox_rows(runtime: app.Runtime) -> int:
    return runtime.deps.db.run_sync(
        lambda s: s.exec(select(func.count()).select_from(OutboxMessage)).one()
    )


async def _tick_and_settle(runtime: app.Runtime) -> None:
    await tick(runtime.deps)
    # Anything delivery handed to the background is part of the tick's work.
    while pending := [t for t in runtime.deps.background if not t.done()]:
        await asyncio.wait(pending)


async def measure(args, workdir: Path) -> dict:
    db_path, pristine = workdir / "mentor.db", workdir / "pristine.db"
    clock = Clock(NOW)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)  # the gateway sleeps only on 429s and retries: expect none
        await asyncio.sleep(seconds)

    fake = FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock)
    with SlackThread(fake) as slack_thread:
        started = time.perf_counter()
        population = populate(db_path, fake, pairs=args.pairs, due=args.due, now=NOW)
        setup_seconds = time.perf_counter() - started
        shutil.copyfile(db_path, pristine)
        plans = due_query_plans(pristine, NOW)

        # One process for every run, as in production: engine caches stay warm after run 1,
        # and between runs only the database file is swapped for a fresh copy.
        runtime = app.build(
            make_settings(fake, db_path), clock=clock, sleep=sleep, monotonic=time.monotonic
        )
        # One connection pool for every Slack call, as app.serve() gives the running bot:
        # without it each call pays for a new connection, which the bot never does.
        http = aiohttp.ClientSession()
        runtime.deps.slack.client.session = http
        engine = runtime.deps.db.engine
        due_tick, idle_tick, decide_only, sending = [], [], [], []
        sent, decided, calls, statements = [], [], {}, {}
        try:
            for run in range(args.repeat):
                engine.dispose()
                _restore(pristine, db_path)
                fake.clear_calls()
                # Each run as cold as the first: an admin's profile is not yet cached.
                runtime.deps._user_cache.clear()
                if run == 0:
                    with _Recorder(engine) as rec:
                        seconds, _ = await _timed(_tick_and_settle(runtime))
                    statements = rec.statements
                else:
                    seconds, _ = await _timed(_tick_and_settle(runtime))
                due_tick.append(seconds)
                sent.append(_posts(fake))
                calls = {c.method: len(fake.calls_to(c.method)) for c in fake.calls}
                before = _posts(fake)
                seconds, _ = await _timed(_tick_and_settle(runtime))
                idle_tick.append(seconds)
                if _posts(fake) != before:
                    raise RuntimeError("the second tick at the same moment sent something")

                engine.dispose()
                _restore(pristine, db_path)
                seconds, count = await _timed(decide_due(runtime.deps))
                decide_only.append(seconds)
                decided.append(count)
                if _outbox_rows(runtime) != count:
                    raise RuntimeError("decide_due's count differs from the outbox rows it wrote")

                sending.append(await _measure_sending(runtime, pristine, db_path, slack_thread))
            tick_plans = tick_statement_plans(runtime, statements)
        finally:
            await http.close()
            runtime.deps.db.close()

    expected = sum(population["due_by_column"].values())
    if set(decided) != {expected}:
        raise RuntimeError(f"expected {expected} decisions, got {decided}")
    return {
        **population,
        "due": args.due,
        "repeat": args.repeat,
        "now": NOW.isoformat(),
        "setup_seconds": round(setup_seconds, 3),
        "cases": {
            "tick_due": _summary(due_tick),
            "tick_idle": _summary(idle_tick),
            "decide_due": _summary(decide_only),
        },
        "sending": _sending_summary(sending),
        "decisions": decided[0],
        "messages_sent": sorted(set(sent)),
        "slack_calls_per_due_tick": calls,
        "gateway_sleeps": len(sleeps),
        "due_query_plans": plans,
        "tick_statements": tick_plans,
    }


async def _measure_sending(
    runtime: app.Runtime, pristine: Path, db_path: Path, slack_thread: SlackThread
) -> dict:
    """From a fresh copy: the tick's decisions, then their sending alone, measured."""
    deps = runtime.deps
    deps.db.engine.dispose()
    _restore(pristine, db_path)
    deps._user_cache.clear()
    await _decide(deps)
    fake = slack_thread.fake
    posts_before = _posts(fake)
    with StatementCounter(deps.db.engine) as counted:
        wall, cpu, fake_cpu = time.perf_counter(), time.process_time(), slack_thread.cpu()
        sent = await sender.deliver_due(deps)
        wall = time.perf_counter() - wall
        cpu, fake_cpu = time.process_time() - cpu, slack_thread.cpu() - fake_cpu
    if sent != _posts(fake) - posts_before:
        raise RuntimeError("deliver_due's count differs from the posts the fake Slack saw")
    return {
        "sent": sent,
        "wall": wall,
        "bot_cpu": cpu - fake_cpu,
        "slack_cpu": fake_cpu,
        "statements": counted.statements,
        "begins": counted.begins,
    }


def _sending_summary(runs: list[dict]) -> dict:
    sent = runs[0]["sent"]
    if not sent or any(r["sent"] != sent for r in runs):
        raise RuntimeError(f"sending sent {[r['sent'] for r in runs]} messages")

    def per_message(key: str, scale: float = 1000.0) -> float:
        return round(statistics.median(r[key] for r in runs) * scale / sent, 3)

    return {
        "messages": sent,
        "wall_ms_per_message": per_message("wall"),
        "bot_cpu_ms_per_message": per_message("bot_cpu"),
        "slack_cpu_ms_per_message": per_message("slack_cpu"),
        "statements_per_message": per_message("statements", 1.0),
        "statements_per_message_without_begin": round(
            statistics.median(r["statements"] - r["begins"] for r in runs) / sent, 3
        ),
        "transactions_per_message": per_message("begins", 1.0),
        "runs": runs,
    }


def targets(result: dict) -> list[tuple[str, float, str, float, bool]]:
    """(what, measured, unit, target, met) for issue 13's targets."""
    idle_ms = result["cases"]["tick_idle"]["median"] * 1000
    s = result["sending"]
    return [
        ("tick with nothing due", idle_ms, "ms", TARGET_IDLE_MS, idle_ms < TARGET_IDLE_MS),
        ("sending: wall per message", s["wall_ms_per_message"], "ms", float("nan"), True),
        (
            "sending: bot CPU per message",
            s["bot_cpu_ms_per_message"],
            "ms",
            TARGET_CPU_MS_PER_MESSAGE,
            s["bot_cpu_ms_per_message"] <= TARGET_CPU_MS_PER_MESSAGE,
        ),
        (
            "sending: DB statements per message",
            s["statements_per_message"],
            "",
            TARGET_STATEMENTS_PER_MESSAGE,
            s["statements_per_message"] <= TARGET_STATEMENTS_PER_MESSAGE,
        ),
    ]


def _summary(seconds: list[float]) -> dict:
    return {
        "median": round(statistics.median(seconds), 4),
        "max": round(max(seconds), 4),
        "runs": [round(s, 4) for s in seconds],
    }


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        cpu = next(
            line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    return {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def report(result: dict) -> None:
    m = result["machine"]
    print(
        f"{result['pairs']} active pairs ({result['participants']} participants), "
        f"{result['due']} due, {result['repeat']} runs, now {result['now']}"
    )
    print(
        f"{m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, SQLite {m['sqlite']}; "
        f"setup {result['setup_seconds']:.1f} s"
    )
    print(f"due by column: {result['due_by_column']}")
    print()
    labels = {
        "tick_due": "tick, pairs due (decide + deliver)",
        "tick_idle": "tick, nothing due",
        "decide_due": "decide_due alone",
    }
    print(f"{'case':36} {'median s':>9} {'max s':>9}")
    for key, label in labels.items():
        case = result["cases"][key]
        print(f"{label:36} {case['median']:9.4f} {case['max']:9.4f}")
    print()
    sending = result["sending"]
    print(
        f"sending {sending['messages']} messages (the fake Slack answering at once, in its "
        f"own thread; its CPU {sending['slack_cpu_ms_per_message']:.2f} ms/message not counted):"
    )
    print(f"  {'':36} {'measured':>9} {'target':>9}  met")
    for what, measured, unit, target, met in targets(result):
        shown = "-" if target != target else f"{target:g} {unit}".strip()
        verdict = "" if target != target else ("yes" if met else "NO")
        print(f"  {what:36} {f'{measured:.2f} {unit}'.strip():>9} {shown:>9}  {verdict}")
    print(
        f"  statements per message without SQLite's BEGIN IMMEDIATE: "
        f"{sending['statements_per_message_without_begin']:.2f}; "
        f"transactions per message: {sending['transactions_per_message']:.2f}"
    )
    print()
    sent = ", ".join(str(n) for n in result["messages_sent"])
    print(f"decisions per due tick: {result['decisions']}; messages sent: {sent}")
    print(f"Slack calls per due tick: {result['slack_calls_per_due_tick']}")
    print(f"gateway sleeps (429/retries): {result['gateway_sleeps']}")
    print()
    print("EXPLAIN QUERY PLAN of the due queries:")
    for query in result["due_query_plans"]:
        verdict = "FULL SCAN" if query["full_scan"] else "index"
        print(f"  {query['query']:28} {verdict:9} {' | '.join(query['plan'])}")
    scans = [s for s in result["tick_statements"] if s["full_scan"]]
    print(
        f"statements run by a due tick: {len(result['tick_statements'])} distinct, "
        f"{len(scans)} with a full table scan"
    )
    for statement in scans:
        print(f"  {statement['sql'][:120]}\n    {' | '.join(statement['plan'])}")


def run(*, pairs: int = 10_000, due: int = 20, repeat: int = 5) -> dict:
    """The whole measurement in a fresh event loop and scratch directory; returns the result."""
    if not 1 <= due <= pairs:
        raise ValueError("due must be between 1 and pairs")
    args = argparse.Namespace(pairs=pairs, due=due, repeat=repeat)
    with tempfile.TemporaryDirectory(prefix="bench-tick-") as workdir:
        result = asyncio.run(measure(args, Path(workdir)))
    return {"machine": machine(), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if not 1 <= args.due <= args.pairs:
        parser.error("--due must be between 1 and --pairs")

    result = run(pairs=args.pairs, due=args.due, repeat=args.repeat)
    report(result)
    save_results(RESULTS, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
