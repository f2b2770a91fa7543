"""`pokaznyk serve` sends the outbox from inside each process unless told not to."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from tests.dashboard.webhooks.conftest import TELEGRAM_SECRET, client_for

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.testing_platforms import FakeTelegram


def start(user_id: int, update_id: int) -> dict[str, object]:
    sender = {"id": user_id, "is_bot": False, "first_name": "Олена", "language_code": "uk"}
    message = {
        "message_id": 1,
        "from": sender,
        "chat": {"id": user_id, "type": "private"},
        "date": 1,
        "text": "/start",
    }
    return {"update_id": update_id, "message": message}


async def sent_to(fake: FakeTelegram, user_id: int) -> int:
    return sum(1 for m in fake.sent_messages() if m.get("chat_id") == user_id)


async def test_the_app_sends_replies_itself_by_default(
    web_context: ServiceContext, database: Database, fake_telegram: FakeTelegram
) -> None:
    settings = replace(web_context.settings, extra={})  # POKAZNYK_OUTBOX_IN_SERVE unset
    context = replace(web_context, settings=settings)
    async for web in client_for(context, database):
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        response = await web.post("/webhooks/telegram", json=start(771_001, 9_001), headers=headers)
        assert response.status_code == 200
        for _ in range(200):
            if await sent_to(fake_telegram, 771_001):
                break
            await asyncio.sleep(0.05)
    assert await sent_to(fake_telegram, 771_001) >= 1


async def test_outbox_in_serve_off_leaves_sending_to_a_separate_worker(
    web_context: ServiceContext, database: Database, fake_telegram: FakeTelegram
) -> None:
    assert web_context.settings.extra.get("outbox_in_serve") == "0"
    async for web in client_for(web_context, database):
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        response = await web.post("/webhooks/telegram", json=start(771_002, 9_002), headers=headers)
        assert response.status_code == 200
        await asyncio.sleep(1.5)  # longer than the in-process sender's idle wait
    assert await sent_to(fake_telegram, 771_002) == 0
