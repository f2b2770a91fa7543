"""``load_demo_data``: fill an empty, upgraded database with the demo in one transaction."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher

from pokaznyk_core.demo.generator import DemoGenerator, staff_timestamp
from pokaznyk_core.demo.rows import (
    AUDIT_ENTRY_COLUMNS,
    ROUTE_COLUMNS,
    ROUTE_STOP_COLUMNS,
    STAFF_USER_COLUMNS,
)
from pokaznyk_core.demo.staff import DEMO_STAFF, route_rows, staff_rows
from pokaznyk_core.demo.writers import TableRows, write_postgres, write_sqlite
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.urls import sqlite_path

AUDIT_ACTOR = "demo-data"
AUDIT_ACTION = "demo.loaded"


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`load_demo_data` wrote, and how long it took."""

    accounts: int
    metering_points: int
    meters: int
    readings: int
    staff: int
    seconds: float


def _hash_passwords() -> list[str]:
    hasher = PasswordHasher()
    return [hasher.hash(staff.password) for staff in DEMO_STAFF]


async def load_demo_data(
    database: Database, *, accounts: int, seed: int, today: date
) -> DemoSummary:
    """Write the demo into ``database`` (upgraded and empty): accounts, phones, metering
    points, meters, two years of readings up to ``today``, the demo staff, today's
    routes and one ``demo.loaded`` audit entry.

    Deterministic for ``seed`` and ``today``. Everything is written in one transaction:
    on failure nothing is left behind.
    """
    if accounts < 1:
        raise ValueError("the demo needs at least one account")
    started = time.perf_counter()
    hashes = await asyncio.to_thread(_hash_passwords)
    generator = DemoGenerator(accounts=accounts, seed=seed, today=today)

    def tail() -> list[TableRows]:
        routes, stops = route_rows(generator.route_candidates, today)
        counts = generator.counts
        details = {
            "accounts": counts.accounts,
            "metering_points": counts.metering_points,
            "meters": counts.meters,
            "readings": counts.readings,
            "seed": seed,
            "today": today.isoformat(),
        }
        audit = (
            1, staff_timestamp(today, 0, 5), AUDIT_ACTOR, AUDIT_ACTION, "database", "",
            json.dumps(details), "pokaznyk demo-data",
        )  # fmt: skip
        return [
            ("staff_user", STAFF_USER_COLUMNS, staff_rows(hashes, today)),
            ("route", ROUTE_COLUMNS, routes),
            ("route_stop", ROUTE_STOP_COLUMNS, stops),
            ("audit_entry", AUDIT_ENTRY_COLUMNS, [audit]),
        ]

    if database.is_sqlite:
        await asyncio.to_thread(write_sqlite, sqlite_path(database.url), generator.chunks(), tail)
    else:
        await write_postgres(database.url, generator.chunks(), tail)
    # Fresh statistics, so the planner sees a table of readings and not an empty one
    # (without them PostgreSQL scanned the status index for every dialog step).
    await database.engine.run_ddl("ANALYZE")
    counts = generator.counts
    return DemoSummary(
        accounts=counts.accounts,
        metering_points=counts.metering_points,
        meters=counts.meters,
        readings=counts.readings,
        staff=len(DEMO_STAFF),
        seconds=time.perf_counter() - started,
    )
