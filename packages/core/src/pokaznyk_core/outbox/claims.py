"""Claims on outbox messages: which sender holds a message, and until when.

A sender claims due messages by moving their `next_attempt_at` a lease (`LEASE`) ahead and
writing its lease's token (`storage.sender_lease`) in `claimed_by`: on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, on SQLite in one IMMEDIATE transaction, so two senders never
claim one message. Every end of a claim (sent, given up, skipped, due again later) clears
the token, so a token on a pending message means a sender has it in hand. A new holder of
the lease makes the claims of a former one due at once (`free_former_claims`): a sender
killed mid-send leaves its chats waiting for no lease. The claim's end still frees a
message whose holder is gone without a successor.

A chat's messages go out in the order they were queued (`_in_order`), but for a button's
callback answer (`answerCallbackQuery`), which is no message of the chat: Telegram takes it
for about 15 seconds after the tap, so it never waits behind the chat's messages, nor they
behind it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from pokaznyk_core.outbox.delivery import load_payload
from pokaznyk_core.outbox.queue import PENDING
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.storage.transactions import is_postgres, write_transaction

LEASE = timedelta(minutes=2)
"""How long a claim lasts: after it, a message its sender did not finish is due again."""
HOLD_BACK = timedelta(seconds=2)
"""How soon a message held behind an earlier one of its chat is looked at again."""
CALLBACK_ANSWER = "answerCallbackQuery"
"""The Bot API method that answers a button's tap: no message of the chat."""

Chat = tuple[str, str]
"""A chat: (channel, recipient)."""


@dataclass(frozen=True)
class Claimed:
    """A message a sender holds the claim on."""

    id: int
    channel: str
    recipient: str
    payload: Any
    attempts: int
    dedupe_key: str | None = None
    holder: str = ""
    """The token of the sender's lease it was claimed under."""

    @property
    def chat(self) -> Chat:
        """The chat it goes to."""
        return (self.channel, self.recipient)

    @cached_property
    def in_chat_order(self) -> bool:
        """False for a button's callback answer, which goes out whatever the chat's
        messages do (`CALLBACK_ANSWER`)."""
        try:
            return load_payload(self.payload).get("method") != CALLBACK_ANSWER
        except ValueError:
            return True


def new_holder() -> str:
    """A token for a sender that holds no lease (a round run by hand, a test)."""
    return uuid.uuid4().hex


_COLUMNS = "id, channel, recipient, payload, attempts, dedupe_key"


def _answers_sql(postgres: bool) -> str:
    """Whether a payload is a callback answer (`telegram_call`), read from its text: parsed
    as JSON, PostgreSQL refuses a reply with a NUL character, and one such payload would
    fail its whole claim for ever. The method's name in quotes is found in no other payload
    (a quote inside a JSON string is escaped)."""
    text = "payload::text" if postgres else "payload"
    return f"{text} LIKE '%\"{CALLBACK_ANSWER}\"%'"


def _claim_sql(channels: int, skipped_chats: int, *, postgres: bool) -> str:
    marks = ", ".join("{}" for _ in range(channels))
    # A chat being sent to is left out, but for its callback answers, which wait for nothing.
    skip = "".join(
        f" AND NOT (channel = {{}} AND recipient = {{}} AND NOT {_answers_sql(postgres)})"
        for _ in range(skipped_chats)
    )
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    return (
        "UPDATE outbox_message SET next_attempt_at = {}, claimed_by = {}"
        " WHERE id IN (SELECT id FROM outbox_message"
        f" WHERE status = 'pending' AND next_attempt_at <= {{}} AND channel IN ({marks}){skip}"
        f" ORDER BY next_attempt_at, id LIMIT {{}}{lock})"
        f" RETURNING {_COLUMNS}"
    )


async def claim(
    now: datetime,
    channels: tuple[str, ...],
    batch: int,
    *,
    holder: str,
    skip_chats: Collection[Chat] = (),
) -> list[Claimed]:
    """Claim up to `batch` due pending messages of `channels` for `holder`, oldest first,
    leaving out the chats in `skip_chats` (being sent to already) and the messages that
    must wait for an earlier one of their chat."""
    if not channels or batch <= 0:
        return []
    sql = _claim_sql(len(channels), len(skip_chats), postgres=is_postgres())
    skipped = [value for chat in skip_chats for value in chat]
    args = (now + LEASE, holder, now, *channels, *skipped, batch)
    if is_postgres():
        rows = await OutboxMessage.raw(sql, *args)
    else:
        async with write_transaction():
            rows = await OutboxMessage.raw(sql, *args)
    claimed = [
        Claimed(
            r["id"],
            r["channel"],
            r["recipient"],
            r["payload"],
            r["attempts"],
            r["dedupe_key"],
            holder,
        )
        for r in rows
    ]
    return await _in_order(sorted(claimed, key=lambda m: m.id), now)


def _earlier_sql(recipients: int) -> str:
    """The pending messages of the chats of `recipients` before an id, but for callback
    answers (`CALLBACK_ANSWER`)."""
    marks = ", ".join("{}" for _ in range(recipients))
    return (
        "SELECT channel, recipient, id FROM outbox_message"
        f" WHERE status = {{}} AND recipient IN ({marks}) AND id < {{}}"
        f" AND NOT {_answers_sql(is_postgres())}"
    )


async def _in_order(claimed: list[Claimed], now: datetime) -> list[Claimed]:
    """Leave out, and look at again soon, the messages that have an earlier message of
    their chat still waiting (backed off, held to its rate, not due yet, or claimed by
    another sender): a chat's messages go out in the order they were queued. A callback
    answer waits for none."""
    if not claimed:
        return claimed
    ids = [m.id for m in claimed]
    recipients = sorted({m.recipient for m in claimed})
    earlier = await OutboxMessage.raw(_earlier_sql(len(recipients)), PENDING, *recipients, max(ids))
    claimed_ids = set(ids)
    waiting: dict[Chat, int] = {}  # each chat's first message not in this claim
    for row in earlier:
        key, found = (row["channel"], row["recipient"]), int(row["id"])
        if found not in claimed_ids and found < waiting.get(key, found + 1):
            waiting[key] = found
    kept: list[Claimed] = []
    held: list[Claimed] = []
    for message in claimed:
        first_waiting = waiting.get(message.chat)
        if message.in_chat_order and first_waiting is not None and first_waiting < message.id:
            held.append(message)
        else:
            kept.append(message)
    await due_again(held, now + HOLD_BACK)
    return kept


async def due_again(messages: list[Claimed], at: datetime) -> None:
    """End the claims on these messages: due at `at`, in one statement. A message a new
    holder of the lease has taken over since is left to it."""
    for holder in {m.holder for m in messages}:
        ids = [m.id for m in messages if m.holder == holder]
        await OutboxMessage.update(
            {OutboxMessage.next_attempt_at: at, OutboxMessage.claimed_by: None}
        ).where(OutboxMessage.id.is_in(ids) & (OutboxMessage.claimed_by == holder))


async def still_held(message: Claimed) -> bool:
    """Whether the message is still pending under its claim: not made due again by a new
    holder of the lease (who may be sending it), nor finished by anyone."""
    row = await (
        OutboxMessage.select(OutboxMessage.id)
        .where(OutboxMessage.id == message.id)
        .where(OutboxMessage.status == PENDING)
        .where(OutboxMessage.claimed_by == message.holder)
        .first()
    )
    return row is not None


async def free_former_claims(holder: str, now: datetime) -> int:
    """Make due now the messages claimed under any other token than `holder`'s: the new
    holder of the sender's lease takes over what a former one (stopped or killed mid-send)
    held. Returns how many. A message whose call was under way may go twice; none is lost."""
    freed = await OutboxMessage.raw(
        "UPDATE outbox_message SET next_attempt_at = {}, claimed_by = NULL"
        " WHERE status = {} AND claimed_by IS NOT NULL AND claimed_by <> {} RETURNING id",
        now,
        PENDING,
        holder,
    )
    return len(freed)
