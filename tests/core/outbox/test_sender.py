"""The outbox sender against fake platform APIs, on both database engines."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from pokaznyk_core.dialog.messages import Button, Reply
from pokaznyk_core.outbox import MAX_ATTEMPTS, RETRY_FOR, send_due, sender
from pokaznyk_core.outbox.queue import enqueue, telegram_call
from pokaznyk_core.outbox.ratelimit import RateLimiter
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import DialogState, OutboxMessage
from pokaznyk_core.testing import FixedClock
from pokaznyk_core.testing_platforms import FakeGraph, FakeTelegram, FakeViber

REPLY = Reply(text="Усе правильно?", buttons=((Button("Так", "confirm"), Button("Ні", "reenter")),))


async def queue(context: ServiceContext, channel: str, recipient: str, reply: Reply = REPLY) -> int:
    message_id = await enqueue(channel, recipient, {"reply": reply.to_json()}, now=context.now())
    assert message_id is not None
    return message_id


async def row(message_id: int) -> dict[str, Any]:
    found = await OutboxMessage.select().where(OutboxMessage.id == message_id).first()
    assert found is not None
    return found


async def test_delivers_a_reply_to_telegram_as_send_message_with_an_inline_keyboard(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    message_id = await queue(platforms_context, "telegram", "1001")
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 1
    [sent] = fake_telegram.sent_messages()
    assert sent["chat_id"] == 1001
    assert sent["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Так",
        "callback_data": "confirm",
    }
    stored = await row(message_id)
    assert stored["status"] == "sent"
    assert stored["sent_at"] is not None


async def test_delivers_a_raw_answer_callback_query(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    call = telegram_call(
        "answerCallbackQuery", {"callback_query_id": "cb-9"}, "1001", dedupe_key="cb:cb-9"
    )
    await enqueue(
        call.channel,
        call.recipient,
        call.payload,
        now=platforms_context.now(),
        dedupe_key="cb:cb-9",
    )
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 1
    [call] = fake_telegram.calls("/answerCallbackQuery")
    assert call.json() == {"callback_query_id": "cb-9"}


async def test_delivers_to_viber_with_the_auth_token_and_a_sender_name(
    platforms_context: ServiceContext, fake_viber: FakeViber
) -> None:
    message_id = await queue(platforms_context, "viber", "viber-user=")
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 1
    [request] = fake_viber.calls("/send_message")
    assert request.headers["x-viber-auth-token"] == fake_viber.auth_token
    assert request.json()["sender"]["name"] == "Показник"
    assert (await row(message_id))["status"] == "sent"


async def test_delivers_to_messenger_with_messaging_type_and_quick_replies(
    platforms_context: ServiceContext, fake_graph: FakeGraph
) -> None:
    await queue(platforms_context, "messenger", "PSID-1")
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 1
    [request] = fake_graph.calls("/v21.0/me/messages")
    assert request.query["access_token"] == fake_graph.page_token
    body = request.json()
    assert body["messaging_type"] == "RESPONSE"
    assert [q["payload"] for q in body["message"]["quick_replies"]] == [
        "btn:confirm",
        "btn:reenter",
    ]


async def test_a_reminder_goes_to_messenger_as_an_update_not_a_response(
    platforms_context: ServiceContext, fake_graph: FakeGraph
) -> None:
    payload = {"reply": REPLY.to_json(), "kind": "reminder", "period": "2026-10"}
    await DialogState.insert(  # the person wrote within the day: Meta takes the reminder
        DialogState(
            channel="messenger",
            platform_user_id="PSID-2",
            state="{}",
            version=1,
            updated_at=platforms_context.now(),
        )
    )
    await enqueue("messenger", "PSID-2", payload, now=platforms_context.now())
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 1
    [request] = fake_graph.calls("/v21.0/me/messages")
    assert request.json()["messaging_type"] == "UPDATE"


async def test_retries_after_a_server_error_and_delivers_once(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    message_id = await queue(platforms_context, "telegram", "1002")
    fake_telegram.fail_next(1, status=500)
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 0
        failed_once = await row(message_id)
        assert failed_once["status"] == "pending"
        assert failed_once["attempts"] == 1
        assert "500" in failed_once["last_error"]
        assert await send_due(platforms_context, client) == 0  # not due yet
        clock.advance(timedelta(seconds=5))
        assert await send_due(platforms_context, client) == 1
        assert await send_due(platforms_context, client) == 0
    assert len(fake_telegram.calls("/sendMessage")) == 2  # one refused, one delivered
    assert (await row(message_id))["status"] == "sent"


async def test_waits_exactly_as_long_as_telegram_flood_control_says(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    message_id = await queue(platforms_context, "telegram", "1003")
    fake_telegram.throttle_next(1, retry_after=2)
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 0
        assert (await row(message_id))["next_attempt_at"] == clock.now() + timedelta(seconds=2)
        clock.advance(timedelta(seconds=1))
        assert await send_due(platforms_context, client) == 0
        clock.advance(timedelta(seconds=1))
        assert await send_due(platforms_context, client) == 1


async def test_an_outage_of_hours_delivers_the_backlog_in_order(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    first = await queue(platforms_context, "telegram", "1004", Reply(text="вітаю"))
    second = await queue(platforms_context, "telegram", "1004", Reply(text="меню"))
    fake_telegram.fail_next(10_000, status=502)  # the Bot API is down
    async with httpx.AsyncClient() as client:
        for _ in range(6 * 60):  # six hours, a round a minute
            await send_due(platforms_context, client)
            clock.advance(timedelta(minutes=1))
        fake_telegram._failures.clear()  # back up
        tried = len(fake_telegram.sent_messages())
        for _ in range(70):
            await send_due(platforms_context, client)
            clock.advance(timedelta(minutes=1))
    assert [m["text"] for m in fake_telegram.sent_messages()[tried:]] == ["вітаю", "меню"]
    assert [(await row(i))["status"] for i in (first, second)] == ["sent", "sent"]


async def test_gives_up_after_a_day_of_tries_and_records_why(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    tried_for = sum(sender.backoff(n) for n in range(1, MAX_ATTEMPTS))
    assert RETRY_FOR.total_seconds() <= tried_for < RETRY_FOR.total_seconds() + 3600
    clock.advance(timedelta(days=2))  # queued long before: it still gets its day of tries
    message_id = await queue(platforms_context, "telegram", "1005")
    clock.advance(timedelta(days=2))
    fake_telegram.fail_next(10_000, status=502)
    async with httpx.AsyncClient() as client:
        for _ in range(MAX_ATTEMPTS - 1):
            await send_due(platforms_context, client)
            clock.advance(timedelta(hours=1))
        assert (await row(message_id))["status"] == "pending"
        for _ in range(3):
            await send_due(platforms_context, client)
            clock.advance(timedelta(hours=1))
    stored = await row(message_id)
    assert stored["status"] == "failed"
    assert "502" in stored["last_error"]
    assert stored["attempts"] == len(fake_telegram.calls("/sendMessage")) == MAX_ATTEMPTS


async def test_gives_up_at_once_when_viber_says_the_receiver_is_not_subscribed(
    platforms_context: ServiceContext, fake_viber: FakeViber
) -> None:
    message_id = await queue(platforms_context, "viber", "gone-user=")
    fake_viber._failures.append((200, {"status": 6, "status_message": "receiverNotSubscribed"}))
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 0
    stored = await row(message_id)
    assert stored["status"] == "failed"
    assert "receiverNotSubscribed" in stored["last_error"]


async def test_holds_a_recipients_later_messages_back_until_the_earlier_one_is_sent(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    await queue(platforms_context, "telegram", "1005", Reply(text="перше"))
    await queue(platforms_context, "telegram", "1005", Reply(text="друге"))
    fake_telegram.fail_next(1)
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 0
        clock.advance(timedelta(seconds=5))
        assert await send_due(platforms_context, client) == 2
    assert [m["text"] for m in fake_telegram.sent_messages()] == ["перше", "перше", "друге"]


async def test_two_concurrent_workers_never_send_a_message_twice(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    for chat in range(2000, 2040):
        await queue(platforms_context, "telegram", str(chat))
    async with httpx.AsyncClient() as one, httpx.AsyncClient() as two:
        sent = await asyncio.gather(
            send_due(platforms_context, one, batch=7),
            send_due(platforms_context, two, batch=7),
            send_due(platforms_context, one, batch=7),
            send_due(platforms_context, two, batch=7),
        )
        while await send_due(platforms_context, one, batch=7):
            pass
    chats = [m["chat_id"] for m in fake_telegram.sent_messages()]
    assert sum(sent) <= 40
    assert sorted(chats) == list(range(2000, 2040))


async def test_leaves_messages_of_a_channel_without_a_token_waiting(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    from dataclasses import replace

    context = replace(
        platforms_context, settings=replace(platforms_context.settings, telegram_bot_token="")
    )
    message_id = await queue(context, "telegram", "1006")
    async with httpx.AsyncClient() as client:
        assert await send_due(context, client) == 0
    assert (await row(message_id))["status"] == "pending"
    assert fake_telegram.requests == []


async def test_a_chat_over_its_limit_holds_back_no_one_else_and_keeps_its_order(
    platforms_context: ServiceContext,
    fake_telegram: FakeTelegram,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A customer pressed a button ten times: Telegram lets one chat have about one a second.
    # (The limiter runs on the test's clock, so the round may not wait at all for a chat.)
    monkeypatch.setattr(sender, "CHAT_WAIT_SECONDS", 0.0)
    for n in range(10):
        await queue(platforms_context, "telegram", "2001", Reply(text=f"відповідь {n}"))
    await queue(platforms_context, "telegram", "2002", Reply(text="інший клієнт"))
    limiter = RateLimiter(monotonic=lambda: clock.now().timestamp())
    async with httpx.AsyncClient() as client:
        first_round = await send_due(platforms_context, client, limiter=limiter)
        assert "інший клієнт" in [m["text"] for m in fake_telegram.sent_messages()]
        assert first_round == 4  # the busy chat's burst of three, and the other customer
        await queue(platforms_context, "telegram", "2001", Reply(text="пізніша"))
        assert await send_due(platforms_context, client, limiter=limiter) == 0  # not before
        for _ in range(30):
            clock.advance(timedelta(seconds=3))
            await send_due(platforms_context, client, limiter=limiter)
    to_busy = [m["text"] for m in fake_telegram.sent_messages() if m["chat_id"] == 2001]
    assert to_busy == [f"відповідь {n}" for n in range(10)] + ["пізніша"]


async def test_a_message_queued_after_one_that_failed_waits_for_it(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    await queue(platforms_context, "telegram", "1006", Reply(text="квитанція"))
    fake_telegram.fail_next(1)
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 0  # retried in a few seconds
        await queue(platforms_context, "telegram", "1006", Reply(text="меню"))
        assert await send_due(platforms_context, client) == 0  # the menu waits its turn
        clock.advance(timedelta(seconds=10))
        assert await send_due(platforms_context, client) == 2
    sent = [m["text"] for m in fake_telegram.sent_messages() if m["chat_id"] == 1006]
    assert sent == ["квитанція", "квитанція", "меню"]


async def test_flood_control_never_makes_a_message_give_up(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    message_id = await queue(platforms_context, "telegram", "1007")
    fake_telegram.throttle_next(40, retry_after=1)  # a long reminder round
    async with httpx.AsyncClient() as client:
        delivered = 0
        for _ in range(42):
            delivered += await send_due(platforms_context, client)
            clock.advance(timedelta(seconds=1))
    stored = await row(message_id)
    assert delivered == 1 and stored["status"] == "sent"


async def test_flood_control_holds_the_whole_channel_for_as_long_as_it_says(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    limiter = RateLimiter(monotonic=lambda: clock.now().timestamp())
    await queue(platforms_context, "telegram", "3001", Reply(text="перша"))
    fake_telegram.throttle_next(1, retry_after=30)
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client, limiter=limiter) == 0
        other = await queue(platforms_context, "telegram", "3002", Reply(text="інша"))
        assert await send_due(platforms_context, client, limiter=limiter) == 0  # paused
        assert (await row(other))["status"] == "pending"
        clock.advance(timedelta(seconds=31))
        assert await send_due(platforms_context, client, limiter=limiter) == 2
    first, *after_the_pause = [m["text"] for m in fake_telegram.sent_messages()]
    assert first == "перша"  # two chats of one round: either may reach Telegram first
    assert sorted(after_the_pause) == sorted(["перша", "інша"])


async def test_a_stopping_worker_starts_no_send_and_leaves_the_rest_due_at_once(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    message_id = await queue(platforms_context, "telegram", "1010")
    stop = asyncio.Event()
    stop.set()  # the process is stopping: what was claimed is not sent by it
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client, stop=stop) == 0
        assert fake_telegram.sent_messages() == []
        stored = await row(message_id)
        assert stored["status"] == "pending"
        assert stored["next_attempt_at"] <= platforms_context.now()  # not held for the lease
        assert await send_due(platforms_context, client) == 1  # the next worker sends it


async def test_a_token_the_http_client_cannot_put_in_a_url_is_tried_again_not_stuck(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    settings = platforms_context.settings
    broken = replace(
        platforms_context,
        settings=replace(settings, telegram_bot_token=settings.telegram_bot_token + "\r"),
    )
    message_id = await queue(platforms_context, "telegram", "1011")
    async with httpx.AsyncClient() as client:
        assert await send_due(broken, client) == 0
    stored = await row(message_id)
    assert (stored["status"], stored["attempts"]) == ("pending", 1)
    assert "InvalidURL" in stored["last_error"]


async def test_a_failed_callback_answer_holds_back_none_of_its_chats_messages(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    """A button's callback answer is no message of the chat (Telegram takes it for about
    15 seconds): it goes first, and its retries hold no reply back."""
    answer = telegram_call(
        "answerCallbackQuery",
        {"callback_query_id": "cb-10"},
        "1012",
        dedupe_key="telegram:callback:cb-10",
    )
    await enqueue(answer.channel, answer.recipient, answer.payload, now=platforms_context.now())
    await queue(platforms_context, "telegram", "1012", Reply(text="меню"))
    fake_telegram.fail_next(1)
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 1  # the answer failed, not the menu
        await queue(platforms_context, "telegram", "1012", Reply(text="ще одна"))
        assert await send_due(platforms_context, client) == 1  # nor behind its retry
    assert [r.path.rsplit("/", 1)[1] for r in fake_telegram.requests] == [
        "answerCallbackQuery",
        "sendMessage",
        "sendMessage",
    ]
    assert [m["text"] for m in fake_telegram.sent_messages()] == ["меню", "ще одна"]


async def test_a_stopping_worker_leaves_a_taps_answer_and_the_chats_replies_due_at_once(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    answer = telegram_call(
        "answerCallbackQuery",
        {"callback_query_id": "cb-11"},
        "1013",
        dedupe_key="telegram:callback:cb-11",
    )
    await enqueue(answer.channel, answer.recipient, answer.payload, now=platforms_context.now())
    await queue(platforms_context, "telegram", "1013", Reply(text="меню"))
    stop = asyncio.Event()
    stop.set()
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client, stop=stop) == 0
        left = await OutboxMessage.select().where(OutboxMessage.recipient == "1013")
        assert [row["next_attempt_at"] <= platforms_context.now() for row in left] == [True] * 2
        assert await send_due(platforms_context, client) == 2  # the next worker sends them
    assert fake_telegram.requests[0].path.endswith("/answerCallbackQuery")


async def test_a_message_waits_for_every_earlier_one_of_its_chat_not_only_the_first(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    """The first of a chat's messages due with the third, the second due a moment later:
    the third must not go before the second (a review saw 'one', 'three')."""
    first = await queue(platforms_context, "telegram", "1020", Reply(text="перша"))
    second = await queue(platforms_context, "telegram", "1020", Reply(text="друга"))
    await queue(platforms_context, "telegram", "1020", Reply(text="третя"))
    later = platforms_context.now() + timedelta(seconds=1)
    await OutboxMessage.update({OutboxMessage.next_attempt_at: later}).where(
        OutboxMessage.id == second
    )
    async with httpx.AsyncClient() as client:
        await send_due(platforms_context, client)
        for _ in range(5):
            clock.advance(timedelta(seconds=3))
            await send_due(platforms_context, client)
    sent = [m["text"] for m in fake_telegram.sent_messages() if m["chat_id"] == 1020]
    assert sent == ["перша", "друга", "третя"]
    assert (await row(first))["status"] == "sent"


async def test_a_reply_with_a_nul_character_holds_up_no_one(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    """PostgreSQL's jsonb refuses a NUL character: reading a payload's method that way
    failed the whole claim, for ever, and every message claimed with it."""
    odd = await queue(platforms_context, "telegram", "1030", Reply(text="a\x00b"))
    other = await queue(platforms_context, "telegram", "1031", Reply(text="інший клієнт"))
    async with httpx.AsyncClient() as client:
        await send_due(platforms_context, client)
    assert (await row(other))["status"] == "sent"
    assert (await row(odd))["status"] in ("sent", "failed")
