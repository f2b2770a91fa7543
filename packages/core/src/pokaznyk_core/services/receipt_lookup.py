"""The status of a reading by its receipt number: what the chat tells of a receipt typed at
its menu, and what the web form tells anyone who types one, with no verification.

A receipt number is no proof of identity, so the answer is only the reading's status, the
period it counts for, whether it came in the window, the date it was taken and the channel
it came by: never the account's data (holder, address, account number, meter serial, EIC
or values). For a client nobody verified, `look_up_receipt` counts the numbers that find
nothing, in the database like failed verifications (under a key of their own, so neither
limit uses up the other), and pauses its lookups once they reach
`ReceiptLookupLimits.misses`, so that nobody can try numbers until one finds a reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pokaznyk_core.dialog.actions import ReceiptStatus
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.receipts import (
    normalize_receipt,
    receipt_entry_problem,
    receipt_lookup_gate,
)
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import find_by_receipt
from pokaznyk_core.services.verification import failures_since
from pokaznyk_core.storage.tables import VerificationFailure
from pokaznyk_core.storage.transactions import serialize_on, write_transaction


def receipt_status(row: dict[str, Any]) -> ReceiptStatus:
    """What a receipt tells of a stored reading (a `Reading` row): nothing of its account."""
    return ReceiptStatus(
        receipt=row["receipt"],
        status=row["status"],
        period=row["period"],
        taken_on=row["taken_on"].isoformat(),
        in_window=bool(row["in_window"]),
        channel=row["channel"],
    )


async def find_receipt_status(code: str) -> ReceiptStatus | None:
    """The status of the reading with this receipt code (canonical form), or None."""
    row = await find_by_receipt(code)
    return receipt_status(row) if row is not None else None


@dataclass(frozen=True)
class ReceiptLookup:
    """The answer to a receipt number typed by a client nobody verified.

    One of: ``found`` (the reading's status); ``not_found`` (a well-formed number no
    reading has, with ``attempts_left`` before a pause, or the pause it started in
    ``problem``); or only ``problem``: the number is malformed (``receipt.format``, nothing
    looked up or counted) or the client's lookups are paused (``receipt.lookups_paused``,
    for ``retry_after``).
    """

    code: str = ""
    """The number in canonical form ("" when it is none)."""
    found: ReceiptStatus | None = None
    not_found: bool = False
    problem: Problem | None = None
    attempts_left: int | None = None
    retry_after: timedelta | None = None

    @property
    def taken_on(self) -> date | None:
        """The day the reading found was taken."""
        return date.fromisoformat(self.found.taken_on) if self.found is not None else None


async def look_up_receipt(context: ServiceContext, *, client: str, text: str) -> ReceiptLookup:
    """Look up the receipt number in ``text`` (any case, spacing and look-alike letters,
    as `normalize_receipt` reads them) for ``client`` ("web:203.0.113.7"), within the
    limit on numbers that find nothing.

    Lookups of one client take turns from reading its misses to writing a new one, so a
    burst of them at once cannot pass the limit.
    """
    malformed = receipt_entry_problem(text)
    code = normalize_receipt(text)
    if malformed is not None or code is None:
        return ReceiptLookup(problem=malformed)
    key = f"receipt:{client}"[:120]
    now = context.now()
    limits = context.receipt_lookups
    async with write_transaction():
        await serialize_on(f"receipt-lookup:{key}")
        since = now - limits.remembered_for
        misses = await failures_since(VerificationFailure.user_key, key, since)
        gate = receipt_lookup_gate(misses, now, limits)
        if not gate.allowed:
            return ReceiptLookup(code=code, problem=gate.problem, retry_after=gate.retry_after)
        found = await find_receipt_status(code)
        if found is not None:
            return ReceiptLookup(code=code, found=found)
        await VerificationFailure.insert(
            VerificationFailure(user_key=key, account_key="", failed_at=now)
        )
    after = receipt_lookup_gate([*misses, now], now, limits)
    return ReceiptLookup(
        code=code,
        not_found=True,
        problem=after.problem,
        attempts_left=after.attempts_left if after.allowed else 0,
        retry_after=after.retry_after,
    )
