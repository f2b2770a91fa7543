"""Whole Messenger dialogs through POST /webhooks/messenger, delivered to a fake Send API."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from decimal import Decimal
from itertools import count
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tests.dashboard.webhooks.chats import (
    MessengerChat,
    deliver_outbox,
    hub_signature,
    payloads,
    send_once,
    texts,
)

from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.i18n import translate
from pokaznyk_core.outbox import send_reminders
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import OutboxMessage, ProcessedUpdate, Reading
from pokaznyk_core.testing import FixedClock, make_meter_fixture
from pokaznyk_core.testing_platforms import FakeGraph

_users = count(7_100_000_000_000_001)


def customer(web: httpx.AsyncClient) -> MessengerChat:
    return MessengerChat(web, str(next(_users)))


async def test_a_messenger_user_verifies_submits_and_the_worker_sends_the_receipt(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_graph: FakeGraph
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)

    greeting = await chat.says("/start")
    assert "menu:submit" in payloads(greeting)
    prompt = await chat.verifies(fixture)
    assert prompt[-1]["input_hint"] == "digits_decimal"
    receipt = await chat.submits("3141,6")

    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    assert (reading["value_1"], reading["status"], reading["channel"]) == (
        31416,
        "accepted",
        "messenger",
    )
    assert reading["receipt"] in texts(receipt)

    assert await deliver_outbox(web_context) == len(await chat.outbox_rows())
    calls = fake_graph.calls("/me/messages")
    assert all(c.query["access_token"] == fake_graph.page_token for c in calls)
    sent = [m for m in fake_graph.sent_messages() if m["recipient"]["id"] == chat.user_id]
    assert len(sent) == len(await chat.replies())
    assert all(m["messaging_type"] == "RESPONSE" and m["message"]["text"] for m in sent)
    assert any(reading["receipt"] in m["message"]["text"] for m in sent)
    quick = [q for m in sent for q in m["message"].get("quick_replies", [])]
    assert quick and all(q["content_type"] in ("text", "user_phone_number") for q in quick)
    assert all(1 <= len(q["title"]) <= 20 for q in quick if q["content_type"] == "text")
    offered = {q["payload"] for q in quick if q["content_type"] == "text"}
    assert "btn:menu:submit" in offered
    assert any(p.startswith("btn:confirm:") for p in offered)


async def test_a_messenger_event_with_a_wrong_signature_is_refused_and_changes_nothing(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("900")
    before = (await chat.dialog(), await chat.outbox_rows())

    confirm = chat.event({"text": "Так", "quick_reply": {"payload": "btn:confirm"}})
    forged = await chat.send(confirm, signature=hub_signature(b"{}", "not-the-app-secret"))

    assert chat.last_status == 403 and forged == []
    assert (await chat.dialog(), await chat.outbox_rows()) == before
    assert await Reading.count().where(Reading.meter == fixture.meter_id) == 0


async def test_a_redelivered_messenger_mid_stores_nothing_twice(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("901")
    confirm = chat.event({"text": "Так", "quick_reply": {"payload": "btn:confirm"}})

    receipt = await chat.send(confirm)
    after_first = (await chat.dialog(), await chat.outbox_rows(), await ProcessedUpdate.count())
    again = await chat.send(confirm)

    assert chat.last_status == 200
    assert receipt and again == []
    assert (await chat.dialog(), await chat.outbox_rows(), await ProcessedUpdate.count()) == (
        after_first
    )
    assert await Reading.count().where(Reading.meter == fixture.meter_id) == 1


async def test_a_send_api_that_answers_500_then_recovers_delivers_the_receipt_once(
    web: httpx.AsyncClient,
    web_context: ServiceContext,
    fake_graph: FakeGraph,
    clock: FixedClock,
) -> None:
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await chat.says("902")
    await deliver_outbox(web_context)
    receipt = await chat.presses("confirm")
    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    calls_before = len(fake_graph.requests)

    fake_graph.fail_next(1)
    assert await send_once(web_context) == 0
    [failed] = fake_graph.requests[calls_before:]
    assert reading["receipt"] in failed.json()["message"]["text"]
    assert await send_once(web_context) == 0  # backing off: not due yet

    clock.advance(timedelta(seconds=5))
    assert await deliver_outbox(web_context) == len(receipt)
    clock.advance(timedelta(hours=1))
    assert await deliver_outbox(web_context) == 0

    retried = fake_graph.requests[calls_before + 1 :]
    assert len(retried) == len(receipt)
    delivered = [r.json() for r in retried if reading["receipt"] in r.json()["message"]["text"]]
    assert delivered == [failed.json()]
    assert {r["status"] for r in await chat.outbox_rows()} == {"sent"}


async def test_a_message_that_fails_by_our_fault_is_answered_and_the_others_are_still_handled(
    web: httpx.AsyncClient,
    web_context: ServiceContext,
    fake_graph: FakeGraph,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A fault of ours (a bug in the dialog) for one text; a batch of two customers' messages.
    from pokaznyk_core.services import conversation

    real_step = conversation.step

    def step_with_a_bug(state: Any, incoming: Any, facts: Any, now: Any) -> Any:
        if incoming.text == "fails here":
            raise RuntimeError("a bug in the dialog")
        return real_step(state, incoming, facts, now)

    monkeypatch.setattr(conversation, "step", step_with_a_bug)
    unlucky, other = customer(web), customer(web)
    await unlucky.says("/start")
    await unlucky.presses("menu:language")
    await unlucky.presses("lang:en")
    before = len(await unlucky.replies())
    batch = unlucky.event({"text": "fails here"})
    batch["entry"] += other.event({"text": "/start"})["entry"]

    for delivery in ("first", "again"):
        with caplog.at_level(logging.ERROR, logger="pokaznyk.inbound"):
            await unlucky.send(batch)
        assert unlucky.last_status == 200, delivery

    [apology] = (await unlucky.replies())[before:]  # once, though delivered twice
    assert apology["text"] == translate("dialog.not_handled", "en")  # the user's language
    assert payloads([apology]) == ["menu"]
    [greeting] = await other.replies()  # the other message of the batch was handled
    assert "menu:submit" in payloads([greeting])
    assert "a bug in the dialog" in caplog.text  # the traceback is in the log, not the answer

    await deliver_outbox(web_context)
    sent = [m for m in fake_graph.sent_messages() if m["recipient"]["id"] == unlucky.user_id]
    assert sent[-1]["message"]["text"] == translate("dialog.not_handled", "en")


async def test_a_message_failing_while_the_database_is_away_is_delivered_again_not_lost(
    web: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fault of ours, and then the database away for a moment as the customer is told.
    from pokaznyk_core.outbox import inbound
    from pokaznyk_core.services import conversation

    def step_with_a_bug(*args: Any) -> Any:
        raise RuntimeError("a bug in the dialog")

    real_language_of = inbound.language_of

    async def database_away(*args: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(conversation, "step", step_with_a_bug)
    unlucky = customer(web)
    await unlucky.says("/start")  # the first contact makes no step
    batch = unlucky.event({"text": "fails here"})
    monkeypatch.setattr(inbound, "language_of", database_away)
    await unlucky.send(batch)
    assert unlucky.last_status == 429  # the platform is asked to deliver it again
    before = len(await unlucky.replies())

    monkeypatch.setattr(inbound, "language_of", real_language_of)
    await unlucky.send(batch)  # the redelivery
    assert unlucky.last_status == 200
    [apology] = (await unlucky.replies())[before:]
    assert apology["text"] == translate("dialog.not_handled", "uk")


async def test_the_phone_number_quick_reply_verifies_a_user_whose_number_is_on_the_account(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_graph: FakeGraph
) -> None:
    fixture = await make_meter_fixture(web_context, phones=("+380671112244",))
    chat = customer(web)
    await chat.says("/start")
    asked = await chat.presses("menu:submit")
    assert any(r["request_contact"] for r in asked)
    await deliver_outbox(web_context)
    offered = [
        q["content_type"]
        for m in fake_graph.sent_messages()
        if m["recipient"]["id"] == chat.user_id
        for q in m["message"].get("quick_replies", [])
    ]
    assert "user_phone_number" in offered

    # Messenger fills the tapped quick reply with the user's own number, text and payload
    phone = {"text": "+380671112244", "quick_reply": {"payload": "+380671112244"}}
    prompt = await chat.send(chat.event(phone))
    assert chat.last_status == 200
    assert prompt[-1]["input_hint"] == "digits_decimal"
    await chat.submits("1500")
    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    assert (reading["value_1"], reading["status"], reading["channel"]) == (
        15000,
        "accepted",
        "messenger",
    )


async def test_a_phone_number_not_on_any_account_is_asked_for_the_account_number(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    await make_meter_fixture(web_context, phones=("+380671112255",))
    chat = customer(web)
    await chat.says("/start")
    await chat.presses("menu:submit")

    phone = {"text": "+380509998877", "quick_reply": {"payload": "+380509998877"}}
    answer = await chat.send(chat.event(phone))

    assert chat.last_status == 200
    assert "digits_decimal" not in [r["input_hint"] for r in answer]
    _version, state = await chat.dialog()
    assert state["stage"] != "enter_zone"
    assert "особового рахунку" in texts(answer)


async def test_the_readings_of_many_accounts_reach_messenger_in_messages_it_takes(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_graph: FakeGraph
) -> None:
    homes = [await make_meter_fixture(web_context, zone_count=3) for _ in range(10)]
    for home in homes:
        values = dict(zip(home.zones, (Decimal(100), Decimal(200), Decimal(300)), strict=True))
        submission = ReadingSubmission(uuid4(), home.meter_id, values, Channel.IMPORT, "import")
        assert (await submit_reading(web_context, submission)).stored
    chat = customer(web)
    await chat.verifies(homes[0])
    await chat.presses("menu")
    for home in homes[1:]:
        await chat.presses("menu:link")
        await chat.says(home.account_number)
        await chat.says(home.surname)

    await chat.presses("menu:status")
    told = await chat.presses("status:latest")

    assert sum(len(r["text"]) for r in told) > 2000  # more than one message may carry
    assert all(home.account_number in texts(told) for home in homes)
    await deliver_outbox(web_context)
    assert {r["status"] for r in await chat.outbox_rows()} == {"sent"}
    sent = [m["message"]["text"] for m in fake_graph.sent_messages()]
    assert all(home.account_number in "\n".join(sent) for home in homes)


async def test_a_messenger_user_the_page_cannot_reach_gets_no_reminders_until_they_write_again(
    web: httpx.AsyncClient, web_context: ServiceContext, fake_graph: FakeGraph
) -> None:
    """The Send API's error 551 ("This person isn't available right now": they blocked
    the page or turned its messages off) marks the user unreachable, as Telegram's "bot was
    blocked" does; a message from them undoes it."""
    fixture = await make_meter_fixture(web_context)
    chat = customer(web)
    await chat.verifies(fixture)
    await deliver_outbox(web_context)
    await chat.presses("menu")
    pending = [r for r in await chat.outbox_rows() if r["status"] == "pending"]
    error = {
        "message": "(#551) This person isn't available right now.",
        "type": "OAuthException",
        "code": 551,
        "error_subcode": 1545041,
    }
    fake_graph.answer_next((400, {"error": error}), len(pending))

    await deliver_outbox(web_context)

    failed = [r for r in await chat.outbox_rows() if r["status"] == "failed"]
    assert len(failed) == len(pending) and "isn't available" in failed[-1]["last_error"]

    async def reminders() -> int:
        await send_reminders(web_context)
        return (
            await OutboxMessage.count()
            .where(OutboxMessage.recipient == chat.user_id)
            .where(OutboxMessage.dedupe_key.like("remind:%"))
        )

    assert await reminders() == 0
    await chat.says("привіт")  # unblocked the page and wrote again
    assert await reminders() == 1
