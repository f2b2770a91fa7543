"""Whole Telegram dialogs through POST /webhooks/telegram, delivered to a fake Bot API."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from itertools import count
from typing import Any

import httpx
from tests.dashboard.webhooks.chats import (
    TelegramChat,
    confirm_button,
    deliver_outbox,
    payloads,
    send_once,
)

from pokaznyk_core.i18n import translate
from pokaznyk_core.outbox import send_reminders
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import OutboxMessage, Reading
from pokaznyk_core.testing import FixedClock, make_meter_fixture
from pokaznyk_core.testing_platforms import FakeTelegram

A_MONTH_AGO = date(2026, 9, 30)  # the fixed clock says 30 October 2026
_users = count(810_001)


def customer(web: httpx.AsyncClient) -> TelegramChat:
    return TelegramChat(web, str(next(_users)))


async def readings_of(meter_id: int) -> list[dict]:
    return await Reading.select().where(Reading.meter == meter_id)


async def test_a_one_zone_reading_is_stored_in_tenths_and_its_receipt_reaches_the_chat(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fixture = await make_meter_fixture(web_context, zone_count=1)
    chat = customer(web)

    prompt = await chat.verifies(fixture)
    assert prompt[-1]["input_hint"] == "digits_decimal"
    assert "zero" in payloads(prompt)
    receipt = await chat.submits("1300,5")

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["value_2"], reading["status"]) == (13005, None, "accepted")
    assert (reading["channel"], reading["consumption_total"]) == ("telegram", 13005)
    assert reading["receipt"] in receipt[0]["text"]

    assert await deliver_outbox(web_context) == len(await chat.outbox_rows())
    sent = [m for m in fake_telegram.sent_messages() if m["chat_id"] == chat.user["id"]]
    assert len(sent) == len(await chat.replies())
    assert any(reading["receipt"] in m["text"] for m in sent)
    inline = [m["reply_markup"] for m in sent if "inline_keyboard" in m.get("reply_markup", {})]
    assert inline
    for markup in inline:
        for row in markup["inline_keyboard"]:
            assert all(b["text"] and 1 <= len(b["callback_data"].encode()) <= 64 for b in row)
    keyboards = [m["reply_markup"] for m in sent if "keyboard" in m.get("reply_markup", {})]
    assert any(markup["keyboard"][0][0].get("request_contact") for markup in keyboards)
    for markup in keyboards:  # Back and Cancel as buttons that send their label
        assert {"text": "Скасувати"} in markup["keyboard"][-1]
    for call in fake_telegram.calls("/sendMessage"):
        assert call.headers["content-type"].startswith("application/json")


async def test_a_redelivered_confirmation_stores_one_reading_and_queues_nothing_more(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    preview = await chat.says("777")
    confirm = chat.button(confirm_button(preview))

    receipt = await chat.send(confirm)
    rows = await chat.outbox_rows()
    again = await chat.send(confirm)

    assert chat.last_status == 200
    assert receipt and again == []
    assert await chat.outbox_rows() == rows
    assert len(await readings_of(fixture.meter_id)) == 1
    callback_id = confirm["callback_query"]["id"]
    answers = await OutboxMessage.count().where(
        OutboxMessage.dedupe_key == f"telegram:callback:{callback_id}"
    )
    assert answers == 1


async def test_an_update_with_a_wrong_secret_is_refused_mid_dialog_and_changes_nothing(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("800")
    before = (await chat.dialog(), await chat.outbox_rows())

    forged = await chat.send(chat.button("confirm"), secret="not-the-secret")

    assert chat.last_status == 403
    assert forged == []
    assert (await chat.dialog(), await chat.outbox_rows()) == before
    assert await readings_of(fixture.meter_id) == []


async def test_a_burst_of_five_concurrent_messages_keeps_the_dialog_and_every_reply(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    one_menu = len(await chat.presses("menu"))
    version_before, state_before = await chat.dialog()
    replies_before = len(await chat.replies())

    burst = [chat.button("menu") for _ in range(5)]
    answers = await asyncio.gather(
        *(
            web.post(
                "/webhooks/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": chat.secret},
            )
            for update in burst
        )
    )

    assert [a.status_code for a in answers] == [200] * 5
    version, state = await chat.dialog()
    assert version == version_before + 5
    assert state == state_before
    replies = await chat.replies()
    assert len(replies) == replies_before + 5 * one_menu
    await deliver_outbox(web_context)
    sent = [m for m in fake_telegram.sent_messages() if m["chat_id"] == chat.user["id"]]
    assert len(sent) == len(replies)
    answered = [c.json()["callback_query_id"] for c in fake_telegram.calls("/answerCallbackQuery")]
    burst_ids = [u["callback_query"]["id"] for u in burst]
    assert sorted(i for i in answered if i in burst_ids) == sorted(burst_ids)


async def test_a_bot_api_that_answers_500_then_recovers_delivers_the_receipt_once(
    web: httpx.AsyncClient,
    web_context: ServiceContext,
    fake_telegram: FakeTelegram,
    clock: FixedClock,
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("950")
    await deliver_outbox(web_context)
    await chat.presses("confirm")
    [reading] = await readings_of(fixture.meter_id)
    queued = len([r for r in await chat.outbox_rows() if r["status"] == "pending"])
    calls_before = len(fake_telegram.requests)

    fake_telegram.fail_next(2)  # the tap's answer (it goes first) and the first reply
    assert await send_once(web_context) == 0
    answer, failed = fake_telegram.requests[calls_before:]
    assert answer.path.endswith("/answerCallbackQuery") and failed.path.endswith("/sendMessage")
    assert await send_once(web_context) == 0  # backing off: not due yet
    tried = [r for r in await chat.outbox_rows() if r["status"] == "pending" and r["attempts"]]
    assert [(r["status"], r["attempts"], r["last_error"]) for r in tried] == [
        ("pending", 1, "HTTP 500")
    ] * 2

    clock.advance(timedelta(seconds=5))
    assert await deliver_outbox(web_context) == queued
    clock.advance(timedelta(hours=1))
    assert await deliver_outbox(web_context) == 0

    retried = fake_telegram.requests[calls_before + 2 :]
    assert len(retried) == queued
    replies = [r for r in retried if r.path.endswith("/sendMessage")]
    assert replies[0].json() == failed.json()  # the chat's replies in their order
    receipts = [r for r in retried if reading["receipt"] in str(r.json().get("text", ""))]
    assert len(receipts) == 1 and receipts[0].json()["chat_id"] == chat.user["id"]
    assert {r["status"] for r in await chat.outbox_rows()} == {"sent"}


async def test_a_new_user_whose_first_five_messages_arrive_at_once_gets_every_answer(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    chat = customer(web)
    headers = {"X-Telegram-Bot-Api-Secret-Token": chat.secret}
    burst = [chat.message(text="/start") for _ in range(5)]

    answers = await asyncio.gather(
        *(web.post("/webhooks/telegram", json=update, headers=headers) for update in burst)
    )

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"ok": True})] * 5
    version, state = await chat.dialog()
    assert version == 5 and state["stage"] == "menu"
    greetings = await chat.replies()
    assert len(greetings) % 5 == 0 and greetings[: len(greetings) // 5] * 5 == greetings


async def test_five_concurrent_deliveries_of_one_update_are_handled_once(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    chat = customer(web)
    await chat.says("/start")
    one_press = len(await chat.presses("menu:window"))
    version_before, _state = await chat.dialog()
    rows_before = await chat.outbox_rows()
    headers = {"X-Telegram-Bot-Api-Secret-Token": chat.secret}
    update = chat.button("menu:window")

    answers = await asyncio.gather(
        *(web.post("/webhooks/telegram", json=update, headers=headers) for _ in range(5))
    )

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"ok": True})] * 5
    version, _state = await chat.dialog()
    assert version == version_before + 1
    rows = await chat.outbox_rows()
    new = [json.loads(r["payload"]) for r in rows[len(rows_before) :]]
    assert sum(1 for p in new if p.get("method") == "answerCallbackQuery") == 1
    assert sum(1 for p in new if "reply" in p) == one_press


async def test_a_shared_own_contact_verifies_and_someone_elses_is_refused(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fixture = await make_meter_fixture(web_context, phones=("+380671112233",))
    chat = customer(web)
    await chat.says("/start")
    ask = await chat.presses("menu:submit")
    assert any(r["request_contact"] for r in ask)
    await deliver_outbox(web_context)
    [asked] = [m for m in fake_telegram.sent_messages() if "keyboard" in m.get("reply_markup", {})]
    assert asked["reply_markup"]["keyboard"][0][0]["request_contact"] is True

    someone_else = {"phone_number": "380671112233", "first_name": "Іван", "user_id": 1}
    refused = await chat.send(chat.message(contact=someone_else))
    assert chat.last_status == 200
    assert "digits_decimal" not in [r["input_hint"] for r in refused]

    typed = await chat.says(fixture.account_number)  # typed instead: the button goes away
    assert typed[-1]["hide_keyboard"] is True
    await deliver_outbox(web_context)
    surname_asked = [m for m in fake_telegram.sent_messages() if m["text"] == typed[-1]["text"]]
    # the share button goes; Back and Cancel stay, and their label typed is understood
    assert surname_asked[-1]["reply_markup"]["keyboard"] == [
        [{"text": "Назад"}, {"text": "Скасувати"}]
    ]
    await chat.says("Скасувати")
    await chat.presses("menu:submit")

    own = {"phone_number": "380671112233", "first_name": "Олена", "user_id": chat.user["id"]}
    prompt = await chat.send(chat.message(contact=own))
    assert prompt[-1]["input_hint"] == "digits_decimal"
    await deliver_outbox(web_context)
    verified = [m for m in fake_telegram.sent_messages() if m["text"] == prompt[0]["text"]]
    assert verified[-1]["reply_markup"] == {"remove_keyboard": True}  # the button's job done
    await chat.submits("1500")
    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["status"]) == (15000, "accepted")


async def test_the_command_menu_starts_a_submission_and_cancels_it(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("950")  # at the confirmation now

    await chat.says("/cancel")
    _version, state = await chat.dialog()
    assert state["stage"] == "menu"

    again = await chat.says("/submit")
    _version, state = await chat.dialog()
    assert state["stage"] == "enter_zone"
    assert "zero" in payloads(again)
    assert await readings_of(fixture.meter_id) == []


async def test_a_user_who_blocked_the_bot_gets_no_reminders_until_they_write_again(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.presses("menu")

    def reminders_queued() -> Any:
        return (
            OutboxMessage.count()
            .where(OutboxMessage.recipient == chat.user_id)
            .where(OutboxMessage.dedupe_key.like("remind:%"))
        )

    fake_telegram.refusal = (403, "Forbidden: bot was blocked by the user")
    await deliver_outbox(web_context)
    failed = [r for r in await chat.outbox_rows() if r["status"] == "failed"]
    assert failed and "blocked" in failed[-1]["last_error"]
    await send_reminders(web_context)
    assert await reminders_queued() == 0

    fake_telegram.refusal = None
    await chat.says("привіт")  # unblocked and wrote again
    await send_reminders(web_context)
    assert await reminders_queued() == 1


async def test_a_reminder_waiting_out_a_failure_is_dropped_when_reminders_are_switched_off(
    web: httpx.AsyncClient,
    web_context: ServiceContext,
    fake_telegram: FakeTelegram,
    clock: FixedClock,
) -> None:
    """The tester's case: the reminder went after all, and then "Reminders are off". The
    button's callback answer (Telegram takes it for about 15 seconds) goes at once, not
    after the reminder's retry; the dialog's reply keeps its place behind the reminder."""
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await deliver_outbox(web_context)
    await send_reminders(web_context)
    await OutboxMessage.delete().where(  # the reminders of other tests' customers
        OutboxMessage.dedupe_key.like("remind:%") & (OutboxMessage.recipient != chat.user_id)
    )
    fake_telegram.fail_next(1)
    assert await send_once(web_context) == 0  # the reminder is retried in 5 s
    calls_before = len(fake_telegram.requests)

    switched = await chat.presses("menu:reminders:off")
    assert await send_once(web_context) == 1
    [answered] = fake_telegram.requests[calls_before:]
    assert answered.path.endswith("/answerCallbackQuery")

    clock.advance(timedelta(seconds=5))
    await deliver_outbox(web_context)
    after = [r.json() for r in fake_telegram.requests[calls_before + 1 :]]
    to_chat = [m["text"] for m in after if m.get("chat_id") == chat.user["id"]]
    assert to_chat == [reply["text"] for reply in switched]  # and no reminder
    assert switched[0]["text"].startswith(translate("dialog.reminders_off", "uk"))
    [reminder] = [
        r for r in await chat.outbox_rows() if (r["dedupe_key"] or "").startswith("remind:")
    ]
    assert reminder["status"] == "skipped"
    assert "switched reminders off" in reminder["last_error"]
