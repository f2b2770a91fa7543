"""The sender's lease: one process at a time sends the outbox.

The platforms' rate limits (about 30 messages a second across a Telegram bot's chats, one
a second in a chat) are kept by the sending process (`outbox.ratelimit`). With several
processes sending, each would allow the whole rate, and the platform would answer with
flood control. So the workers of every process (`pokaznyk worker`, and each `serve`
worker) take this lease first, and only its holder sends; the others go on queuing
reminders and downloading chat photos, and take the lease over when its holder stops.

On PostgreSQL the lease is a session advisory lock on a connection of its own, released
when the holder's connection closes (the process stopped or died). On SQLite, where the
processes share one machine, it is an exclusive `flock` on a file beside the database,
released when the holder's file is closed (likewise by the kernel when it dies).

Each taking of the lease has a token of its own (`SenderLease.token`), which the holder
writes on the outbox messages it claims: a new holder knows the claims of a former one
(killed mid-send, say) by it and makes them due again at once (`outbox.claims`).
"""

from __future__ import annotations

import logging
import uuid
from typing import IO

import asyncpg

from pokaznyk_core.storage.urls import sqlite_path

try:
    import fcntl
except ImportError:  # not on POSIX: one process is assumed to send
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("pokaznyk.outbox")

LOCK_KEY = 0x706F6B617A6E796B  # "pokaznyk": the advisory lock of the sender's lease
"""The PostgreSQL advisory lock key of the lease (one per database)."""
CHECK_SECONDS = 5.0
"""How long asking the database about the lease may take before it counts as lost."""
KEEPALIVE = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5"}
"""The server notices a holder whose connection died silently (a host gone, a NAT reaped)
in under a minute, and frees its lock for another process."""
_STILL_HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
    " AND pid = pg_backend_pid() AND granted)"
)


class SenderLease:
    """Whether this process may send the outbox; `held()` takes the lease when it is free."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._connection: asyncpg.Connection | None = None
        self._file: IO[bytes] | None = None
        self._held = False
        self.token = ""
        """This taking of the lease ("" while it is not held): a new one each time the
        lease is taken, so claims made under an earlier taking are told apart."""

    async def held(self) -> bool:
        """True when this process holds the lease (taking it now if no other does)."""
        if self._url.startswith("sqlite:///"):
            held = self._held or self._take_file()
        else:
            held = await self._take_lock()
        if not held:
            self.token = ""
        elif not self.token:
            self.token = uuid.uuid4().hex
        return held

    def _take_file(self) -> bool:
        if fcntl is None:
            self._held = True
            return True
        try:
            if self._file is None:
                self._file = open(sqlite_path(self._url) + ".sender", "ab")  # noqa: SIM115
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process sends
            return False
        except OSError as error:  # the lock file cannot be made: nobody could send
            log.warning("outbox: the sender's lease file failed (%s); sending anyway", error)
            return True
        self._held = True
        log.info("outbox: this process sends (it holds the sender's lease)")
        return True

    async def _take_lock(self) -> bool:
        """Ask every round, the holder too: a session ended on the server's side (a
        failover, a reaped idle connection) frees the lock without a word to the holder,
        and another process may take it."""
        was_held, self._held = self._held, False
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(
                    self._url, timeout=CHECK_SECONDS, server_settings=KEEPALIVE
                )
            query = _STILL_HELD if was_held else "SELECT pg_try_advisory_lock($1)"
            args = () if was_held else (LOCK_KEY,)
            taken = await self._connection.fetchval(query, *args, timeout=CHECK_SECONDS)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("outbox: the sender's lease could not be checked: %s", error)
            await self._close_connection()  # the lock goes with the session
            return False
        if taken and not was_held:
            log.info("outbox: this process sends (it holds the sender's lease)")
        if not taken and was_held:
            log.warning("outbox: the sender's lease was lost; another process may send")
            await self._close_connection()
        self._held = bool(taken)
        return self._held

    async def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.close(timeout=2)
        except Exception:  # a dead peer: drop the socket
            connection.terminate()

    async def release(self) -> None:
        """Give the lease up (the next worker to ask takes it)."""
        self._held = False
        self.token = ""
        await self._close_connection()
        if self._file is not None:
            self._file.close()  # closing the file releases its flock
            self._file = None
