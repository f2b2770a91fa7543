"""A SQLite engine that reuses its connections, queues writers in the event loop and runs
the statements of a write transaction on the event loop itself.

Piccolo's SQLiteEngine opens a new connection (a new thread, the file, the schema) for
every query outside a transaction and for every transaction, and repeats `PRAGMA
foreign_keys` before every statement; writers that meet wait in SQLite's busy handler,
which sleeps in growing steps (long tails under load). This engine keeps idle connections
for reuse (each set up once: foreign keys on, WAL with `synchronous=NORMAL`, a busy timeout)
and lets the write transactions of one process take turns on an asyncio lock, so only
writers of other processes ever meet SQLite's busy handler.

Once `BEGIN IMMEDIATE` holds the database's write lock, nothing in the transaction can wait
for another connection (in WAL mode readers never block the writer, and a commit appends to
the WAL without a sync: SQLite's automatic checkpoint, which would sync inside a commit, is
off, and the engine checkpoints every `CHECKPOINT_EVERY_COMMITS` commits in a connection's
thread). Its statements, its commit and the dialog's short reads therefore run on the event
loop: a hop to the connection's thread and back cost more CPU than those statements (about
50 µs a hop, measured). What may have to wait for another process (`BEGIN IMMEDIATE`, and
a read in rare cases such as a WAL recovery) is tried without waiting and otherwise waits
in the connection's thread; a connection whose wait was abandoned is closed, never lent
again. Queries outside a transaction (the dashboard's statistics can be long) still run in
the connection's thread. See docs/adr/0005-sqlite-statements-on-the-loop.md.

`synchronous=NORMAL` in WAL mode never corrupts the database and loses nothing when a
process dies; only a power cut or an OS crash can drop the last transactions (see
docs/adr/0003-sqlite-connections.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.table import Table

IDLE_CONNECTIONS = 32
BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_EVERY_COMMITS = 200
"""How often a process checkpoints the WAL into the database file, in its commits. SQLite's
own automatic checkpoint would run inside a commit, on the event loop, with a sync of the
file; this one runs in a connection's thread while the process's writers wait their turn
(PASSIVE: readers and other processes are never blocked)."""

T = TypeVar("T")
log = logging.getLogger("pokaznyk.storage")


class _Lease:
    """A pooled connection as Piccolo's transaction sees it: `close()` gives it back. Once
    an IMMEDIATE (or EXCLUSIVE) transaction began on it, its statements run on the event
    loop (`fetch_all`); a DEFERRED one may still have to wait, so it stays in the thread."""

    def __init__(self, engine: PooledSQLiteEngine, connection: aiosqlite.Connection) -> None:
        self._engine = engine
        self._connection = connection
        self.holds_write_lock = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def execute(self, sql: str, parameters: Any = ()) -> Any:
        """The transaction's own statements: begin, commit, rollback, savepoints."""
        if sql in ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"):
            await begin(self._connection, sql)
            self.holds_write_lock = True
            return None
        if self.holds_write_lock:
            result = _sqlite(self._connection).execute(sql, parameters)
            self.holds_write_lock = _sqlite(self._connection).in_transaction
            if sql == "COMMIT":
                self._engine.committed()
            return result
        _be_patient(self._connection, True)
        return await self._connection.execute(sql, parameters)

    async def fetch_all(self, sql: str, parameters: Any) -> Any:
        """One statement's rows: on the event loop while this connection holds the write
        lock, in its thread otherwise (one hop instead of execute, fetch and close)."""
        if self.holds_write_lock:
            return _sqlite(self._connection).execute(sql, parameters).fetchall()
        _be_patient(self._connection, True)
        return await self._connection.execute_fetchall(sql, parameters)

    async def close(self) -> None:
        await self._engine.release(self._connection)


def _date_out(value: bytes) -> date:
    return date.fromisoformat(value.decode())


def _timestamptz_out(value: bytes) -> datetime:
    return datetime.fromisoformat(value.decode()).replace(tzinfo=UTC)


def _boolean_out(value: bytes) -> bool:
    return value == b"1"


def _numeric_out(value: bytes) -> Decimal:
    return Decimal(value.decode())


_CONVERTERS: dict[str, Callable[[bytes], Any]] = {
    "DATE": _date_out,
    "TIMESTAMPTZ": _timestamptz_out,
    "BOOLEAN": _boolean_out,
    "NUMERIC": _numeric_out,
}
"""Piccolo's converters for these types, taking the driver's bytes directly (Piccolo's
accept str or bytes through a wrapper, for its array columns, which keep their own)."""


def _use_fast_converters() -> None:
    """Converters are per process (the sqlite3 module's). INTEGER values come back as the
    driver's own ints (Piccolo's converter parsed each through a Decimal, to accept "1.0";
    an INTEGER column's affinity already stores that as 1), the others without a wrapper:
    a dialog step reads about 75 such values, each a Python call or two fewer."""
    sqlite3.converters.pop("INTEGER", None)
    for name, converter in _CONVERTERS.items():
        sqlite3.register_converter(name, converter)


def _sqlite(connection: aiosqlite.Connection) -> sqlite3.Connection:
    """The aiosqlite connection's sqlite3 connection, to use on the event loop (it was
    opened with `check_same_thread=False`; each connection is leased to one task at a time,
    so its thread is idle meanwhile).

    aiosqlite has no public name for it; `_conn` is pinned by uv.lock and covered by the
    dialog tests on SQLite."""
    found: sqlite3.Connection = connection._conn
    return found


async def _in_thread(
    connection: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]
) -> T:
    """`work(the sqlite3 connection)` in the aiosqlite connection's thread (aiosqlite's own
    `_execute`, pinned like `_conn`)."""
    run: Callable[..., Awaitable[T]] = connection._execute
    return await run(work, _sqlite(connection))


_patient: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()
"""Connections whose busy timeout is their engine's (`_patience`); the others' is 0."""
_patience: weakref.WeakKeyDictionary[aiosqlite.Connection, int] = weakref.WeakKeyDictionary()
"""Each connection's busy timeout when it waits, in milliseconds (its engine's)."""


def _be_patient(connection: aiosqlite.Connection, patient: bool) -> None:
    """Give the connection (leased, idle in its thread) SQLite's busy timeout when it is
    to run in its thread, where waiting for another process is harmless, or none on the
    event loop, where a wait would hold up every request. Only a change runs a PRAGMA: it
    costs what a short statement does, and the dialog's connections stay on the loop."""
    if (connection in _patient) is patient:
        return
    waits = _patience.get(connection, BUSY_TIMEOUT_MS) if patient else 0
    _pragma(_sqlite(connection), f"busy_timeout = {waits}")
    if patient:
        _patient.add(connection)
    else:
        _patient.discard(connection)


_unsettled: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()
"""Connections whose wait in their thread was abandoned (the task was cancelled): the
statement may still run there, so they are closed, never lent again."""


async def _without_waiting(
    connection: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]
) -> T:
    """`work` on the event loop if the database lets it through at once, else (another
    process holds what it needs) in the connection's thread, where SQLite's busy handler
    may wait up to the busy timeout while the loop goes on. `work` must be safe to run
    again after a "database is locked" (no transaction of its own left open)."""
    raw = _sqlite(connection)
    _be_patient(connection, False)
    try:
        return work(raw)
    except sqlite3.OperationalError as error:
        if raw.in_transaction or "locked" not in str(error):
            raise
    _be_patient(connection, True)
    try:
        return await _in_thread(connection, work)
    except BaseException:
        _unsettled.add(connection)
        raise


async def begin(connection: aiosqlite.Connection, sql: str = "BEGIN IMMEDIATE") -> None:
    """Open a transaction: on the event loop when the write lock is free, or else waiting
    for another process's writer in the connection's thread."""

    def execute(raw: sqlite3.Connection) -> None:
        raw.execute(sql)

    await _without_waiting(connection, execute)


def _pragma(raw: sqlite3.Connection, pragma: str) -> list[Any]:
    """Run a PRAGMA to its end: a cursor left unread would keep its statement open, and
    SQLite refuses to commit while one is."""
    return raw.execute(f"PRAGMA {pragma}").fetchall()


class PooledSQLiteEngine(SQLiteEngine):
    """SQLiteEngine with reused connections and in-process queuing of write transactions."""

    def __init__(
        self, path: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, **connection_kwargs: Any
    ) -> None:
        super().__init__(path=path, **connection_kwargs)
        self.busy_timeout_ms = busy_timeout_ms
        """How long a statement waits for another process's writer before "database is
        locked" (a passing failure: a webhook answers 429 and the platform retries)."""
        _use_fast_converters()
        self._idle: list[aiosqlite.Connection] = []
        self._all: set[aiosqlite.Connection] = set()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def committed(self) -> None:
        """Count a commit; every `CHECKPOINT_EVERY_COMMITS` start a checkpoint in a
        connection's thread (one at a time)."""
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY_COMMITS:
            return
        if self._checkpoint is None or self._checkpoint.done():
            self._commits = 0
            self._checkpoint = asyncio.get_running_loop().create_task(self._run_checkpoint())

    async def _run_checkpoint(self) -> None:
        # This process's writers wait meanwhile: a checkpoint that frames keep arriving
        # behind never catches up with the WAL's end, and SQLite starts the WAL again from
        # its beginning only once every frame was copied, so under a steady load the file
        # grew without bound (seen: 50 MB in 1,500 commits on a slow machine). Readers go on.
        async with self.write_lock():
            connection = await self.acquire()
            try:
                await _in_thread(connection, lambda raw: _pragma(raw, "wal_checkpoint(PASSIVE)"))
            except sqlite3.Error as error:  # the next one will try again
                log.warning("SQLite checkpoint failed: %s", error)
            except BaseException:  # cancelled: the thread may still be checkpointing
                _unsettled.add(connection)
                raise
            finally:
                await self.release(connection)

    def write_lock(self) -> asyncio.Lock:
        """The lock the write transactions of this process take turns on (per event loop)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    @contextlib.asynccontextmanager
    async def writer_turn(self) -> AsyncIterator[None]:
        """This process's turn to write, waited for at most the busy timeout: a writer of
        another process holding the file holds every one of ours up, and each would then
        wait its own busy timeout after the one before it; past it, the wait fails as
        SQLite's own does ("database is locked", a passing failure)."""
        lock = self.write_lock()
        if lock.locked():  # only a wait needs its deadline; a free turn is taken at once
            try:
                async with asyncio.timeout(self.busy_timeout_ms / 1000):
                    await lock.acquire()
            except TimeoutError:
                locked = "database is locked (this process's writers wait)"
                raise sqlite3.OperationalError(locked) from None
        else:
            await lock.acquire()
        try:
            yield
        finally:
            lock.release()

    async def acquire(self) -> aiosqlite.Connection:
        """An idle connection, or a new one set up for the service."""
        if self._idle:
            return self._idle.pop()
        # Used on the event loop as well as in its own thread (see the module docstring).
        connection = await aiosqlite.connect(**self.connection_kwargs, check_same_thread=False)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        _patience[connection] = self.busy_timeout_ms
        _patient.add(connection)
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA wal_autocheckpoint = 0")  # see `committed`
        self._all.add(connection)
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        """Give a connection back (rolled back if a transaction was left open)."""
        if connection in _unsettled:
            # Closed once what it still runs ends (closing rolls back a BEGIN that got
            # through), without holding up the task that gave it back.
            self._all.discard(connection)
            closing = asyncio.get_running_loop().create_task(self._discard(connection))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            return
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
        """Close every connection (their threads end with them), after the checkpoint
        under way."""
        for task in [self._checkpoint, *self._closing]:
            if task is not None:
                with contextlib.suppress(Exception):
                    await task
        for connection in list(self._all):
            await self._discard(connection)
        self._idle.clear()

    async def run_short_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work`, a few short reading statements, with a pooled connection on the
        event loop (in WAL mode a reader does not wait for a writer; in the rare case it
        must, as while another process recovers the WAL, it waits in the thread)."""
        connection = await self.acquire()
        try:
            return await _without_waiting(connection, work)
        finally:
            await self.release(connection)

    async def run_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction of its own, in its turn among this process's
        writers, on the event loop once the transaction began: committed when `work`
        returns, rolled back when it raises."""
        async with self.writer_turn():  # the turn first: waiting writers hold no connection
            connection = await self.acquire()
            try:
                await begin(connection)
                raw = _sqlite(connection)
                try:
                    result = work(raw)
                except BaseException:
                    if raw.in_transaction:
                        raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
                self.committed()
                return result
            finally:
                await self.release(connection)

    async def run_in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the open write transaction's connection, on the event loop."""
        transaction = self.current_transaction.get()
        if transaction is None:
            raise RuntimeError("run_in_transaction needs an open transaction")
        lease: _Lease = transaction.connection
        if not lease.holds_write_lock:
            raise RuntimeError("run_in_transaction needs an IMMEDIATE transaction")
        return work(_sqlite(lease._connection))

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
            _be_patient(connection, True)
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
        if isinstance(connection, _Lease):
            return await connection.fetch_all(query, args or [])
        # One hop to the connection's thread instead of three (execute, fetch, close).
        _be_patient(connection, True)
        return await connection.execute_fetchall(query, args or [])
