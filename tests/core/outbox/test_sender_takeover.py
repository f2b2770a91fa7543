"""A new holder of the sender's lease takes over the messages a former holder had claimed:
a sender killed mid-send leaves its chats waiting for no claim to run out."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.outbox import run_worker, send_due
from pokaznyk_core.outbox.claims import claim, free_former_claims
from pokaznyk_core.outbox.queue import enqueue
from pokaznyk_core.outbox.ratelimit import RateLimiter
from pokaznyk_core.outbox.sender import by_chat, deliver_to_chat
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.testing import FixedClock
from pokaznyk_core.testing_platforms import FakeTelegram, RecordedRequest

GUARD = 60.0
"""How long a test waits for what must happen (a process to start, a message to arrive)
before it fails; no timing is asserted."""


async def queue(context: ServiceContext, chat: str, text: str) -> int:
    payload = {"reply": Reply(text=text).to_json(), "kind": "reply"}
    message_id = await enqueue("telegram", chat, payload, now=context.now())
    assert message_id is not None
    return message_id


async def rows(*ids: int) -> list[dict[str, Any]]:
    found = await OutboxMessage.select().where(OutboxMessage.id.is_in(list(ids)))
    return sorted(found, key=lambda row: row["id"])


def texts_to(fake: FakeTelegram, chat: int) -> list[str]:
    return [m["text"] for m in fake.sent_messages() if m["chat_id"] == chat]


async def test_a_sender_killed_mid_send_leaves_its_chats_to_the_next_holder_at_once(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    # The worker in another process runs on the real clock; the one that takes over here
    # has its clock stopped at the kill, long before the dead sender's claims run out.
    context = ServiceContext(
        settings=platforms_context.settings, clock=FixedClock(datetime.now(UTC))
    )
    receipt = await queue(context, "7201", "квитанція")
    menu = await queue(context, "7201", "меню")

    def to_7201(request: RecordedRequest) -> bool:
        return request.path.endswith("/sendMessage") and request.json()["chat_id"] == 7201

    fake_telegram.hold_next(to_7201)  # the call the sender is killed in
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POKAZNYK_")}
    environment |= {
        "POKAZNYK_DATABASE_URL": context.settings.database_url,
        "POKAZNYK_TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "POKAZNYK_TELEGRAM_API_BASE": fake_telegram.url,
    }
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pokaznyk_core.cli",
        "worker",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    try:
        await asyncio.wait_for(fake_telegram.received(lambda r: any(map(to_7201, r))), GUARD)
    finally:
        sender.kill()  # SIGKILL: no cleanup of any kind
        await asyncio.wait_for(sender.wait(), GUARD)
    left = await rows(receipt, menu)
    assert [row["status"] for row in left] == ["pending", "pending"]
    assert all(row["next_attempt_at"] > context.now() for row in left)  # claimed, still

    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(context, stop, idle_seconds=0.02))
    try:
        await asyncio.wait_for(
            fake_telegram.received(lambda _: "меню" in texts_to(fake_telegram, 7201)), GUARD
        )
    finally:
        stop.set()
        await asyncio.wait_for(running, GUARD)

    # the call under way when the sender died goes again; nothing is lost, the order holds
    assert texts_to(fake_telegram, 7201) == ["квитанція", "квитанція", "меню"]
    assert [row["status"] for row in await rows(receipt, menu)] == ["sent", "sent"]


async def test_a_new_holder_leaves_a_message_waiting_out_its_retry_as_it_is(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    """Flood control and backoff still hold across a takeover: only claims are freed."""
    backing_off = await queue(platforms_context, "7301", "після збою")
    fake_telegram.fail_next(1)
    async with httpx.AsyncClient() as client:
        assert await send_due(platforms_context, client) == 0
    [before] = await rows(backing_off)
    claimed_by_the_dead = await queue(platforms_context, "7302", "у руках")
    await claim(clock.now(), ("telegram",), 10, holder="dead-holder")

    assert await free_former_claims("new-holder", clock.now()) == 1

    waiting, freed = await rows(backing_off, claimed_by_the_dead)
    assert waiting["next_attempt_at"] == before["next_attempt_at"] > clock.now()
    assert (freed["next_attempt_at"], freed["claimed_by"]) == (clock.now(), None)


async def test_a_sender_whose_claims_were_taken_over_sends_none_of_them(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    """A holder that lost the lease but still runs (its session ended on the server) and
    the new holder never both send a message that was not under way."""
    ids = [await queue(platforms_context, f"74{n:02}", "вітаю") for n in range(3)]
    claimed_by_the_old = await claim(clock.now(), ("telegram",), 10, holder="old-holder")
    assert await free_former_claims("new-holder", clock.now()) == 3

    async with httpx.AsyncClient() as client:
        limiter = RateLimiter(limits={})
        for chat in by_chat(claimed_by_the_old):
            assert await deliver_to_chat(platforms_context, client, limiter, chat) == 0
        assert await send_due(platforms_context, client, holder="new-holder") == 3
        clock.advance(timedelta(minutes=5))  # past any claim
        assert await send_due(platforms_context, client) == 0

    assert sorted(m["chat_id"] for m in fake_telegram.sent_messages()) == [7400, 7401, 7402]
    assert [row["status"] for row in await rows(*ids)] == ["sent"] * 3
