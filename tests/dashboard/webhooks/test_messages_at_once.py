"""The chat webhooks and the phone line admit a process's customer messages at most
`messages_at_once` at a time: with every place taken a message waits, and is answered once
a place frees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from tests.dashboard.ivr.calls import PUBLIC, TOKEN, Call, gather_of
from tests.dashboard.webhooks.conftest import TELEGRAM_SECRET, client_for

from pokaznyk_core.services.admission import message_turn
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.engine import Database

WAITED = 0.3  # seconds a message is given to get past a door it must not pass


@pytest.fixture
def one_at_a_time(web_context: ServiceContext) -> ServiceContext:
    settings = replace(
        web_context.settings, messages_at_once=1, twilio_auth_token=TOKEN, public_url=PUBLIC
    )
    return replace(web_context, settings=settings)


@pytest.fixture
async def web(
    one_at_a_time: ServiceContext, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(one_at_a_time, database):
        yield client


async def test_a_telegram_message_waits_for_a_place_and_is_then_answered(
    web: httpx.AsyncClient, one_at_a_time: ServiceContext
) -> None:
    update = {
        "update_id": 7_100_001,
        "message": {
            "message_id": 1,
            "from": {"id": 7_100_001, "is_bot": False, "first_name": "Ія"},
            "chat": {"id": 7_100_001, "type": "private"},
            "date": 1_790_000_000,
            "text": "/start",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    async with message_turn(one_at_a_time):
        request = asyncio.create_task(web.post("/webhooks/telegram", json=update, headers=headers))
        done, _ = await asyncio.wait({request}, timeout=WAITED)
        assert not done, "a message got past a door whose only place was taken"
    answer = await asyncio.wait_for(request, 10)
    assert (answer.status_code, answer.json()) == (200, {"ok": True})


async def test_a_phone_step_waits_for_a_place_and_is_then_answered(
    web: httpx.AsyncClient, one_at_a_time: ServiceContext
) -> None:
    call = Call(web, "CA-at-once", "+380671234567")
    async with message_turn(one_at_a_time):
        request = asyncio.create_task(call.post("/ivr/language", "1"))
        done, _ = await asyncio.wait({request}, timeout=WAITED)
        assert not done, "a phone step got past a door whose only place was taken"
    action, said = gather_of(await asyncio.wait_for(request, 10))
    assert action and said
