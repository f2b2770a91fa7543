"""Queuing many messages at once: every message once, however many statements it takes."""

from __future__ import annotations

import pytest

from pokaznyk_core.outbox import queue
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.turn_store import OutboxRow
from pokaznyk_core.storage.tables import OutboxMessage


def row(n: int) -> OutboxRow:
    return OutboxRow("telegram", f"user-{n}", {"n": n}, dedupe_key=f"many:{n}")


async def test_queues_each_message_once_across_statements(
    platforms_context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = platforms_context.now()
    assert await queue.enqueue_many([row(3)], now=now) == 1  # queued before
    monkeypatch.setattr(queue, "ENQUEUE_CHUNK", 3)

    queued = await queue.enqueue_many([row(n) for n in range(8)], now=now)
    again = await queue.enqueue_many([row(n) for n in range(8)], now=now)

    assert (queued, again) == (7, 0)
    keys = [r["dedupe_key"] for r in await OutboxMessage.select(OutboxMessage.dedupe_key)]
    assert sorted(keys) == sorted(f"many:{n}" for n in range(8))
    stored = await OutboxMessage.select().where(OutboxMessage.dedupe_key == "many:5").first()
    assert stored is not None
    assert (stored["recipient"], stored["status"], stored["attempts"]) == ("user-5", "pending", 0)


async def test_queues_nothing_from_nothing(platforms_context: ServiceContext) -> None:
    assert await queue.enqueue_many([], now=platforms_context.now()) == 0
