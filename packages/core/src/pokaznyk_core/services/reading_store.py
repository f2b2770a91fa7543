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
from pokaznyk_core.domain.history import HISTORY_READINGS
from pokaznyk_core.domain.readings import COUNTING_STATUSES, ReadingStatus
from pokaznyk_core.domain.receipts import receipt_from_uuid
from pokaznyk_core.services.audit import AUDIT_INSERT, write_audit
from pokaznyk_core.storage.tables import Reading
from pokaznyk_core.storage.transactions import is_postgres

_STATUSES = ", ".join(f"'{s.value}'" for s in sorted(COUNTING_STATUSES))

# The reading with this id, if any (a retry), and the meter's latest counting readings.
_THIS_AND_RECENT = (
    "SELECT *, 1 AS is_this FROM reading WHERE id = {}"
    " UNION ALL SELECT * FROM (SELECT *, 0 AS is_this FROM reading"
    f" WHERE meter = {{}} AND status IN ({_STATUSES})"
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


# The meter (with its account's id and status) and its estimated bills before a period, as
# JSON arrays of the period and the consumption per zone column (`aggregate`), locked on
# PostgreSQL (`lock`).
def _meter_sql(aggregate: str, lock: str) -> str:
    return (
        "SELECT m.*, mp.account AS account_id, a.status AS account_status,"
        f" (SELECT {aggregate}(b.period, b.consumption_1, b.consumption_2, b.consumption_3))"
        f" FROM bill_line b WHERE b.meter = m.id AND b.basis = '{Basis.ESTIMATED.value}'"
        " AND b.period < {}) AS estimated_bills"
        " FROM meter m JOIN metering_point mp ON mp.id = m.metering_point"
        " JOIN account a ON a.id = mp.account"
        f" WHERE m.id = {{}}{lock}"
    )


_METER_PG = _meter_sql("json_agg(json_build_array", " FOR UPDATE OF m")
_METER_SQLITE = _meter_sql("json_group_array(json_array", "")


@dataclass(frozen=True)
class SubmissionRows:
    """What `submission_rows` read for one submission."""

    meter: dict[str, Any] | None
    """The meter's row (the `meter` columns, `account_id` and `account_status`); None when
    there is no such meter."""
    existing: dict[str, Any] | None
    """The stored reading with the submission's id: None when it is new."""
    recent: list[dict[str, Any]]
    """The meter's latest counting readings, newest first."""
    estimated: list[tuple[str, int | None, int | None, int | None]]
    """The meter's estimated bills before the reading's period: (period, consumption per
    zone column)."""


async def submission_rows(reading_id: UUID, meter_id: int, *, before_period: str) -> SubmissionRows:
    """What a submission checks, in two round trips: first the meter, locked until the
    transaction ends (PostgreSQL; SQLite's write transaction holds the whole database
    already), with its estimated bills before `before_period`; then, seeing everything
    committed before the lock was granted, the reading with this id and the meter's recent
    counting readings.

    The two cannot be one statement: on PostgreSQL a statement that waited for the lock
    still reads the other tables as they were when it started, so a retry would miss the
    reading its first delivery stored meanwhile.
    """
    found = await Reading.raw(
        _METER_PG if is_postgres() else _METER_SQLITE, before_period, meter_id
    )
    if not found:
        return SubmissionRows(meter=None, existing=None, recent=[], estimated=[])
    meter = dict(found[0])
    raw = meter.pop("estimated_bills")
    estimated = [tuple(line) for line in (json.loads(raw) if isinstance(raw, str) else raw or [])]
    rows: list[dict[str, Any]] = await Reading.raw(
        _THIS_AND_RECENT, reading_id, meter_id, HISTORY_READINGS + 4
    )
    existing = next((r for r in rows if r["is_this"]), None)
    recent = [r for r in rows if not r["is_this"]]
    recent.sort(key=lambda r: (r["taken_on"], r["received_at"]), reverse=True)
    return SubmissionRows(meter=meter, existing=existing, recent=recent, estimated=estimated)


async def store_reading(
    reading_id: UUID,
    columns: Sequence[Any],
    *,
    superseded: Sequence[UUID],
    audit: Sequence[Any],
) -> str:
    """Insert the reading under the first free receipt number derived from its id, mark
    the readings it supersedes and write its audit entry (`audit_values`); returns the
    receipt.

    The id was checked under the meter's lock, so a conflict here is a receipt taken by
    another reading (27^9 codes: practically never); the next salt gives another code.
    """
    for salt in range(16):
        receipt = receipt_from_uuid(reading_id, salt=salt)
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
