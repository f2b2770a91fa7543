"""PostgreSQL: a COMMIT that fails (here: past the statement timeout) gives its connection
back to the pool, closed, so the next transaction still gets one."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from tests.conftest import drop_postgres_database, upgraded_postgres_database

from pokaznyk_core.storage.engine import Database, connect
from pokaznyk_core.storage.tables import ProcessedUpdate
from pokaznyk_core.storage.transactions import current_engine, write_transaction

NOW = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
SLOW_COMMIT = """
CREATE FUNCTION slow_commit() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON processed_update
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.update_key = 'slow') EXECUTE FUNCTION slow_commit();
"""


@pytest.fixture(scope="module")
async def one_connection() -> AsyncIterator[Database]:
    """A database whose commits of the update 'slow' take 3 s, opened with one pooled
    connection and a one-second statement timeout."""
    url = await upgraded_postgres_database()
    admin = await asyncpg.connect(url)
    await admin.execute(SLOW_COMMIT)
    await admin.close()
    database = await connect(url, pool_size=1, statement_timeout=1)
    try:
        yield database
    finally:
        try:
            await asyncio.wait_for(database.close(), timeout=10)
        except TimeoutError:  # a connection never given back: the pool waits for it
            database.engine.pool.terminate()
        await drop_postgres_database(url)


async def record(key: str) -> None:
    async with write_transaction():
        await ProcessedUpdate.insert(
            ProcessedUpdate(channel="test", update_key=key, received_at=NOW)
        )


async def test_a_commit_past_the_timeout_fails_and_the_next_transaction_still_runs(
    one_connection: Database,
) -> None:
    with pytest.raises(TimeoutError):
        await record("slow")
    assert current_engine().current_transaction.get() is None

    # Another request (a task of its own) gets the pool's only connection.
    other_request = asyncio.create_task(record("next"), context=contextvars.Context())
    await asyncio.wait_for(other_request, timeout=10)

    keys = {r["update_key"] for r in await ProcessedUpdate.select(ProcessedUpdate.update_key)}
    assert keys == {"next"}
    pool = one_connection.engine.pool
    assert pool.get_idle_size() == pool.get_size()  # nothing left checked out
