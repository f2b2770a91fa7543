"""Bulk writers for the demo data: raw drivers, one transaction, secondary indexes built
once at the end.

Piccolo's ``insert`` writes ~18k rows/s, far too slow for a million accounts; the raw
drivers write ten times faster. SQLite gets the exact text Piccolo's SQLite engine
stores (``str`` of an aware UTC datetime, ISO dates, UUID text, 0/1 booleans), so
Piccolo reads the rows back as it reads its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import asyncpg

from pokaznyk_core.demo.rows import SERIAL_TABLES, Chunk, Row

TableRows = tuple[str, tuple[str, ...], list[Row]]

INDEXED_TABLES = ("account", "account_phone", "metering_point", "meter", "reading")
"""Tables whose secondary indexes are dropped during the load and rebuilt after it."""

_SQLITE_BATCH = 20_000


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime | uuid.UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sqlite_rows(table: str, rows: list[Row]) -> Iterable[Row]:
    if table != "reading":
        return [tuple(_sqlite_value(v) for v in row) for row in rows]
    return _sqlite_readings(rows)


def _sqlite_readings(rows: list[Row]) -> Iterator[Row]:
    """Reading rows in SQLite form, with the hot conversions inlined."""
    dates: dict[date, str] = {}
    for r in rows:
        taken_on = dates.get(r[7])
        if taken_on is None:
            taken_on = dates[r[7]] = r[7].isoformat()
        supersedes = r[16]
        yield (
            str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], taken_on, str(r[8]), r[9], r[10],
            r[11], r[12], r[13], r[14], r[15], None if supersedes is None else str(supersedes),
            r[17],
        )  # fmt: skip


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'


def write_sqlite(path: str, chunks: Iterator[Chunk], tail: Any) -> None:
    """Write every chunk, then ``tail()``'s tables, in one transaction on the file.

    ``tail`` is called after the last chunk (routes need the generated points). On any
    error the transaction is rolled back and the file is as it was.
    """
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MiB
        connection.execute("BEGIN IMMEDIATE")
        try:
            indexes = _drop_sqlite_indexes(connection)
            for chunk in chunks:
                _write_sqlite_tables(connection, chunk.tables())
            _write_sqlite_tables(connection, tail())
            for sql in indexes:
                connection.execute(sql)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.close()


def _drop_sqlite_indexes(connection: sqlite3.Connection) -> list[str]:
    marks = ", ".join("?" for _ in INDEXED_TABLES)
    found = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks})",
        INDEXED_TABLES,
    ).fetchall()
    for name, _ in found:
        connection.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def _write_sqlite_tables(connection: sqlite3.Connection, tables: Iterable[TableRows]) -> None:
    for table, columns, rows in tables:
        if rows:
            sql = _insert_sql(table, columns)
            for start in range(0, len(rows), _SQLITE_BATCH):
                connection.executemany(
                    sql, _sqlite_rows(table, rows[start : start + _SQLITE_BATCH])
                )


async def write_postgres(url: str, chunks: Iterator[Chunk], tail: Any) -> None:
    """Write every chunk, then ``tail()``'s tables, by COPY in one transaction.

    Chunks are generated in a worker thread so the event loop keeps running; sequences
    of the tables with assigned ids are moved past the largest id.
    """
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            indexes = await _drop_postgres_indexes(connection)
            while True:
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    break
                await _copy_tables(connection, chunk.tables())
            await _copy_tables(connection, tail())
            for sql in indexes:
                await connection.execute(sql)
            for table in SERIAL_TABLES:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f' COALESCE((SELECT max(id) FROM "{table}"), 0) + 1, false)'
                )
    finally:
        await connection.close()


async def _drop_postgres_indexes(connection: asyncpg.Connection) -> list[str]:
    """Drop the indexes that back no constraint; return the statements that rebuild them."""
    found = await connection.fetch(
        """
        SELECT i.relname AS name, pg_get_indexdef(i.oid) AS sql
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        list(INDEXED_TABLES),
    )
    for record in found:
        await connection.execute(f'DROP INDEX "{record["name"]}"')
    return [str(record["sql"]) for record in found]


async def _copy_tables(connection: asyncpg.Connection, tables: Iterable[TableRows]) -> None:
    for table, columns, rows in tables:
        if rows:
            await connection.copy_records_to_table(table, records=rows, columns=list(columns))
