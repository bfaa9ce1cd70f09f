"""How the bot's database work shares the database: reads never wait for a writer, writes of
one process go through one writer that commits those waiting together (SQLite), each write
all-or-nothing on its own, and a read that tries to write is refused."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from storage.db import Database, WriteInRead, make_engine
from storage.models import Participant
from tests.kit.databases import (
    database_url_fixture,  # noqa: F401  (database_url)
    sqlite_only,
)

WHEN = datetime(2026, 3, 2, 9, tzinfo=UTC)


def person(user: str) -> Participant:
    return Participant(team_id="T1", user_id=user, role="junior", created_at=WHEN, updated_at=WHEN)


def add(user: str):
    def work(session):
        session.add(person(user))
        session.flush()
        return user

    return work


def count(session) -> int:
    return session.exec(select(func.count()).select_from(Participant)).one()


@pytest.fixture
def db(database_url):
    database = Database(make_engine(database_url))
    database.prepare()
    try:
        yield database
    finally:
        database.close()


class Gate:
    """A write that holds the writer (and its transaction) until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def work(self, session):
        session.add(person("UGATE"))
        session.flush()
        self.entered.set()
        assert self.release.wait(10), "the gate was never released"
        return "gate"


async def hold_writer(db: Database) -> tuple[Gate, asyncio.Future]:
    gate = Gate()
    held = asyncio.ensure_future(db.run(gate.work))
    assert await asyncio.to_thread(gate.entered.wait, 10)
    return gate, held


@sqlite_only
async def test_writes_waiting_together_are_committed_together(db):
    begins: list[int] = []
    event.listen(db.engine, "begin", lambda conn: begins.append(1))
    gate, held = await hold_writer(db)
    writes = [asyncio.ensure_future(db.run(add(f"U{n:03d}"))) for n in range(50)]
    await asyncio.sleep(0.05)  # all fifty are queued behind the gate
    before = len(begins)
    gate.release.set()
    assert await held == "gate"
    assert await asyncio.gather(*writes) == [f"U{n:03d}" for n in range(50)]
    assert len(begins) - before == 1  # one transaction for the fifty
    assert await db.read(count) == 51


@sqlite_only
async def test_a_failing_write_takes_none_of_the_others_with_it(db):
    def fails(session):
        session.add(person("UFAIL"))
        session.flush()
        raise ValueError("this write fails after writing")

    gate, held = await hold_writer(db)
    first = asyncio.ensure_future(db.run(add("U1")))
    failing = asyncio.ensure_future(db.run(fails))
    last = asyncio.ensure_future(db.run(add("U2")))
    await asyncio.sleep(0.05)
    gate.release.set()
    await held
    assert await first == "U1" and await last == "U2"
    with pytest.raises(ValueError, match="fails after writing"):
        await failing
    users = await db.read(lambda s: sorted(s.exec(select(Participant.user_id)).all()))
    assert users == ["U1", "U2", "UGATE"]


async def test_a_read_does_not_wait_for_a_write_in_progress(db):
    await db.run(add("U1"))
    gate, held = await hold_writer(db)  # a write transaction is open and holds the writer
    try:
        # Waiting for the writer would take the busy timeout (10 s): seconds, not this.
        assert await asyncio.wait_for(db.read(count), timeout=5) == 1
    finally:
        gate.release.set()
        await held
    assert await db.read(count) == 2


async def test_a_read_that_tries_to_write_is_refused_and_nothing_is_written(db):
    with pytest.raises(WriteInRead):
        await db.read(add("U1"))
    assert await db.read(count) == 0
