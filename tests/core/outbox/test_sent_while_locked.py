"""SQLite: a message the platform accepted while another process held the database's write
lock is recorded as sent once the lock is free, and never sent again."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.outbox import send_due
from pokaznyk_core.outbox.queue import enqueue
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database, connect, upgrade
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.testing import FixedClock
from pokaznyk_core.testing_platforms import Answer, FakeTelegram, RecordedRequest


@dataclass
class LockingTelegram(FakeTelegram):
    """A Bot API that accepts a message while another process takes the write lock, for
    longer than the sender's busy timeout."""

    path: Path | None = None
    holder: sqlite3.Connection | None = None

    def answer(self, request: RecordedRequest) -> Answer:
        if request.path.endswith("/sendMessage") and self.holder is None:
            assert self.path is not None
            self.holder = sqlite3.connect(self.path, isolation_level=None)
            self.holder.execute("BEGIN IMMEDIATE")
            asyncio.get_running_loop().call_later(2.0, self.holder.execute, "ROLLBACK")
        return super().answer(request)


@pytest.fixture
async def locked_database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'pokaznyk.sqlite'}"
    database = await connect(url, create=True, statement_timeout=1)  # waits 0.5 s at most
    await upgrade(database)
    yield database
    await database.close()


async def test_a_sent_message_is_recorded_after_the_lock_and_not_sent_again(
    locked_database: Database, tmp_path: Path
) -> None:
    clock = FixedClock()
    async with LockingTelegram(path=tmp_path / "pokaznyk.sqlite") as fake:
        context = ServiceContext(
            settings=Settings(
                database_url=locked_database.url,
                telegram_bot_token=fake.token,
                telegram_api_base=fake.url,
            ),
            clock=clock,
        )
        reply = {"reply": Reply(text="Дякуємо").to_json()}
        message_id = await enqueue("telegram", "1201", reply, now=context.now())
        async with httpx.AsyncClient() as client:
            assert await send_due(context, client) == 1
            clock.advance(timedelta(minutes=10))  # past the lease of a message left unmarked
            assert await send_due(context, client) == 0
        assert fake.holder is not None
        fake.holder.close()

    assert len(fake.sent_messages()) == 1
    stored = await OutboxMessage.select().where(OutboxMessage.id == message_id).first()
    assert stored is not None and stored["status"] == "sent"
