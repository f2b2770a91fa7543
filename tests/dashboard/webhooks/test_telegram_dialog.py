"""A whole conversation through the Telegram webhook, then the outbox worker delivering it."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import httpx
from tests.dashboard.webhooks.chats import confirm_button, deliver_outbox
from tests.dashboard.webhooks.conftest import TELEGRAM_SECRET

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import OutboxMessage, Reading
from pokaznyk_core.testing import make_meter_fixture
from pokaznyk_core.testing_platforms import FakeTelegram

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
_update_ids = count(20_000)


class TelegramUser:
    """A customer typing and pressing buttons in a private chat with the bot."""

    def __init__(self, web: httpx.AsyncClient, user_id: int) -> None:
        self.web = web
        self.user = {"id": user_id, "is_bot": False, "first_name": "Олена", "language_code": "uk"}

    async def _post(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        seen = await OutboxMessage.count().where(OutboxMessage.recipient == str(self.user["id"]))
        response = await self.web.post("/webhooks/telegram", json=update, headers=HEADERS)
        assert response.status_code == 200
        rows = await (
            OutboxMessage.select(OutboxMessage.payload)
            .where(OutboxMessage.recipient == str(self.user["id"]))
            .order_by(OutboxMessage.id)
        )
        replies = [json.loads(r["payload"]).get("reply") for r in rows[seen:]]
        return [r for r in replies if r is not None]

    async def says(self, text: str) -> list[dict[str, Any]]:
        chat = {"id": self.user["id"], "type": "private"}
        message = {"message_id": 1, "from": self.user, "chat": chat, "date": 1, "text": text}
        return await self._post({"update_id": next(_update_ids), "message": message})

    async def presses(self, payload: str) -> list[dict[str, Any]]:
        query = {
            "id": f"cb-{next(_update_ids)}",
            "from": self.user,
            "chat_instance": "c",
            "data": payload,
        }
        return await self._post({"update_id": next(_update_ids), "callback_query": query})


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for reply in replies for row in reply["buttons"] for b in row]


async def test_a_customer_verifies_submits_and_gets_a_receipt_delivered_by_the_worker(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fixture = await make_meter_fixture(web_context, zone_count=1)
    customer = TelegramUser(web, 880_001)

    greeting = await customer.says("/start")
    assert "menu:submit" in payloads(greeting)
    ask_account = await customer.presses("menu:submit")
    assert ask_account and ask_account[-1]["input_hint"] == "digits"
    await customer.says(fixture.account_number)
    ask_value = await customer.says(fixture.surname)
    assert ask_value[-1]["input_hint"] == "digits_decimal"
    preview = await customer.says("1300")
    receipt = await customer.presses(confirm_button(preview))

    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    assert reading["channel"] == "telegram"
    assert reading["receipt"] in receipt[0]["text"]

    await deliver_outbox(web_context)
    texts = [m["text"] for m in fake_telegram.sent_messages() if m["chat_id"] == 880_001]
    assert sum(reading["receipt"] in t for t in texts) == 1
    assert len(fake_telegram.calls("/answerCallbackQuery")) == 2
    pending = await OutboxMessage.count().where(OutboxMessage.status == "pending")
    assert pending == 0
