"""Where `submit_reading` reads and writes, in plain SQL (these run on every submission).

Every function here runs inside the caller's write transaction, after the meter's lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pokaznyk_core.domain.billing import Basis
from pokaznyk_core.domain.history import AWAITS_REVIEWER, HISTORY_READINGS
from pokaznyk_core.domain.readings import COUNTING_STATUSES, ReadingStatus
from pokaznyk_core.domain.receipts import receipt_from_uuid
from pokaznyk_core.services.audit import AUDIT_INSERT, write_audit
from pokaznyk_core.storage.tables import Reading
from pokaznyk_core.storage.transactions import is_postgres

_STATUSES = ", ".join(f"'{s.value}'" for s in sorted(COUNTING_STATUSES))


def awaits_reviewer_sql(alias: str = "") -> str:
    """`domain.history.awaits_reviewer` as a condition on `reading` (named `alias`, if any)."""
    status, flag = AWAITS_REVIEWER
    return f"({alias}status = '{status.value}' AND {alias}flags LIKE '%{flag.value}%')"


def baseline_sql(alias: str = "") -> str:
    """`domain.history.is_baseline` as a condition on `reading` (named `alias`, if any)."""
    return f"{alias}status IN ({_STATUSES}) AND NOT {awaits_reviewer_sql(alias)}"


def counts_for_period_sql(alias: str = "") -> str:
    """A reading that counts for a period as billing counts it, as a condition on `reading`
    taking the period and `True` (for `in_window`): taken in that period's window, and the
    customer's own (`baseline_sql`)."""
    return f"{alias}period = {{}} AND {alias}in_window = {{}} AND {baseline_sql(alias)}"


RECENT_READINGS = HISTORY_READINGS + 4
"""How many of the meter's latest readings a submission reads: the history's, and room
for this window's corrections, which the history leaves out."""

# The reading with this id, if any (a retry), and the meter's latest counting readings.
_THIS_AND_RECENT = (
    "SELECT *, 1 AS is_this FROM reading WHERE id = {}"
    " UNION ALL SELECT * FROM (SELECT *, 0 AS is_this FROM reading"
    f" WHERE meter = {{}} AND {baseline_sql()}"
    " ORDER BY taken_on DESC, received_at DESC LIMIT {}) AS recent"
)

_INSERT_READING = (
    "INSERT INTO reading (id, receipt, meter, account, value_1, value_2, value_3, taken_on,"
    " received_at, channel, submitted_by, status, period, in_window, flags, rollover,"
    " supersedes, consumption_total)"
    " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"
    " ON CONFLICT DO NOTHING RETURNING id"
)

# PostgreSQL: the reading, the readings it supersedes and its audit entry in one statement
# (nothing but the insert happens when the insert found its receipt taken).
_STORE_PG = (
    f"WITH stored AS ({_INSERT_READING}),"
    f" superseded AS (UPDATE reading SET status = '{ReadingStatus.SUPERSEDED.value}'"
    " WHERE id = ANY({}::uuid[]) AND EXISTS (SELECT 1 FROM stored)),"
    f" audited AS ({AUDIT_INSERT} SELECT {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}} FROM stored)"
    " SELECT id FROM stored"
)


def _readings_and_bills_sql(aggregate: str) -> str:
    """`_THIS_AND_RECENT` with the meter's estimated bills before a period beside it (JSON
    arrays of the period and the consumption per zone column, by `aggregate`); one row
    without a reading when there are none."""
    return (
        f"SELECT (SELECT {aggregate}(b.period, b.consumption_1, b.consumption_2,"
        " b.consumption_3)) FROM bill_line b"
        f" WHERE b.meter = {{}} AND b.basis = '{Basis.ESTIMATED.value}' AND b.period < {{}})"
        f" AS estimated_bills, r.* FROM (SELECT 1) AS one"
        f" LEFT JOIN ({_THIS_AND_RECENT}) AS r ON true"
    )


_READINGS_AND_BILLS_PG = _readings_and_bills_sql("json_agg(json_build_array")
_READINGS_AND_BILLS_SQLITE = _readings_and_bills_sql("json_group_array(json_array")


@dataclass(frozen=True)
class ReadingsAndBills:
    """What `readings_and_bills` read for one submission."""

    existing: dict[str, Any] | None
    """The stored reading with the submission's id: None when it is new."""
    recent: list[dict[str, Any]]
    """The meter's latest counting readings, newest first."""
    complete: bool
    """Whether `recent` holds every counting reading of the meter."""
    estimated: list[tuple[str, int | None, int | None, int | None]]
    """The meter's estimated bills before the reading's period: (period, consumption per
    zone column)."""


async def readings_and_bills(
    reading_id: UUID, meter_id: int, *, before_period: str
) -> ReadingsAndBills:
    """The stored reading with this id (a retry), the meter's latest counting readings and
    its estimated bills before `before_period`, in one round trip.

    Run it after the meter's lock, in a statement of its own: on PostgreSQL a statement
    that waited for the lock still reads the other tables as they were when it started, so
    a retry waiting behind its first delivery would miss it.
    """
    sql = _READINGS_AND_BILLS_PG if is_postgres() else _READINGS_AND_BILLS_SQLITE
    rows: list[dict[str, Any]] = await Reading.raw(
        sql, meter_id, before_period, reading_id, meter_id, RECENT_READINGS
    )
    raw = rows[0]["estimated_bills"]
    estimated = [tuple(line) for line in (json.loads(raw) if isinstance(raw, str) else raw or [])]
    readings = [r for r in rows if r["id"] is not None]
    existing = next((r for r in readings if r["is_this"]), None)
    recent = [r for r in readings if not r["is_this"]]
    recent.sort(key=lambda r: (r["taken_on"], r["received_at"]), reverse=True)
    return ReadingsAndBills(
        existing=existing,
        recent=recent,
        complete=len(recent) < RECENT_READINGS,
        estimated=estimated,
    )


async def store_reading(
    reading_id: UUID,
    columns: Sequence[Any],
    *,
    superseded: Sequence[UUID],
    audit: Sequence[Any],
    receipt_key: bytes = b"",
) -> str:
    """Insert the reading under the first free receipt number derived from its id, mark
    the readings it supersedes and write its audit entry (`audit_values`); returns the
    receipt.

    The id was checked under the meter's lock, so a conflict here is a receipt taken by
    another reading (27^9 codes: practically never); the next salt gives another code.
    """
    for salt in range(16):
        receipt = receipt_from_uuid(reading_id, salt=salt, key=receipt_key)
        if is_postgres():
            if await Reading.raw(
                _STORE_PG, reading_id, receipt, *columns, list(superseded), *audit
            ):
                return receipt
            continue
        if await Reading.raw(_INSERT_READING, reading_id, receipt, *columns):
            if superseded:
                await Reading.update({Reading.status: ReadingStatus.SUPERSEDED.value}).where(
                    Reading.id.is_in(list(superseded))
                )
            await write_audit(tuple(audit))
            return receipt
    raise RuntimeError("no free receipt number after 16 tries")
