"""Housekeeping deletes what was sent, said and seen once nothing reads it again, and
nothing else."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from pokaznyk_core.outbox import run_worker
from pokaznyk_core.outbox.queue import FAILED, PENDING, SENT, enqueue, store_spoken
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.housekeeping import OUTBOX_KEPT, UPDATES_KEPT, prune
from pokaznyk_core.storage.tables import OutboxMessage, ProcessedUpdate, VerificationFailure

DAY = timedelta(days=1)


async def queued(context: ServiceContext, age: timedelta, status: str, tag: str) -> int:
    at = context.now() - age
    message_id = await enqueue("telegram", f"user-{tag}", {"tag": tag}, now=at)
    assert message_id is not None
    if status != PENDING:
        await OutboxMessage.update({OutboxMessage.status: status, OutboxMessage.sent_at: at}).where(
            OutboxMessage.id == message_id
        )
    return message_id


async def recorded(context: ServiceContext, age: timedelta, key: str) -> None:
    await ProcessedUpdate.insert(
        ProcessedUpdate(channel="telegram", update_key=key, received_at=context.now() - age)
    )


async def failed(context: ServiceContext, age: timedelta, user: str) -> None:
    await VerificationFailure.insert(
        VerificationFailure(user_key=user, account_key="", failed_at=context.now() - age)
    )


async def outbox_tags() -> set[str]:
    """The tags of the test messages still in the outbox (phone prompts have none)."""
    tags = set()
    for row in await OutboxMessage.select(OutboxMessage.payload):
        payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
        if "tag" in payload:
            tags.add(payload["tag"])
    return tags


async def test_old_sent_given_up_and_spoken_messages_go_and_pending_or_recent_ones_stay(
    platforms_context: ServiceContext,
) -> None:
    context = platforms_context
    old = OUTBOX_KEPT + DAY
    await queued(context, old, SENT, "old-sent")
    await queued(context, old, FAILED, "old-failed")
    await queued(context, old, PENDING, "old-pending")
    await queued(context, OUTBOX_KEPT - DAY, SENT, "recent-sent")
    await queued(context, timedelta(0), PENDING, "new-pending")
    spoken_old = await store_spoken(
        "+380501112233", [], now=context.now() - old, dedupe_key="ivr:old:1"
    )
    spoken_new = await store_spoken("+380501112233", [], now=context.now(), dedupe_key="ivr:new:1")

    pruned = await prune(context)

    assert await outbox_tags() == {"old-pending", "recent-sent", "new-pending"}
    left = {row["id"] for row in await OutboxMessage.select(OutboxMessage.id)}
    assert spoken_old not in left and spoken_new in left
    assert pruned.outbox_messages == 3


async def test_update_records_go_after_a_week_and_a_recent_redelivery_is_still_known(
    platforms_context: ServiceContext,
) -> None:
    context = platforms_context
    await ProcessedUpdate.delete(force=True)
    await recorded(context, UPDATES_KEPT + DAY, "old-update")
    await recorded(context, UPDATES_KEPT - DAY, "last-week")
    await recorded(context, timedelta(minutes=1), "just-now")

    pruned = await prune(context)

    keys = {r["update_key"] for r in await ProcessedUpdate.select(ProcessedUpdate.update_key)}
    assert keys == {"last-week", "just-now"}
    assert pruned.update_records == 1


async def test_failed_verifications_go_once_no_limit_counts_them(
    platforms_context: ServiceContext,
) -> None:
    context = platforms_context
    await VerificationFailure.delete(force=True)
    remembered = context.verification.remembered_for
    assert remembered == max(
        context.verification.user_window + context.verification.user_cooldown,
        context.verification.account_window,
    )
    await failed(context, remembered + timedelta(minutes=1), "forgotten")
    await failed(context, remembered - timedelta(minutes=1), "still-counted")

    pruned = await prune(context)

    users = {r["user_key"] for r in await VerificationFailure.select(VerificationFailure.user_key)}
    assert users == {"still-counted"}
    assert pruned.verification_failures == 1


async def test_pruning_walks_batch_after_batch_past_pending_messages_to_the_recent_ones(
    platforms_context: ServiceContext,
) -> None:
    context = platforms_context
    old = OUTBOX_KEPT + DAY
    for n in range(7):
        await queued(context, old, PENDING if n % 3 == 0 else SENT, f"old-{n}")
    await queued(context, timedelta(0), SENT, "today")

    pruned = await prune(context, batch=2)

    assert await outbox_tags() == {"old-0", "old-3", "old-6", "today"}
    assert pruned.outbox_messages == 4


async def test_the_worker_prunes_on_its_first_round(platforms_context: ServiceContext) -> None:
    context = platforms_context
    await queued(context, OUTBOX_KEPT + DAY, SENT, "old-sent")
    await queued(context, timedelta(0), SENT, "today")
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(context, stop, idle_seconds=0.05))
    try:
        for _ in range(200):
            if await outbox_tags() == {"today"}:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)

    assert await outbox_tags() == {"today"}


async def test_a_long_prune_lets_other_work_run_between_its_batches(
    platforms_context: ServiceContext,
) -> None:
    context = platforms_context
    await ProcessedUpdate.delete(force=True)  # the walk is by id: older rows come first
    for n in range(30):
        await recorded(context, UPDATES_KEPT + DAY, f"backlog-{n}")
    ticks = 0
    pruning = True

    async def other_work() -> None:
        nonlocal ticks
        while pruning:
            ticks += 1
            await asyncio.sleep(0)

    worker = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    before = ticks
    pruned = await prune(context, batch=5)
    pruning = False
    await worker

    assert pruned.update_records == 30
    assert ticks - before >= 5  # at least once between each of the six batches
