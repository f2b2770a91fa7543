"""SQLite: write transactions run their statements on the event loop, yet wait for a writer
of another process without stopping the loop, and roll back whole when they fail."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pokaznyk_core.storage.engine import Database, connect, upgrade
from pokaznyk_core.storage.sqlite_pool import PooledSQLiteEngine
from pokaznyk_core.storage.tables import ProcessedUpdate
from pokaznyk_core.storage.transactions import current_engine, write_transaction

NOW = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
INSERT = "INSERT INTO processed_update (channel, update_key, received_at) VALUES (?, ?, ?)"


@pytest.fixture(scope="module")
async def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    path = tmp_path_factory.mktemp("db") / "pokaznyk.sqlite"
    db: Database = await connect(f"sqlite:///{path}", create=True)
    await upgrade(db)
    try:
        yield path
    finally:
        await db.close()


def engine() -> PooledSQLiteEngine:
    found = current_engine()
    assert isinstance(found, PooledSQLiteEngine)
    return found


async def stored_keys(channel: str) -> set[str]:
    rows = await ProcessedUpdate.select(ProcessedUpdate.update_key).where(
        ProcessedUpdate.channel == channel
    )
    return {r["update_key"] for r in rows}


async def loop_ticks_while(task: asyncio.Task[object], seconds: float) -> int:
    """How often the event loop ran a 10 ms timer while `task` was pending for `seconds`."""
    ticks = 0
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
        assert not task.done(), "the write did not wait for the other process's writer"
        ticks += 1
    return ticks


async def test_writes_wait_for_another_process_writer_while_the_loop_runs(
    sqlite_database: Path,
) -> None:
    async def piccolo_write(key: str) -> None:
        async with write_transaction():
            await ProcessedUpdate.insert(
                ProcessedUpdate(channel="waits", update_key=key, received_at=NOW)
            )

    # Twice: the connection that waited in its thread is lent again, and must not make
    # the event loop wait the second time.
    for attempt in ("first", "second"):
        other = sqlite3.connect(sqlite_database, isolation_level=None)  # another process
        other.execute("BEGIN IMMEDIATE")
        raw = asyncio.create_task(
            engine().run_write(lambda c, key=attempt: c.execute(INSERT, ("waits", key, NOW)))
        )
        try:
            assert await loop_ticks_while(raw, 0.3) >= 10  # the loop was never stopped
        finally:
            other.execute("COMMIT")
            other.close()
        await asyncio.wait_for(raw, 10)
        await asyncio.wait_for(piccolo_write(f"piccolo {attempt}"), 10)

    assert await stored_keys("waits") == {"first", "second", "piccolo first", "piccolo second"}


async def test_a_failed_write_stores_nothing_and_the_next_one_works(
    sqlite_database: Path,
) -> None:
    def fails(connection: sqlite3.Connection) -> None:
        connection.execute(INSERT, ("fails", "raw", NOW))
        raise ValueError("the work failed")

    with pytest.raises(ValueError, match="the work failed"):
        await engine().run_write(fails)

    async def piccolo_fails() -> None:
        async with write_transaction():
            await ProcessedUpdate.insert(
                ProcessedUpdate(channel="fails", update_key="piccolo", received_at=NOW)
            )
            raise ValueError("also failed")

    with pytest.raises(ValueError, match="also failed"):
        await piccolo_fails()
    assert await stored_keys("fails") == set()

    await engine().run_write(lambda c: c.execute(INSERT, ("fails", "after", NOW)))
    async with write_transaction():
        await ProcessedUpdate.insert(
            ProcessedUpdate(channel="fails", update_key="piccolo after", received_at=NOW)
        )
    assert await stored_keys("fails") == {"after", "piccolo after"}


async def test_the_wal_is_checkpointed_in_the_background_and_stays_small(
    sqlite_database: Path,
) -> None:
    wal = Path(f"{sqlite_database}-wal")
    payload = "x" * 8000  # a few pages a commit: a WAL of about 50 MB without checkpoints

    def write(connection: sqlite3.Connection, n: int) -> None:
        connection.execute(INSERT, ("wal", str(n), NOW))
        connection.execute(
            "INSERT INTO audit_entry (at, actor, action, entity, entity_id, details, source)"
            " VALUES (?, 'test', 'wal', 'test', ?, ?, '')",
            (NOW, str(n), payload),
        )

    for n in range(1500):  # back to back, as a busy server's: the checkpoint must catch up
        await engine().run_write(lambda c, n=n: write(c, n))
        await asyncio.sleep(0)  # the event loop turns between requests
    assert len(await stored_keys("wal")) == 1500
    size = os.path.getsize(wal)  # noqa: ASYNC240 - one stat after the writes
    assert size < 12 * 1024 * 1024  # a checkpoint every 200 commits: about 7


async def test_a_write_cancelled_while_waiting_leaves_no_connection_holding_the_lock(
    sqlite_database: Path,
) -> None:
    other = sqlite3.connect(sqlite_database, isolation_level=None, timeout=5)
    other.execute("BEGIN IMMEDIATE")
    waiting = asyncio.create_task(
        engine().run_write(lambda c: c.execute(INSERT, ("cancelled", "never", NOW)))
    )
    await asyncio.sleep(0.2)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    other.execute("COMMIT")

    for n in range(5):  # the pool's connections work, and none kept the write lock
        await engine().run_write(lambda c, n=n: c.execute(INSERT, ("cancelled", f"after{n}", NOW)))
    await asyncio.sleep(0.2)  # the abandoned BEGIN has run in its thread by now
    other.execute("BEGIN IMMEDIATE")  # would wait 5 s and fail if a connection held it
    other.execute("COMMIT")
    other.close()
    assert await stored_keys("cancelled") == {f"after{n}" for n in range(5)}


async def test_a_writer_waiting_for_this_processs_turn_gives_up_as_locked_after_the_timeout(
    sqlite_database: Path,
) -> None:
    patient_briefly = PooledSQLiteEngine(path=str(sqlite_database), busy_timeout_ms=50)
    release = asyncio.Event()
    holding = asyncio.Event()

    async def long_writer() -> None:  # held up itself by another process's writer
        async with patient_briefly.writer_turn():
            holding.set()
            await release.wait()

    async def next_writer() -> None:
        async with patient_briefly.writer_turn():
            pass

    first = asyncio.create_task(long_writer())
    await holding.wait()
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            # bounded only so that a regression fails instead of hanging the suite
            await asyncio.wait_for(next_writer(), timeout=30)
    finally:
        release.set()
        await first
    async with patient_briefly.writer_turn():  # the turn is free again
        pass
