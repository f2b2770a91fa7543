"""PostgreSQL: a message whose statement waits longer than the serving process's statement
timeout (a lock held elsewhere, a lost connection) is answered 429, stores nothing, and is
handled once when the platform delivers it again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from tests.conftest import drop_postgres_database, upgraded_postgres_database
from tests.dashboard.webhooks.conftest import TELEGRAM_SECRET, client_for

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.tables import DialogState, OutboxMessage, ProcessedUpdate
from pokaznyk_core.testing import FixedClock

USER = 4_242_001
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


@pytest.fixture(scope="module")
async def postgres_url() -> AsyncIterator[str]:
    url = await upgraded_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def web(postgres_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app opening its own database, as `serve` does, with a one-second timeout."""
    settings = Settings(
        database_url=postgres_url,
        telegram_bot_token="123:test",
        telegram_secret_token=TELEGRAM_SECRET,
        telegram_api_base="http://127.0.0.1:9",
        statement_timeout_seconds=1,
        extra={"outbox_in_serve": "0"},
    )
    async for client in client_for(ServiceContext(settings=settings, clock=FixedClock()), None):
        yield client


def update(update_id: int, text: str) -> dict[str, object]:
    sender = {"id": USER, "is_bot": False, "first_name": "Олена", "language_code": "uk"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": sender,
            "chat": {"id": USER, "type": "private"},
            "date": 1_790_000_000,
            "text": text,
        },
    }


async def version() -> int:
    row = (
        await DialogState.select(DialogState.version)
        .where(DialogState.platform_user_id == str(USER))
        .first()
    )
    assert row is not None
    return int(row["version"])


async def test_a_message_held_up_past_the_timeout_is_answered_429_and_handled_once_later(
    web: httpx.AsyncClient, postgres_url: str
) -> None:
    assert (
        await web.post("/webhooks/telegram", json=update(1, "/start"), headers=HEADERS)
    ).status_code == 200
    before = await version()
    replies_before = await OutboxMessage.count()
    held = update(2, "меню")

    other = await asyncpg.connect(postgres_url)
    try:
        await other.execute("BEGIN")
        await other.execute(
            "SELECT 1 FROM dialog_state WHERE platform_user_id = $1 FOR UPDATE", str(USER)
        )
        answer = await asyncio.wait_for(
            web.post("/webhooks/telegram", json=held, headers=HEADERS), timeout=20
        )
        assert answer.status_code == 429
        assert answer.headers["Retry-After"]
        await other.execute("ROLLBACK")
    finally:
        await other.close()

    await nothing_stored_then_handled_once(web, held, before, replies_before)


async def nothing_stored_then_handled_once(
    web: httpx.AsyncClient, held: dict[str, object], before: int, replies_before: int
) -> None:
    """The held message left nothing behind; delivered twice again, it is handled once."""
    assert await version() == before
    assert await OutboxMessage.count() == replies_before
    assert not await ProcessedUpdate.exists().where(ProcessedUpdate.update_key == "2")

    again = await web.post("/webhooks/telegram", json=held, headers=HEADERS)
    twice = await web.post("/webhooks/telegram", json=held, headers=HEADERS)

    assert (again.status_code, twice.status_code) == (200, 200)
    assert await version() == before + 1
    assert await OutboxMessage.count() > replies_before
    assert await ProcessedUpdate.count().where(ProcessedUpdate.update_key == "2") == 1
