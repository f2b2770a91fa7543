"""Whole Viber dialogs through POST /webhooks/viber, delivered to a fake Viber REST API."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import httpx
import pytest
from tests.dashboard.webhooks.chats import (
    ViberChat,
    deliver_outbox,
    payloads,
    send_once,
    texts,
    viber_signature,
)
from tests.dashboard.webhooks.conftest import VIBER_TOKEN

from pokaznyk_core.outbox import send_reminders
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import OutboxMessage, ProcessedUpdate, Reading
from pokaznyk_core.testing import FixedClock, make_meter_fixture
from pokaznyk_core.testing_platforms import FakeViber

_users = count(1)


def customer(web: httpx.AsyncClient) -> ViberChat:
    return ViberChat(web, f"01234567890A{next(_users):04d}=")


async def test_a_viber_user_verifies_submits_and_the_worker_sends_the_receipt(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_viber: FakeViber
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)

    greeting = await chat.says("/start")
    assert "menu:submit" in payloads(greeting)
    prompt = await chat.verifies(fixture)
    assert prompt[-1]["input_hint"] == "digits_decimal"
    receipt = await chat.submits("2048,3")

    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    assert (reading["value_1"], reading["status"], reading["channel"]) == (
        20483,
        "accepted",
        "viber",
    )
    assert reading["receipt"] in texts(receipt)

    assert await deliver_outbox(web_context) == len(await chat.outbox_rows())
    sent = [m for m in fake_viber.sent_messages() if m["receiver"] == chat.user_id]
    assert len(sent) == len(await chat.replies())
    assert all(m["type"] == "text" and m["text"] and m["sender"]["name"] for m in sent)
    assert all(len(m["sender"]["name"]) <= 28 for m in sent)
    assert any(reading["receipt"] in m["text"] for m in sent)
    assert all(
        call.headers["x-viber-auth-token"] == VIBER_TOKEN
        for call in fake_viber.calls("/pa/send_message")
    )
    keyboards = [m["keyboard"] for m in sent if "keyboard" in m]
    assert keyboards and all(k["Type"] == "keyboard" for k in keyboards)
    bodies = [b["ActionBody"] for k in keyboards for b in k["Buttons"]]
    assert "btn:menu:submit" in bodies and any(b.startswith("btn:confirm:") for b in bodies)


async def test_a_viber_callback_with_a_wrong_signature_is_refused_and_changes_nothing(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("900")
    before = (await chat.dialog(), await chat.outbox_rows())

    confirm = chat.callback({"type": "text", "text": "btn:confirm"})
    forged = await chat.send(confirm, signature=viber_signature(b"another body"))

    assert chat.last_status == 403 and forged == []
    assert (await chat.dialog(), await chat.outbox_rows()) == before
    assert await Reading.count().where(Reading.meter == fixture.meter_id) == 0


async def test_a_redelivered_viber_message_token_stores_nothing_twice(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("901")
    confirm = chat.callback({"type": "text", "text": "btn:confirm"})

    receipt = await chat.send(confirm)
    after_first = (await chat.dialog(), await chat.outbox_rows(), await ProcessedUpdate.count())
    again = await chat.send(confirm)

    assert chat.last_status == 200
    assert receipt and again == []
    assert (await chat.dialog(), await chat.outbox_rows(), await ProcessedUpdate.count()) == (
        after_first
    )
    assert await Reading.count().where(Reading.meter == fixture.meter_id) == 1


async def test_a_viber_api_that_answers_500_then_recovers_delivers_the_receipt_once(
    web: httpx.AsyncClient,
    web_context: ServiceContext,
    fake_viber: FakeViber,
    clock: FixedClock,
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("902")
    await deliver_outbox(web_context)
    receipt = await chat.presses("confirm")
    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    calls_before = len(fake_viber.requests)

    fake_viber.fail_next(1)
    assert await send_once(web_context) == 0
    [failed] = fake_viber.requests[calls_before:]
    assert reading["receipt"] in failed.json()["text"]
    assert await send_once(web_context) == 0  # backing off: not due yet

    clock.advance(timedelta(seconds=5))
    assert await deliver_outbox(web_context) == len(receipt)
    clock.advance(timedelta(hours=1))
    assert await deliver_outbox(web_context) == 0

    retried = fake_viber.requests[calls_before + 1 :]
    assert len(retried) == len(receipt)
    delivered = [r.json() for r in retried if reading["receipt"] in r.json()["text"]]
    assert delivered == [failed.json()]
    assert {r["status"] for r in await chat.outbox_rows()} == {"sent"}


async def test_an_unsubscribed_viber_user_gets_no_reminder_until_subscribed_again(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.says("/start")
    await chat.verifies(fixture)

    async def reminders() -> int:
        return (
            await OutboxMessage.count()
            .where(OutboxMessage.recipient == chat.user_id)
            .where(OutboxMessage.dedupe_key.like("remind:%"))
        )

    await chat.send({"event": "unsubscribed", "timestamp": 1, "user_id": chat.user_id})
    assert chat.last_status == 200
    await send_reminders(web_context)
    assert await reminders() == 0

    user = {"id": chat.user_id, "name": "Олена", "language": "uk", "api_version": 10}
    await chat.send({"event": "subscribed", "timestamp": 2, "user": user, "message_token": 7})
    assert chat.last_status == 200
    await send_reminders(web_context)
    assert await reminders() == 1


@pytest.mark.parametrize("refusal", ["receiverNotRegistered", "receiverNotSubscribed"])
async def test_a_viber_user_who_cannot_be_sent_to_gets_no_reminders_until_they_write_again(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_viber: FakeViber, refusal: str
) -> None:
    """Viber's send_message status 5 (no longer on Viber) or 6 (left the bot) marks the
    user unreachable, as Telegram's "bot was blocked" does; a message from them undoes it."""
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await deliver_outbox(web_context)
    await chat.presses("menu")
    pending = [r for r in await chat.outbox_rows() if r["status"] == "pending"]
    status = {"receiverNotRegistered": 5, "receiverNotSubscribed": 6}[refusal]
    fake_viber.answer_next((200, {"status": status, "status_message": refusal}), len(pending))

    await deliver_outbox(web_context)

    failed = [r for r in await chat.outbox_rows() if r["status"] == "failed"]
    assert len(failed) == len(pending) and refusal in failed[-1]["last_error"]

    async def reminders() -> int:
        await send_reminders(web_context)
        return (
            await OutboxMessage.count()
            .where(OutboxMessage.recipient == chat.user_id)
            .where(OutboxMessage.dedupe_key.like("remind:%"))
        )

    assert await reminders() == 0
    await chat.says("привіт")  # back on Viber and wrote again
    assert await reminders() == 1


async def test_an_unsubscribed_viber_user_who_writes_again_is_subscribed_by_writing(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    """Viber subscribes a user who sends a message without a `subscribed` event; a user
    who only opens the chat is not subscribed."""
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.says("/start")
    await chat.verifies(fixture)
    await chat.send({"event": "unsubscribed", "timestamp": 1, "user_id": chat.user_id})

    async def reminders() -> int:
        await send_reminders(web_context)
        return (
            await OutboxMessage.count()
            .where(OutboxMessage.recipient == chat.user_id)
            .where(OutboxMessage.dedupe_key.like("remind:%"))
        )

    user = {"id": chat.user_id, "name": "Олена", "language": "uk", "api_version": 10}
    opened = {"event": "conversation_started", "timestamp": 2, "message_token": 8}
    await chat.send(opened | {"type": "open", "user": user, "subscribed": False})
    assert chat.last_status == 200
    assert await reminders() == 0
    await chat.says("привіт")
    assert await reminders() == 1


async def test_reminders_switched_off_in_the_dialog_are_not_sent(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.says("/start")
    await chat.verifies(fixture)
    await chat.presses("menu:reminders:off")
    await send_reminders(web_context)
    reminded = OutboxMessage.dedupe_key.like("remind:%")
    mine = OutboxMessage.recipient == chat.user_id
    assert await OutboxMessage.count().where(mine & reminded) == 0
    await chat.presses("menu:reminders:on")  # and on again
    await send_reminders(web_context)
    assert await OutboxMessage.count().where(mine & reminded) == 1


async def test_a_viber_contact_proves_nothing_and_the_account_number_is_asked_for(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context, phones=("+380671112266",))
    chat = customer(web)
    await chat.says("/start")
    await chat.presses("menu:submit")

    card = {"type": "contact", "contact": {"name": "Олена", "phone_number": "+380671112266"}}
    answer = await chat.send(chat.callback(card))

    assert chat.last_status == 200
    assert "digits_decimal" not in [r["input_hint"] for r in answer]
    assert "особового рахунку" in texts(answer)
    await chat.says(fixture.account_number)
    prompt = await chat.says(fixture.surname)
    assert prompt[-1]["input_hint"] == "digits_decimal"
