"""Benchmark: `load_demo_data` against the plain driver writing the same number of readings.

    uv run python bench/demo_data.py [--accounts N] [--engine sqlite|postgres]

SQLite runs in a temporary directory; PostgreSQL in a fresh database
`pokaznyk_bench_<pid>` on postgresql://postgres@127.0.0.1:5432, dropped afterwards.
The baseline writes constant reading tuples (no generation) with raw `executemany`
(SQLite) or `copy_records_to_table` (PostgreSQL), in one transaction, into a fresh
upgraded database with its indexes in place.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg

from pokaznyk_core.demo import load_demo_data
from pokaznyk_core.demo.rows import READING_COLUMNS
from pokaznyk_core.storage.engine import Database, connect, upgrade
from pokaznyk_core.storage.urls import sqlite_path

SERVER = "postgresql://postgres@127.0.0.1:5432"
TODAY = date(2026, 11, 25)
BATCH = 20_000


async def fresh_database(engine: str, tag: str, workdir: Path) -> Database:
    if engine == "sqlite":
        url = f"sqlite:///{workdir / f'{tag}.sqlite'}"
    else:
        name = f"pokaznyk_bench_{os.getpid()}_{tag}"
        admin = await asyncpg.connect(f"{SERVER}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = f"{SERVER}/{name}"
    database = await connect(url, create=True)
    await upgrade(database)
    return database


async def drop_database(database: Database) -> None:
    await database.close()
    if database.is_postgres:
        name = database.url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(f"{SERVER}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def baseline_sqlite(path: str, count: int) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO account (id, number, surname, name, settlement, street, building,"
            " created_at) VALUES (1, '4110000001', 'К', 'І', 'м', 'в', '1',"
            " '2020-01-01 00:00:00+00:00')"
        )
        connection.execute(
            "INSERT INTO metering_point (id, account, eic, created_at)"
            " VALUES (1, 1, '62Z0000000000017', '2020-01-01 00:00:00+00:00')"
        )
        connection.execute(
            "INSERT INTO meter (id, metering_point, serial, digits, decimals, zone_count,"
            " installed_on) VALUES (1, 1, 'EM-1', 6, 1, 1, '2020-01-01')"
        )
        names = ", ".join(READING_COLUMNS)
        sql = f"INSERT INTO reading ({names}) VALUES ({', '.join('?' for _ in READING_COLUMNS)})"
        for start in range(0, count, BATCH):
            rows = [
                (f"00000000-0000-4000-8000-{n:012d}", f"R{n:09d}", 1, 1, 12345, None, None,
                 "2026-10-31", "2026-10-31 10:00:00+00:00", "telegram", "telegram:1",
                 "accepted", "2026-10", 1, "", 0, None, 100)
                for n in range(start, min(count, start + BATCH))
            ]  # fmt: skip
            connection.executemany(sql, rows)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def baseline_postgres(url: str, count: int) -> None:
    connection = await asyncpg.connect(url)
    created = datetime(2020, 1, 1, tzinfo=UTC)
    try:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO account (id, number, surname, name, settlement, street, building,"
                " created_at) VALUES (1, '4110000001', 'К', 'І', 'м', 'в', '1', $1)",
                created,
            )
            await connection.execute(
                "INSERT INTO metering_point (id, account, eic, created_at)"
                " VALUES (1, 1, '62Z0000000000017', $1)",
                created,
            )
            await connection.execute(
                "INSERT INTO meter (id, metering_point, serial, digits, decimals, zone_count,"
                " installed_on) VALUES (1, 1, 'EM-1', 6, 1, 1, $1)",
                date(2020, 1, 1),
            )
            taken, received = date(2026, 10, 31), datetime(2026, 10, 31, 10, tzinfo=UTC)
            for start in range(0, count, BATCH):
                rows = [
                    (uuid.UUID(int=n + 1), f"R{n:09d}", 1, 1, 12345, None, None, taken, received,
                     "telegram", "telegram:1", "accepted", "2026-10", True, "", False, None, 100)
                    for n in range(start, min(count, start + BATCH))
                ]  # fmt: skip
                await connection.copy_records_to_table(
                    "reading", records=rows, columns=list(READING_COLUMNS)
                )
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pokaznyk-bench-") as workdir:
        database = await fresh_database(args.engine, "demo", Path(workdir))
        try:
            summary = await load_demo_data(
                database, accounts=args.accounts, seed=args.seed, today=TODAY
            )
        finally:
            await drop_database(database)
        database = await fresh_database(args.engine, "baseline", Path(workdir))
        try:
            started = time.perf_counter()
            if database.is_sqlite:
                await asyncio.to_thread(
                    baseline_sqlite, sqlite_path(database.url), summary.readings
                )
            else:
                await baseline_postgres(database.url, summary.readings)
            baseline = time.perf_counter() - started
        finally:
            await drop_database(database)
    per_account = summary.seconds / summary.accounts
    print(f"engine: {args.engine}, accounts: {summary.accounts:,}, seed: {args.seed}")
    print(
        f"load_demo_data: {summary.seconds:.1f} s, {summary.accounts / summary.seconds:,.0f} "
        f"accounts/s, {summary.readings:,} readings, {summary.readings / summary.seconds:,.0f} "
        f"readings/s ({summary.metering_points:,} metering points, {summary.meters:,} meters)"
    )
    print(
        f"  extrapolated to 1,000,000 accounts: {per_account * 1_000_000 / 60:.1f} min, "
        f"~{summary.readings / summary.accounts * 1_000_000 / 1e6:.1f}M readings"
    )
    print(
        f"baseline (plain driver, {summary.readings:,} constant reading rows): {baseline:.1f} s, "
        f"{summary.readings / baseline:,.0f} rows/s"
    )
    print(f"ratio load_demo_data / baseline: {summary.seconds / baseline:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
