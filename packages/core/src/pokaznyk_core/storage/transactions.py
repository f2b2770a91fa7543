"""Write transactions that cannot deadlock on SQLite and serialize per row on PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from pokaznyk_core.storage import piccolo_conf
from pokaznyk_core.storage.sqlite_pool import PooledSQLiteEngine


class _ReleasingTransaction(PostgresTransaction):
    """Piccolo's PostgreSQL transaction, which gives its connection back to the pool even
    when its COMMIT or ROLLBACK fails. Piccolo's own skips the release then, so each
    commit that timed out (`POKAZNYK_STATEMENT_TIMEOUT_SECONDS`: a stalled disk, a lagging
    synchronous standby) or lost its connection kept one of the pool's connections for
    good, until the process hung waiting for one. The connection, whose transaction may or
    may not have committed, is closed rather than reused."""

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]  # Piccolo
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]  # Piccolo
        except BaseException:
            self.connection.terminate()
            raise
        finally:
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()
            self.engine.current_transaction.reset(self.context)
        return exception is None


def current_engine() -> Engine[Any]:
    """The engine the tables are bound to."""
    return piccolo_conf.DB


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for a use case that reads and then writes.

    On SQLite it is IMMEDIATE: it takes the write lock first, so two writers wait for each
    other instead of failing with "database is locked" when a reader upgrades; the writers
    of one process take turns on an asyncio lock first, so they queue in the event loop
    rather than in SQLite's sleeping busy handler. On PostgreSQL it is an ordinary
    transaction; rows are locked with `lock_for_update`. Nested calls join the outer one.
    """
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        async with _ReleasingTransaction(engine=engine):
            yield
        return
    if not isinstance(engine, SQLiteEngine):
        async with engine.transaction():
            yield
        return
    if engine.current_transaction.get() is not None or not isinstance(engine, PooledSQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    async with engine.writer_turn(), engine.transaction(transaction_type=TransactionType.immediate):
        yield


async def lock_for_update(table: str, row_id: int) -> None:
    """Lock one row until the transaction ends (PostgreSQL; SQLite is already serialized)."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f'SELECT 1 FROM "{table}" WHERE id = {int(row_id)} FOR UPDATE')


async def serialize_on(*keys: str) -> None:
    """Make the transactions that name the same key take turns from here until each ends
    (PostgreSQL's transaction-level advisory locks, taken in the order given: callers keep
    one order of kinds, so two of them never wait for each other; SQLite's write transaction
    holds the whole database already). Take them before reading what a limit counts."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine) and keys:
        locks = ", ".join(f"pg_advisory_xact_lock({_lock_id(key)})" for key in keys)
        await engine.run_ddl(f"SELECT {locks}")


def _lock_id(key: str) -> int:
    """A stable signed 64-bit number for an advisory lock's key."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_postgres() -> bool:
    """True when the tables are bound to PostgreSQL."""
    return isinstance(current_engine(), PostgresEngine)


def is_transient(error: BaseException) -> bool:
    """True for a failure that a retry a little later can get past: the database busy,
    restarting or unreachable for a moment (its host's name included), a lost connection,
    a cancelled statement, a serialization conflict or a lock not available."""
    import sqlite3

    import asyncpg

    if isinstance(error, sqlite3.OperationalError):
        return True
    if isinstance(
        error,
        asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.SerializationError
        | asyncpg.exceptions.DeadlockDetectedError
        | asyncpg.exceptions.OperatorInterventionError  # shutdown, crash, cancel, starting
        | asyncpg.exceptions.LockNotAvailableError
        | asyncpg.exceptions.TooManyConnectionsError
        | asyncpg.exceptions.InsufficientResourcesError,  # disk full, out of memory
    ):
        return True
    return isinstance(error, OSError)  # connections, timeouts, name lookups, a full disk
