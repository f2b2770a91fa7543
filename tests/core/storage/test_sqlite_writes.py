"""SQLite: write transactions run their statements on the event loop, yet wait for a writer
of another process without stopping the loop, and roll back whole when they fail."""

from __future__ import annotations

import asyncio
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
    other = sqlite3.connect(sqlite_database, isolation_level=None)  # as another process
    other.execute("BEGIN IMMEDIATE")

    def write(connection: sqlite3.Connection) -> None:
        connection.execute(INSERT, ("waits", "run_write", NOW))

    async def piccolo_write() -> None:
        async with write_transaction():
            await ProcessedUpdate.insert(
                ProcessedUpdate(channel="waits", update_key="piccolo", received_at=NOW)
            )

    raw = asyncio.create_task(engine().run_write(write))
    try:
        assert await loop_ticks_while(raw, 0.3) >= 10  # the loop was never stopped
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(raw, 10)
    await asyncio.wait_for(piccolo_write(), 10)

    assert await stored_keys("waits") == {"run_write", "piccolo"}


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
