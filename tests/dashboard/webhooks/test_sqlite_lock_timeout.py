"""SQLite: a message that waits longer than the serving process's statement timeout for
another process's writer (a `pokaznyk worker`, a second `serve` worker, a command) is
answered 429, stores nothing, and is handled once when the platform delivers it again."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.dashboard.webhooks.conftest import TELEGRAM_SECRET, client_for
from tests.dashboard.webhooks.test_statement_timeout import (
    nothing_stored_then_handled_once,
    update,
    version,
)

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import connect, upgrade
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.testing import FixedClock

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


@pytest.fixture(scope="module")
async def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("locked") / "pokaznyk.sqlite"
    database = await connect(f"sqlite:///{path}", create=True)
    await upgrade(database)
    await database.close()
    return path


@pytest.fixture
async def web(sqlite_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app opening its own database, as `serve` does, with a one-second timeout."""
    settings = Settings(
        database_url=f"sqlite:///{sqlite_file}",
        telegram_bot_token="123:test",
        telegram_secret_token=TELEGRAM_SECRET,
        telegram_api_base="http://127.0.0.1:9",
        statement_timeout_seconds=1,
        extra={"outbox_in_serve": "0"},
    )
    async for client in client_for(ServiceContext(settings=settings, clock=FixedClock()), None):
        yield client


async def test_a_message_held_up_by_another_writer_is_answered_429_and_handled_once_later(
    web: httpx.AsyncClient, sqlite_file: Path
) -> None:
    started = await web.post("/webhooks/telegram", json=update(1, "/start"), headers=HEADERS)
    assert started.status_code == 200
    before = await version()
    replies_before = await OutboxMessage.count()
    held = update(2, "меню")

    other = sqlite3.connect(sqlite_file, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writing, for longer than 1 s
        answer = await asyncio.wait_for(
            web.post("/webhooks/telegram", json=held, headers=HEADERS), timeout=20
        )
        assert answer.status_code == 429
        assert answer.headers["Retry-After"]
        other.execute("ROLLBACK")
    finally:
        other.close()

    await nothing_stored_then_handled_once(web, held, before, replies_before)
