"""Sending a large tick's messages with one, two and three instances on one PostgreSQL database.

    python bench/bench_instances.py [--messages 2000] [--instances 1 2 3]
                                    [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each number of instances: a fresh database (created next to the one named, dropped after),
migrated, with `--messages` admin alerts due now (a channel message: no quiet hours, so the
clock does not matter), each in a channel of its own (Slack allows about one post a second per
channel, and the gateway paces itself to that: one channel would measure the pace, not the
instances); the fake Slack Web API on 127.0.0.1, limits off. Then that many worker
processes, each the real app (app.build) with its own connection pool, drain the outbox at the
same moment, as instances behind a load balancer would on their ticks. Prints messages per
second for each, how the work was shared, and how many messages were posted twice (must be 0,
counted in the fake from each post's outbox key). Writes bench/results/instances.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.bench_tick import table_of  # noqa: E402
from bench.results_file import save_results  # noqa: E402
from handlers.devkit.driver import BOT_TOKEN, SIGNING_SECRET, TEAM_ID  # noqa: E402
from handlers.devkit.fake_slack import FakeSlack  # noqa: E402
from storage.db import Database, make_engine  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "instances.json"
CHANNEL = "CBENCH{:05d}"  # one channel per message
DEFAULT_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

WORKER = """
import asyncio, os, sys, time
sys.path.insert(0, os.environ["BENCH_ROOT"])
import app
from bot.settings import load_settings
from handlers.core import outbox

settings = load_settings(os.environ)
runtime = app.build(settings)

async def drain():
    go = os.environ["BENCH_GO"]
    while not os.path.exists(go):  # every worker built and connected: start together
        await asyncio.sleep(0.005)
    sent = 0
    while (count := await outbox.deliver_due(runtime.deps)):
        sent += count
    print(sent, flush=True)

asyncio.run(drain())
runtime.deps.db.close()
"""


def _fresh_database(base_url: str) -> str:
    """A new empty database on the same server; its URL."""
    name = f"bench_instances_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(url: str, messages: int) -> None:
    db = Database(make_engine(url))
    db.prepare()
    now = datetime.now(UTC)
    rows = [
        {
            "team_id": TEAM_ID,
            "key": f"bench:{n}",
            "kind": "admin_alert",
            "payload": {"channel": CHANNEL.format(n), "text": f"Bench message {n}"},
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for n in range(messages)
    ]
    with db.engine.begin() as conn:
        conn.execute(insert(table_of(OutboxMessage)), rows)
    db.close()


async def _run(url: str, messages: int, instances: int) -> dict:
    _seed(url, messages)
    async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID) as slack:
        for n in range(messages):
            slack.add_channel(CHANNEL.format(n), name=f"bench-{n}", is_private=True)
        with tempfile.TemporaryDirectory() as scratch:
            go = Path(scratch) / "go"
            env = {
                "PATH": os.environ.get("PATH", ""),
                "BENCH_ROOT": str(ROOT),
                "BENCH_GO": str(go),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": url,
                "LOG_LEVEL": "WARNING",
            }
            workers = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    WORKER,
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                for _ in range(instances)
            ]
            await asyncio.sleep(4)  # imports and connection pools: not part of the measure
            started, before = time.perf_counter(), os.times()
            go.touch()
            outputs = [await worker.communicate() for worker in workers]
            elapsed, after = time.perf_counter() - started, os.times()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        if worker.returncode != 0:
            raise SystemExit(f"a worker failed:\n{err.decode()[-2000:]}")
    shares = [int(out.decode().strip() or 0) for out, _ in outputs]
    posts = slack.calls_to("chat.postMessage")
    keys = Counter(
        ((call.params.get("metadata") or {}).get("event_payload") or {}).get("outbox_key")
        for call in posts
    )
    twice = sum(1 for count in keys.values() if count > 1)
    return {
        "instances": instances,
        "messages": messages,
        "posted": len(posts),
        "sent_twice": twice,
        "seconds": round(elapsed, 3),
        "messages_per_second": round(messages / elapsed, 1),
        "sent_by_each": shares,
        # Where the two cores went: this process is the fake Slack; the children are the
        # instances (their CPU time from the moment they were told to start, roughly).
        "fake_slack_cpu_seconds": round(
            (after.user + after.system) - (before.user + before.system), 1
        ),
        "instances_cpu_seconds": round(
            (after.children_user + after.children_system)
            - (before.children_user + before.children_system),
            1,
        ),
    }


def run(*, messages: int = 2000, instances: tuple[int, ...] = (1, 2, 3), url: str = DEFAULT_URL):
    results = []
    for count in instances:
        database = _fresh_database(url)
        try:
            results.append(asyncio.run(_run(database, messages, count)))
        finally:
            _drop_database(database)
    return {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "database": make_url(url).render_as_string(hide_password=True),
        "runs": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    result = run(messages=args.messages, instances=tuple(args.instances), url=args.database_url)
    print(
        f"{'instances':>9} {'msg/s':>8} {'seconds':>8} {'twice':>6} "
        f"{'cpu: fake':>10} {'instances':>10}  sent by each"
    )
    for line in result["runs"]:
        print(
            f"{line['instances']:>9} {line['messages_per_second']:>8} {line['seconds']:>8} "
            f"{line['sent_twice']:>6} {line['fake_slack_cpu_seconds']:>10} "
            f"{line['instances_cpu_seconds']:>10}  {line['sent_by_each']}"
        )
    save_results(RESULTS, result)
    return 1 if any(line["sent_twice"] for line in result["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
