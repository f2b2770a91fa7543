"""The schema's indexes: what every query searches by is indexed, and nothing twice.

Each index costs every insert (a chatbot reply is an outbox row; a reading is a row of
`reading`), so a single-column index that a composite or unique index already leads with
is dropped by the migration of 30 November 2026.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import Account, Meter, MeteringPoint, OutboxMessage, Reading
from pokaznyk_core.storage.transactions import write_transaction


async def _index_columns(database: Database, table: str) -> dict[str, tuple[str, ...]]:
    """Each index of `table` and its columns, in order."""
    if database.is_postgres:
        rows = await OutboxMessage.raw(
            "SELECT i.relname AS name, a.attname AS column_name, k.n"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class t ON t.oid = x.indrelid"
            " CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
            " WHERE t.relname = {} ORDER BY i.relname, k.n",
            table,
        )
    else:
        rows = await OutboxMessage.raw(
            "SELECT il.name AS name, ii.name AS column_name, ii.seqno AS n"
            " FROM pragma_index_list({}) AS il, pragma_index_info(il.name) AS ii"
            " ORDER BY il.name, ii.seqno",
            table,
        )
    indexes: dict[str, tuple[str, ...]] = {}
    for row in rows:
        indexes[row["name"]] = (*indexes.get(row["name"], ()), row["column_name"])
    return indexes


@pytest.mark.parametrize(
    ("table", "searched_by"),
    [
        ("reading", [("receipt",), ("meter", "taken_on"), ("account", "received_at")]),
        (
            "outbox_message",
            [("status", "next_attempt_at"), ("dedupe_key",), ("recipient", "channel", "id")],
        ),
    ],
)
async def test_every_search_is_indexed_and_no_index_repeats_another(
    database: Database, table: str, searched_by: list[tuple[str, ...]]
) -> None:
    indexes = await _index_columns(database, table)
    columns = set(indexes.values())
    for wanted in searched_by:
        assert wanted in columns, f"{table} has no index on {wanted}: {indexes}"
    for name, covered in indexes.items():
        longer = [c for c in columns if len(c) > len(covered) and c[: len(covered)] == covered]
        assert not longer, f"{name} {covered} repeats the start of {longer}"


async def test_receipts_stay_unique_without_their_extra_index(database: Database) -> None:
    now = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
    account = (await Account.insert(Account(number="9990000001", surname="Тест")).run())[0]
    point = (
        await MeteringPoint.insert(
            MeteringPoint(account=account["id"], eic="62Z0000000000001", created_at=now)
        ).run()
    )[0]
    meter = (
        await Meter.insert(
            Meter(metering_point=point["id"], serial="IDX-1", installed_on=date(2020, 1, 1))
        ).run()
    )[0]

    def reading() -> Reading:
        return Reading(
            id=uuid.uuid4(),
            receipt="IDXRCPT01",
            meter=meter["id"],
            account=account["id"],
            value_1=1,
            taken_on=date(2026, 10, 30),
            received_at=now,
            channel="telegram",
            submitted_by="test",
            status="accepted",
            period="2026-10",
            in_window=True,
        )

    await Reading.insert(reading()).run()
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with write_transaction():
            await Reading.insert(reading()).run()
    assert await Reading.count().where(Reading.receipt == "IDXRCPT01") == 1
