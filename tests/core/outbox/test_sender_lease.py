"""One process at a time sends the outbox, so the platforms' rate limits hold however many
processes run a worker; another takes over when the sender stops."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tests.core.outbox.conftest import queue_thanks, until_sent

from pokaznyk_core.outbox import run_worker
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.sender_lease import SenderLease
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.testing_platforms import FakeTelegram


async def test_one_holder_at_a_time_and_the_next_takes_over_when_it_lets_go(
    database: Database,
) -> None:
    first, second = SenderLease(database.url), SenderLease(database.url)
    try:
        assert await first.held()
        assert not await second.held()
        assert await first.held()  # still its own
        await first.release()
        assert await second.held()
        assert not await first.held()
    finally:
        await first.release()
        await second.release()


async def test_a_worker_without_the_lease_leaves_the_sending_to_its_holder(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    await queue_thanks(platforms_context, "5005")
    elsewhere = SenderLease(platforms_context.settings.database_url)  # another process
    assert await elsewhere.held()
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(platforms_context, stop, idle_seconds=0.02))
    try:
        await asyncio.sleep(0.3)  # rounds go by: the message waits for the sender
        assert fake_telegram.sent_messages() == []
        await elsewhere.release()  # the sender stopped: this worker takes over
        await until_sent(fake_telegram)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
        await elsewhere.release()

    assert [m["text"] for m in fake_telegram.sent_messages()] == ["Дякуємо"]
    assert await OutboxMessage.count().where(OutboxMessage.status == "sent") == 1


async def test_a_holder_whose_session_the_server_ended_stops_sending(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("PostgreSQL's sessions: SQLite's lock goes with the process")
    holder, other = SenderLease(database.url), SenderLease(database.url)
    try:
        assert await holder.held()
        admin = await asyncpg.connect(database.url)
        try:  # a failover, or an idle connection reaped: the lock is freed silently
            await admin.execute(  # this test's database only: other sessions are not ours
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        finally:
            await admin.close()
        assert await other.held()
        assert not await holder.held()  # it asks, rather than sending on beside the other
    finally:
        await holder.release()
        await other.release()
