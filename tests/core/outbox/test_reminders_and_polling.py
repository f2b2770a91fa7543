"""Reminders when the window opens, and long polling feeding the webhook's path."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from pokaznyk_core.cli.platforms import _poll_round
from pokaznyk_core.outbox import send_reminders
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import LinkedAccount, MessengerIdentity, OutboxMessage
from pokaznyk_core.testing import FixedClock, make_meter_fixture
from pokaznyk_core.testing_platforms import FakeTelegram


async def linked_identity(context: ServiceContext, user: str, *, reminders: bool = True) -> int:
    fixture = await make_meter_fixture(context)
    now = context.now()
    [identity] = await MessengerIdentity.insert(
        MessengerIdentity(
            channel="telegram",
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
    return fixture.account_id


async def reminders_to(user: str) -> int:
    return (
        await OutboxMessage.count()
        .where(OutboxMessage.recipient == user)
        .where(OutboxMessage.dedupe_key.like("remind:%"))
    )


async def test_reminds_an_opted_in_linked_user_once_per_window(
    platforms_context: ServiceContext,
) -> None:
    await linked_identity(platforms_context, "rem-1")
    await linked_identity(platforms_context, "rem-2", reminders=False)
    assert await send_reminders(platforms_context) >= 1
    assert await send_reminders(platforms_context) == 0
    assert await reminders_to("rem-1") == 1
    assert await reminders_to("rem-2") == 0


async def test_does_not_remind_outside_the_window(
    platforms_context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    await linked_identity(platforms_context, "rem-3")
    assert await send_reminders(platforms_context) == 0
    assert await reminders_to("rem-3") == 0


async def test_polling_hands_updates_to_the_dialog_and_moves_the_offset(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    user = {"id": 990_001, "is_bot": False, "first_name": "Олена"}
    message = {
        "message_id": 1,
        "from": user,
        "chat": {"id": 990_001, "type": "private"},
        "date": 1,
        "text": "/start",
    }
    fake_telegram.updates.append({"update_id": 500, "message": message})
    async with httpx.AsyncClient() as client:
        handled, offset = await _poll_round(client, platforms_context, 0, wait_seconds=0)
        assert (handled, offset) == (1, 501)
        assert await _poll_round(client, platforms_context, offset, wait_seconds=0) == (0, 501)
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "990001") >= 1
