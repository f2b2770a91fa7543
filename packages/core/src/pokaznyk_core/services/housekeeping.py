"""Keeping the working tables of the chat channels small: what was sent, said and seen is
deleted once nothing will read it again.

Every customer message leaves a record of its platform update (so a redelivery is handled
once) and one or more outbox rows (replies, a button's callback answer, a phone prompt);
at a million accounts that is millions of rows a month, and their indexes are written by
every message. The worker (`outbox.run_worker`, inside `serve` too) prunes them every
hour:

- outbox messages sent, given up, skipped or said on the phone more than `OUTBOX_KEPT` ago (a
  message still pending is never deleted, however old);
- records of platform updates older than `UPDATES_KEPT` (platforms redeliver within hours:
  Telegram keeps an unconfirmed update for 24 hours);
- failed verifications, and receipt numbers that found nothing, older than their limits
  look back (`VerificationLimits.remembered_for`, `ReceiptLookupLimits.remembered_for`).

Readings, rejected submissions (the statistics), the audit log, identities and dialog state
are never touched here.

Each table is walked oldest first by its ids (which grow with time), a batch at a time in
short transactions of their own, yielding to the event loop between batches: the search
never scans the rows that stay, and a first prune of a long backlog never holds the database,
or on SQLite the process's event loop, for long.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pokaznyk_core.outbox.queue import PENDING
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.storage.transactions import write_transaction

OUTBOX_KEPT = timedelta(days=30)
"""How long a sent, given-up or spoken message stays (support staff look it up)."""
UPDATES_KEPT = timedelta(days=7)
"""How long a platform update's record stays (a redelivery comes within hours)."""
BATCH = 1000
"""Rows looked at, and at most deleted, in one transaction."""


@dataclass(frozen=True)
class Pruned:
    """How many rows one round of housekeeping deleted."""

    outbox_messages: int
    update_records: int
    verification_failures: int

    @property
    def total(self) -> int:
        return self.outbox_messages + self.update_records + self.verification_failures


async def prune(context: ServiceContext, *, batch: int = BATCH) -> Pruned:
    """Delete what nothing will read again (see the module docstring)."""
    now = context.now()
    outbox = await _prune_oldest(
        "outbox_message", "created_at", now - OUTBOX_KEPT, batch, keep_status=PENDING
    )
    updates = await _prune_oldest("processed_update", "received_at", now - UPDATES_KEPT, batch)
    remembered = max(context.verification.remembered_for, context.receipt_lookups.remembered_for)
    failures = await _prune_oldest("verification_failure", "failed_at", now - remembered, batch)
    return Pruned(outbox, updates, failures)


async def _prune_oldest(
    table: str, stamp: str, cutoff: datetime, batch: int, *, keep_status: str | None = None
) -> int:
    """Delete the rows of `table` whose `stamp` is before `cutoff` (and whose status is not
    `keep_status`), oldest id first, until a batch reaches a row that stays for its age."""
    status = ", status" if keep_status is not None else ""
    select = (
        f"SELECT id, {stamp} AS stamp{status} FROM {table} WHERE id > {{}} ORDER BY id LIMIT {{}}"
    )
    deleted = 0
    after = 0
    while True:
        async with write_transaction():
            rows: list[dict[str, Any]] = await OutboxMessage.raw(select, after, batch)
            old = [r for r in rows if r["stamp"] < cutoff]
            doomed = [
                int(r["id"]) for r in old if keep_status is None or r["status"] != keep_status
            ]
            if doomed:
                marks = ", ".join("{}" for _ in doomed)
                await OutboxMessage.raw(f"DELETE FROM {table} WHERE id IN ({marks})", *doomed)
        deleted += len(doomed)
        if len(rows) < batch or len(old) < len(rows):  # the end, or rows young enough to stay
            return deleted
        after = int(rows[-1]["id"])
        # On SQLite a batch runs on the event loop without waiting for anything: let the
        # messages waiting meanwhile have their turn before the next one.
        await asyncio.sleep(0)
