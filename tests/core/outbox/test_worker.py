"""The worker sends to many chats at once: a slow platform call holds up only its own chat."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.outbox import run_worker, worker
from pokaznyk_core.outbox.claims import new_holder
from pokaznyk_core.outbox.queue import enqueue
from pokaznyk_core.outbox.ratelimit import RateLimiter
from pokaznyk_core.outbox.worker import ChatSending
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.testing_platforms import FakeTelegram, RecordedRequest

GUARD = 20.0
"""How long a test waits for what must happen before it fails (no timing is asserted:
the machine is shared; without the fix the wait is for ever)."""


async def queue(context: ServiceContext, chat: int, text: str) -> int:
    payload = {"reply": Reply(text=text).to_json(), "kind": "reply"}
    message_id = await enqueue("telegram", str(chat), payload, now=context.now())
    assert message_id is not None
    return message_id


def to_chat(chat: int) -> Callable[[RecordedRequest], bool]:
    def match(request: RecordedRequest) -> bool:
        return request.path.endswith("/sendMessage") and request.json()["chat_id"] == chat

    return match


def arrived(fake: FakeTelegram) -> list[tuple[int, str]]:
    """(chat, text) of every sendMessage that reached the Bot API, in order of arrival."""
    return [(m["chat_id"], m["text"]) for m in fake.sent_messages()]


async def until(fake: FakeTelegram, condition: Callable[[list[tuple[int, str]]], bool]) -> None:
    await asyncio.wait_for(fake.received(lambda _: condition(arrived(fake))), GUARD)


async def test_a_hanging_call_to_one_chat_holds_up_only_that_chats_later_messages(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    """The tester's case: Telegram answered one customer's sendMessage only after 12 s,
    and the replies to two customers who wrote a second later waited for it."""
    await queue(platforms_context, 7001, "A: квитанція")
    await queue(platforms_context, 7001, "A: меню")
    answer_a = fake_telegram.hold_next(to_chat(7001))
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(platforms_context, stop, idle_seconds=0.02))
    try:
        await until(fake_telegram, lambda sent: (7001, "A: квитанція") in sent)
        await queue(platforms_context, 7002, "B: вітаю")
        await queue(platforms_context, 7003, "C: вітаю")

        await until(fake_telegram, lambda sent: {7002, 7003} <= {chat for chat, _ in sent})
        assert (7001, "A: меню") not in arrived(fake_telegram)  # its chat's order holds

        answer_a.set()
        await until(fake_telegram, lambda sent: (7001, "A: меню") in sent)
    finally:
        stop.set()
        await asyncio.wait_for(running, GUARD)

    to_a = [text for chat, text in arrived(fake_telegram) if chat == 7001]
    assert to_a == ["A: квитанція", "A: меню"]
    statuses = await OutboxMessage.select(OutboxMessage.status)
    assert {row["status"] for row in statuses} == {"sent"}


async def test_sends_to_no_more_chats_at_once_than_its_places(
    platforms_context: ServiceContext,
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "PARALLEL_CHATS", 2)
    answers = [fake_telegram.hold_next(to_chat(chat)) for chat in (7101, 7102)]
    for chat in (7101, 7102, 7103):
        await queue(platforms_context, chat, f"вітаю, {chat}")
    third = await OutboxMessage.select().where(OutboxMessage.recipient == "7103").first()
    assert third is not None
    async with httpx.AsyncClient() as client:
        sending = ChatSending(platforms_context, client, RateLimiter(limits={}), asyncio.Event())
        sending.holder = new_holder()

        assert await sending.start_due()  # two chats: every place taken
        await until(fake_telegram, lambda sent: len(sent) == 2)
        assert not await sending.start_due()  # no place: nothing more is claimed
        waiting = await OutboxMessage.select().where(OutboxMessage.id == third["id"]).first()
        assert waiting is not None
        assert (waiting["claimed_by"], waiting["next_attempt_at"]) == (
            None,
            third["next_attempt_at"],
        )

        for answer in answers:
            answer.set()
        await sending.finish()
        await sending.start_due()
        await sending.finish()
    assert [chat for chat, _ in arrived(fake_telegram)][-1] == 7103
    assert sending.delivered == 3


async def test_a_buttons_answer_goes_while_a_message_of_its_chat_hangs(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    """Telegram takes a tap's answer for about 15 s: it must not wait behind the chat's
    sendMessage that the platform is slow to answer (a review found it did)."""
    await queue(platforms_context, 7201, "A: квитанція")
    answer_a = fake_telegram.hold_next(to_chat(7201))
    async with httpx.AsyncClient() as client:
        sending = ChatSending(platforms_context, client, RateLimiter(limits={}), asyncio.Event())
        sending.holder = new_holder()
        await sending.start_due()
        await until(fake_telegram, lambda sent: (7201, "A: квитанція") in sent)
        tap = {"method": "answerCallbackQuery", "params": {"callback_query_id": "q-7201"}}
        await enqueue("telegram", "7201", tap, now=platforms_context.now(), dedupe_key="cb:7201")
        await sending.start_due()
        answered = fake_telegram.received(
            lambda requests: any(r.path.endswith("/answerCallbackQuery") for r in requests)
        )
        await asyncio.wait_for(answered, GUARD)
        answer_a.set()
        await sending.finish()
    statuses = await OutboxMessage.select(OutboxMessage.status)
    assert {row["status"] for row in statuses} == {"sent"}
