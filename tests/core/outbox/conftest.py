"""Fixtures of the outbox tests: fake platform servers and a context pointing at them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pokaznyk_core.outbox.queue import enqueue
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import LinkedAccount, MessengerIdentity, OutboxMessage
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture
from pokaznyk_core.testing_platforms import FakeGraph, FakeTelegram, FakeViber


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API on a free port."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def fake_viber() -> AsyncIterator[FakeViber]:
    """A fake Viber REST API on a free port."""
    async with FakeViber() as fake:
        yield fake


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraph]:
    """A fake Graph Send API on a free port."""
    async with FakeGraph() as fake:
        yield fake


@pytest.fixture
async def platforms_context(
    database: Database,
    clock: FixedClock,
    fake_telegram: FakeTelegram,
    fake_viber: FakeViber,
    fake_graph: FakeGraph,
) -> ServiceContext:
    """A context whose platform settings point at the fakes; the outbox starts empty."""
    await OutboxMessage.delete(force=True)
    settings = Settings(
        database_url=database.url,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base=fake_telegram.url,
        viber_auth_token=fake_viber.auth_token,
        viber_api_base=fake_viber.api_base,
        messenger_page_token=fake_graph.page_token,
        graph_api_base=fake_graph.url,
    )
    return ServiceContext(settings=settings, clock=clock)


async def queue_thanks(context: ServiceContext, recipient: str) -> None:
    """A reply to a Telegram user, waiting in the outbox."""
    reply = {"reply": {"text": "Дякуємо", "buttons": []}, "kind": "reply"}
    await enqueue("telegram", recipient, reply, now=context.now(), dedupe_key=None)


async def until_sent(fake: FakeTelegram, seconds: float = 5.0) -> None:
    """Wait until the fake Bot API was sent a message (or `seconds` went by)."""
    for _ in range(int(seconds / 0.02)):
        if fake.sent_messages():
            return
        await asyncio.sleep(0.02)


async def linked_identity(
    context: ServiceContext, user: str, *, reminders: bool = True, channel: str = "telegram"
) -> MeterFixture:
    """A customer `user` of `channel`, linked to a new account with one meter."""
    fixture = await make_meter_fixture(context)
    now = context.now()
    [identity] = await MessengerIdentity.insert(
        MessengerIdentity(
            channel=channel,
            platform_user_id=user,
            language="uk",
            reminders=reminders,
            subscribed=True,
            created_at=now,
        )
    ).returning(MessengerIdentity.id)
    await LinkedAccount.insert(
        LinkedAccount(
            identity=identity["id"], account=fixture.account_id, method="holder", linked_at=now
        )
    )
    return fixture
