"""The real app on the test database, driven in the test's event loop, with fake platforms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.testing import FixedClock
from pokaznyk_core.testing_platforms import FakeGraph, FakeTelegram, FakeViber
from pokaznyk_dashboard.app import create_app

TELEGRAM_SECRET = "tg-secret_123"
VIBER_TOKEN = "viber-test-token"
APP_SECRET = "messenger-app-secret"
VERIFY_TOKEN = "verify-me"


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API on a free port."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def fake_viber() -> AsyncIterator[FakeViber]:
    """A fake Viber REST API on a free port, expecting our auth token."""
    async with FakeViber(auth_token=VIBER_TOKEN) as fake:
        yield fake


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraph]:
    """A fake Graph Send API on a free port."""
    async with FakeGraph() as fake:
        yield fake


@pytest.fixture
def web_context(
    database: Database,
    clock: FixedClock,
    fake_telegram: FakeTelegram,
    fake_viber: FakeViber,
    fake_graph: FakeGraph,
) -> ServiceContext:
    """Every channel configured against the fakes; the outbox worker off so tests send
    when they choose."""
    settings = Settings(
        database_url=database.url,
        telegram_bot_token=fake_telegram.token,
        telegram_secret_token=TELEGRAM_SECRET,
        telegram_api_base=fake_telegram.url,
        viber_auth_token=VIBER_TOKEN,
        viber_api_base=fake_viber.api_base,
        messenger_app_secret=APP_SECRET,
        messenger_verify_token=VERIFY_TOKEN,
        messenger_page_token=fake_graph.page_token,
        graph_api_base=fake_graph.url,
        extra={"outbox_in_serve": "0"},
    )
    return ServiceContext(settings=settings, clock=clock)


async def client_for(
    context: ServiceContext, database: Database | None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in this loop, inside the app's lifespan (without
    `database`, the app opens the settings' database itself, as `serve` does)."""
    app = create_app(context, database=database)
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:  # entered and left in one task, as a server does
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    await asyncio.wait_for(started.wait(), timeout=10)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bot.test") as client:
            yield client
    finally:
        stop.set()
        await task


@pytest.fixture
async def web(web_context: ServiceContext, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with every channel configured."""
    async for client in client_for(web_context, database):
        yield client


@pytest.fixture
async def unconfigured_web(
    database: Database, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with no platform secret configured."""
    context = ServiceContext(
        settings=Settings(database_url=database.url, extra={"outbox_in_serve": "0"}), clock=clock
    )
    async for client in client_for(context, database):
        yield client
