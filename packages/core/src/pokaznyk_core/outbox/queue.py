"""Writing to the outbox outside the dialog: raw platform calls, reminders, spoken prompts.

The dialog's own replies are written by `services.conversation` in its transaction; this
module holds the few other writers, each idempotent through the outbox's `dedupe_key`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.services.turn_store import OutboxRow, outbox_values, queue_sql
from pokaznyk_core.storage.tables import MessengerIdentity, OutboxMessage
from pokaznyk_core.storage.transactions import write_transaction

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
"""A reminder no longer due when its turn came (its window closed, the customer switched
reminders off, the account got its reading…): not sent, the reason in `last_error`."""
SPOKEN = "spoken"
"""An answer delivered in the HTTP response (a phone-line prompt, Viber's welcome); kept so
a redelivery is answered the same and the caller's keys can be read against the prompt
(and the prompt said again), never picked up by the sender."""


async def enqueue(
    channel: str,
    recipient: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    dedupe_key: str | None = None,
    status: str = PENDING,
) -> int | None:
    """Queue one message; returns its id, or None when `dedupe_key` was already queued."""
    conflict = " ON CONFLICT (dedupe_key) DO NOTHING" if dedupe_key is not None else ""
    inserted = await OutboxMessage.raw(
        "INSERT INTO outbox_message (channel, recipient, payload, status, attempts,"
        " next_attempt_at, last_error, created_at, sent_at, dedupe_key)"
        f" VALUES ({{}}, {{}}, {{}}, {{}}, 0, {{}}, '', {{}}, {{}}, {{}}){conflict} RETURNING id",
        channel,
        recipient[:80],
        json.dumps(payload, ensure_ascii=False),
        status,
        now,
        now,
        now if status == SPOKEN else None,
        dedupe_key,
    )
    return int(inserted[0]["id"]) if inserted else None


async def enqueue_many(rows: Sequence[OutboxRow], *, now: datetime) -> int:
    """Queue many messages in as few statements as can hold them; returns how many were
    queued (a row whose `dedupe_key` is queued already is left out)."""
    queued = 0
    for start in range(0, len(rows), ENQUEUE_CHUNK):
        values = outbox_values(rows[start : start + ENQUEUE_CHUNK], now)
        inserted = await OutboxMessage.raw(
            queue_sql(len(values), "{}") + " RETURNING id",
            *(value for row in values for value in row),
        )
        queued += len(inserted)
    return queued


ENQUEUE_CHUNK = 500
"""Messages a statement of `enqueue_many` inserts (six parameters each)."""


def telegram_call(
    method: str, params: dict[str, Any], recipient: str, *, dedupe_key: str
) -> OutboxRow:
    """A raw Bot API call (e.g. answerCallbackQuery) for the outbox, once per `dedupe_key`."""
    return OutboxRow("telegram", recipient, {"method": method, "params": params}, dedupe_key)


async def store_spoken(
    recipient: str,
    replies: list[Reply],
    *,
    now: datetime,
    dedupe_key: str | None,
    channel: str = "ivr",
) -> int | None:
    """Keep replies answered in the HTTP response (said on the phone by default); returns
    the prompt id (None when already kept)."""
    payload = {"replies": [reply.to_json() for reply in replies]}
    return await enqueue(channel, recipient, payload, now=now, dedupe_key=dedupe_key, status=SPOKEN)


def _replies(raw: Any) -> list[Reply]:
    data = json.loads(raw) if isinstance(raw, str) else raw
    return [Reply.from_json(item) for item in data.get("replies", [])]


async def load_spoken(prompt_id: int, recipient: str) -> list[Reply] | None:
    """The replies of a phone prompt of this caller, or None when there is no such prompt."""
    row = await (
        OutboxMessage.select(OutboxMessage.payload)
        .where(OutboxMessage.id == prompt_id)
        .where(OutboxMessage.channel == "ivr")
        .where(OutboxMessage.recipient == recipient)
        .where(OutboxMessage.status == SPOKEN)
        .first()
    )
    return None if row is None else _replies(row["payload"])


async def load_spoken_by_key(dedupe_key: str) -> tuple[int, list[Reply]] | None:
    """A prompt kept under `dedupe_key` (the answer to a redelivered keypad entry)."""
    row = await (
        OutboxMessage.select(OutboxMessage.id, OutboxMessage.payload)
        .where(OutboxMessage.dedupe_key == dedupe_key)
        .where(OutboxMessage.status == SPOKEN)
        .first()
    )
    return None if row is None else (int(row["id"]), _replies(row["payload"]))


async def set_subscribed(channel: str, platform_user_id: str, subscribed: bool) -> int:
    """Mark a platform user as (un)subscribed; returns how many identities changed."""
    async with write_transaction():
        changed = await (
            MessengerIdentity.update({MessengerIdentity.subscribed: subscribed})
            .where(MessengerIdentity.channel == channel)
            .where(MessengerIdentity.platform_user_id == platform_user_id)
            .where(MessengerIdentity.subscribed != subscribed)
            .returning(MessengerIdentity.id)
        )
    return len(changed)
