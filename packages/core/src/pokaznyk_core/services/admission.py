"""How many customer messages one server process handles at once; the others wait their
turn in the order they arrived.

A message waits for the database several times (a snapshot read and a commit; a
verification or a submission six to eight round trips on PostgreSQL), and each time it
queues for a pooled connection or the SQLite write lock behind messages that arrived after
it. Under load that order of service, not the work, made the slow tail: 64 messages at
once on PostgreSQL gave a p99 three to four times the mean. Admitted a few at a time, in
order, a message waits once, at the door, and then runs with what it needs at hand
(docs/performance.md, sixth session).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.transactions import current_engine

_doors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)
_admitted: ContextVar[asyncio.Task[object] | None] = ContextVar(
    "pokaznyk_admitted_task", default=None
)
"""The task that holds a place, as seen from inside it (a task it starts inherits the
variable but is another task: it waits at the door like any other)."""


def _door(size: int) -> asyncio.Semaphore:
    """The event loop's semaphore for `size` messages at once (a loop per test, a loop per
    server process). asyncio's semaphore wakes its waiters in the order they came."""
    by_size = _doors.setdefault(asyncio.get_running_loop(), {})
    door = by_size.get(size)
    if door is None:
        door = by_size[size] = asyncio.Semaphore(size)
    return door


@asynccontextmanager
async def message_turn(context: ServiceContext) -> AsyncIterator[None]:
    """Wait until this process handles fewer than `messages_at_once` messages, then hold a
    place while the body runs.

    Taken once per message, outside any transaction: inside one (a caller that holds the
    SQLite write lock or a locked row) it would wait for messages that wait for that lock,
    so there, as inside a message already admitted, it lets the body run at once."""
    task = asyncio.current_task()
    if _admitted.get() is task or current_engine().current_transaction.get() is not None:
        yield
        return
    async with _door(context.settings.messages_at_once):
        admitted = _admitted.set(task)
        try:
            yield
        finally:
            _admitted.reset(admitted)
