"""Where a conversation lives between messages: the dialog state, the updates already
handled and the replies queued, in plain SQL (these statements run on every message).

Every function here runs inside the caller's write transaction (see `conversation`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pokaznyk_core.dialog.state import DialogState
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.services.turn_store import (
    IDENTITY_WITH_STATE,
    SQLITE_IDENTITY,
    SQLITE_QUEUE,
    SQLITE_RECORD,
    OutboxRow,
    outbox_values,
)
from pokaznyk_core.storage.sqlite_pool import PooledSQLiteEngine
from pokaznyk_core.storage.tables import DialogState as DialogStateRow
from pokaznyk_core.storage.tables import OutboxMessage, ProcessedUpdate
from pokaznyk_core.storage.transactions import current_engine, is_postgres

SQLITE_SAVE_STATE = "UPDATE dialog_state SET state = ?, version = ?, updated_at = ? WHERE id = ?"

StateRow = tuple[int, int, DialogState]
"""(the state row's id, its version, the state)."""


async def save_state(row_id: int, state_json: str, version: int, now: datetime) -> None:
    """Save the dialog state under its new version."""
    await DialogStateRow.raw(
        "UPDATE dialog_state SET state = {}, version = {}, updated_at = {} WHERE id = {}",
        state_json,
        version,
        now,
        row_id,
    )


DUPLICATE = object()
"""The update was handled before."""

DELIVERY_WITH_STATE_SQL = f"""
WITH fresh AS (
    INSERT INTO processed_update (channel, update_key, received_at) VALUES ({{}}, {{}}, {{}})
    ON CONFLICT DO NOTHING RETURNING id
)
SELECT (SELECT count(*) FROM fresh) AS fresh_count, x.*
FROM (SELECT 1) AS one LEFT JOIN (
    {IDENTITY_WITH_STATE.format(channel="{}", user="{}")} FOR UPDATE OF d
) AS x ON true
"""


async def delivery_with_state(
    channel: Channel, user: str, update_key: str, now: datetime
) -> object:
    """Record the update and read the identity with its locked state in one round trip
    (on SQLite, whose write transaction holds the database, one call on its connection).
    `DUPLICATE` when the update was handled before; None on first contact (no identity or
    state yet); else what `identity_with_state` returns."""
    engine = current_engine()
    if isinstance(engine, PooledSQLiteEngine):
        key, sender = update_key[:120], user[:80]

        def record_and_read(connection: sqlite3.Connection) -> dict[str, Any] | None:
            if not connection.execute(SQLITE_RECORD, (channel.value, key, now)).rowcount:
                return None
            found = connection.execute(SQLITE_IDENTITY, (channel.value, sender)).fetchone()
            return dict(found) if found else {}

        found = await engine.run_in_transaction(record_and_read)
        if found is None:
            return DUPLICATE
        return split_state(found) if found else None
    if not is_postgres():
        if not await first_delivery(channel, update_key, now):
            return DUPLICATE
        return await identity_with_state(channel, user)
    rows = await ProcessedUpdate.raw(
        DELIVERY_WITH_STATE_SQL, channel.value, update_key[:120], now, channel.value, user[:80]
    )
    row = dict(rows[0])
    if not row.pop("fresh_count"):
        return DUPLICATE
    if row.get("state_id") is None:
        return None
    return split_state(row)


async def save_state_and_enqueue(
    row_id: int, state_json: str, version: int, rows: Sequence[OutboxRow], *, now: datetime
) -> None:
    """Save the dialog state under its new version and queue the outbox rows in order (a
    row whose dedupe key was queued before is skipped): one statement on PostgreSQL, one
    call on the open transaction's connection on SQLite."""
    if not rows:
        await save_state(row_id, state_json, version, now)
        return
    queued = outbox_values(rows, now)
    engine = current_engine()
    if isinstance(engine, PooledSQLiteEngine):

        def save_and_queue(connection: sqlite3.Connection) -> None:
            connection.execute(SQLITE_SAVE_STATE, (state_json, version, now, row_id))
            connection.executemany(SQLITE_QUEUE, queued)

        await engine.run_in_transaction(save_and_queue)
        return
    tuples = ", ".join("({}, {}, {}, 'pending', 0, {}, '', {}, {})" for _ in rows)
    insert = (
        "INSERT INTO outbox_message (channel, recipient, payload, status, attempts,"
        f" next_attempt_at, last_error, created_at, dedupe_key) VALUES {tuples}"
        " ON CONFLICT (dedupe_key) DO NOTHING"
    )
    values = [value for row in queued for value in row]
    if is_postgres():
        await OutboxMessage.raw(
            "WITH saved AS (UPDATE dialog_state SET state = {}, version = {}, updated_at = {}"
            " WHERE id = {}) " + insert,
            state_json,
            version,
            now,
            row_id,
            *values,
        )
        return
    await save_state(row_id, state_json, version, now)
    await OutboxMessage.raw(insert, *values)


async def first_delivery(channel: Channel, update_key: str, now: datetime) -> bool:
    inserted = await ProcessedUpdate.raw(
        "INSERT INTO processed_update (channel, update_key, received_at) VALUES ({}, {}, {})"
        " ON CONFLICT DO NOTHING RETURNING id",
        channel.value,
        update_key[:120],
        now,
    )
    return bool(inserted)


async def identity_with_state(
    channel: Channel, user: str
) -> tuple[dict[str, Any], tuple[int, int, DialogState]] | None:
    """The identity and its locked dialog state in one round trip, when both exist."""
    lock = " FOR UPDATE OF d" if is_postgres() else ""
    rows = await DialogStateRow.raw(
        IDENTITY_WITH_STATE.format(channel="{}", user="{}") + lock, channel.value, user[:80]
    )
    if not rows:
        return None
    return split_state(dict(rows[0]))


def split_state(row: dict[str, Any]) -> tuple[dict[str, Any], tuple[int, int, DialogState]]:
    """An identity row joined with its state: (identity, (state id, version, state))."""
    raw = row.pop("state_json")
    data = json.loads(raw) if isinstance(raw, str) else raw
    state = (int(row.pop("state_id")), int(row.pop("state_version")), DialogState.from_json(data))
    return row, state


async def locked_state(channel: Channel, user: str, now: datetime) -> tuple[int, int, DialogState]:
    """The user's state row, created when missing and locked until the transaction ends."""
    row = await state_row(channel, user)
    if row is None:
        await DialogStateRow.insert(
            DialogStateRow(
                channel=channel.value,
                platform_user_id=user[:80],
                state="{}",
                version=0,
                updated_at=now,
            )
        ).on_conflict(action="DO NOTHING")
        row = await state_row(channel, user)
        assert row is not None
    raw = row["state"]
    data = json.loads(raw) if isinstance(raw, str) else raw
    return int(row["id"]), int(row["version"]), DialogState.from_json(data)


async def state_row(channel: Channel, user: str) -> dict[str, Any] | None:
    """Read (and on PostgreSQL lock) the state row in one round trip; SQLite's write
    transaction already holds the database's write lock."""
    lock = " FOR UPDATE" if is_postgres() else ""
    rows = await DialogStateRow.raw(
        "SELECT id, version, state FROM dialog_state"
        " WHERE channel = {} AND platform_user_id = {}" + lock,
        channel.value,
        user[:80],
    )
    return rows[0] if rows else None
