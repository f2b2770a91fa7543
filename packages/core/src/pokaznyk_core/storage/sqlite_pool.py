"""A SQLite engine that reuses its connections and queues writers in the event loop.

Piccolo's SQLiteEngine opens a new connection (a new thread, the file, the schema) for
every query outside a transaction and for every transaction, and repeats `PRAGMA
foreign_keys` before every statement; writers that meet wait in SQLite's busy handler,
which sleeps in growing steps (long tails under load). This engine keeps idle connections
for reuse (each set up once: foreign keys on, WAL with `synchronous=NORMAL`, a busy timeout)
and lets the write transactions of one process take turns on an asyncio lock, so only
writers of other processes ever meet SQLite's busy handler.

`synchronous=NORMAL` in WAL mode never corrupts the database and loses nothing when a
process dies; only a power cut or an OS crash can drop the last transactions (see
docs/adr/0003-sqlite-connections.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import weakref
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.table import Table

IDLE_CONNECTIONS = 32
BUSY_TIMEOUT_MS = 30_000

T = TypeVar("T")


class _Lease:
    """A pooled connection as Piccolo's transaction sees it: `close()` gives it back."""

    def __init__(self, engine: PooledSQLiteEngine, connection: aiosqlite.Connection) -> None:
        self._engine = engine
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def close(self) -> None:
        await self._engine.release(self._connection)


def _int_out(value: bytes) -> int:
    """INTEGER columns as `int`: Piccolo's converter parses every value through a Decimal
    (to accept a stray "1.0"); plain digits, all this service writes, take the fast way."""
    try:
        return int(value)
    except ValueError:
        return int(Decimal(value.decode()))


async def _in_thread(connection: Any, work: Callable[[sqlite3.Connection], T]) -> T:
    """`work(the sqlite3 connection)` in the aiosqlite connection's thread.

    aiosqlite has no public call for this; `_execute` and `_conn` are its own way of
    running a function in the connection's thread (pinned by uv.lock, covered by the
    dialog tests on SQLite)."""
    run: Callable[..., Awaitable[T]] = connection._execute
    return await run(work, connection._conn)


class PooledSQLiteEngine(SQLiteEngine):
    """SQLiteEngine with reused connections and in-process queuing of write transactions."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        # Converters are per process (the sqlite3 module's); this one replaces Piccolo's.
        sqlite3.register_converter("INTEGER", _int_out)
        self._idle: list[aiosqlite.Connection] = []
        self._all: set[aiosqlite.Connection] = set()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def write_lock(self) -> asyncio.Lock:
        """The lock the write transactions of this process take turns on (per event loop)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def acquire(self) -> aiosqlite.Connection:
        """An idle connection, or a new one set up for the service."""
        if self._idle:
            return self._idle.pop()
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA synchronous = NORMAL")
        self._all.add(connection)
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        """Give a connection back (rolled back if a transaction was left open)."""
        try:
            if connection.in_transaction:
                await connection.rollback()
        except sqlite3.Error:
            await self._discard(connection)
            return
        if len(self._idle) < IDLE_CONNECTIONS:
            self._idle.append(connection)
        else:
            await self._discard(connection)

    async def _discard(self, connection: aiosqlite.Connection) -> None:
        self._all.discard(connection)
        with contextlib.suppress(sqlite3.Error):
            await connection.close()

    async def close_connections(self) -> None:
        """Close every connection (their threads end with them)."""
        for connection in list(self._all):
            await self._discard(connection)
        self._idle.clear()

    async def run_in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with a pooled connection in that connection's own thread: any number
        of reading statements for one hop from the event loop."""
        return await self._run_leased(work)

    async def run_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction of its own, in a pooled connection's thread
        (one hop), in its turn among this process's writers: committed when `work`
        returns, rolled back when it raises."""

        def transaction(connection: sqlite3.Connection) -> T:
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        async with self.write_lock():  # the lock first: waiting writers hold no connection
            return await self._run_leased(transaction)

    async def _run_leased(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = await self.acquire()
        try:
            return await _in_thread(connection, work)
        finally:
            await self.release(connection)

    async def run_in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the open write transaction's connection, in its thread (one hop
        for several statements of that transaction)."""
        transaction = self.current_transaction.get()
        if transaction is None:
            raise RuntimeError("run_in_transaction needs an open transaction")
        return await _in_thread(transaction.connection, work)

    async def get_connection(self) -> Any:
        return _Lease(self, await self.acquire())

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        connection = await self.acquire()
        try:
            rows = await connection.execute_fetchall(query, args or [])
            if connection.in_transaction:
                await connection.commit()
            return rows
        finally:
            await self.release(connection)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # One hop to the connection's thread instead of three (execute, fetch, close).
        return await connection.execute_fetchall(query, args or [])
