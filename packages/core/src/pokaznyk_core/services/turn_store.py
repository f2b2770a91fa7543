"""A customer message in two round trips: the turn's snapshot, read without a lock, and its
outcome, written in one atomic step that refuses when the conversation has moved on.

Most messages of a dialog (a menu choice, an account number, each zone's value) only move
the dialog and queue replies. For them `conversation` reads a `Snapshot` (whether the
update was seen, the identity, the state and its version, the accounts with their meters
and recent readings), runs the pure engine, and calls `commit_turn`, which records the
update, saves the state only if its version is still the one read, and queues the
outbox rows, all or nothing. A concurrent message of the same user makes the version
check fail (`CONFLICT`) and the turn is read and run again; a redelivery racing the first
delivery fails on the unique update key (`DUPLICATE`). Messages that act (verify, submit)
take the locked transaction in `conversation` instead.

On PostgreSQL each of the two is one statement on a pooled connection; on SQLite each runs
on a pooled connection on the event loop, the write in its turn among the process's
writers.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from pokaznyk_core.dialog.state import DialogState
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.services.identities import FACTS_ORDER, linked_facts_sql
from pokaznyk_core.storage.sqlite_pool import PooledSQLiteEngine
from pokaznyk_core.storage.transactions import current_engine


class Committed(enum.Enum):
    """What `commit_turn` did."""

    SAVED = "saved"
    CONFLICT = "conflict"
    """The state changed since it was read: nothing was written; read and run again."""
    DUPLICATE = "duplicate"
    """The update was handled by another delivery: nothing was written."""


REPLY_KIND = "reply"
REMINDER_KIND = "reminder"
"""The `kind` of an outbox payload `{"reply": …, "kind": …}`: an answer to the customer's
message, or a message the service starts (Messenger sends the two differently)."""


@dataclass(frozen=True)
class OutboxRow:
    """One message for the outbox, written with the turn."""

    channel: str
    recipient: str
    payload: dict[str, Any]
    dedupe_key: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """What one message is answered from, as read before any lock."""

    seen: bool
    identity: dict[str, Any] | None
    """The identity row; None on first contact (no identity or no state yet)."""
    state_id: int = 0
    version: int = 0
    state: DialogState | None = None
    fact_rows: tuple[dict[str, Any], ...] = ()
    """The linked accounts' rows as `identities` reads them (account, meter, reading)."""


def supports_snapshot_turns() -> bool:
    """True when the engine can run turns this way and no transaction is open (a caller's
    own transaction, like the phone line's, wants every write inside it)."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        return engine.pool is not None and engine.current_transaction.get() is None
    if isinstance(engine, PooledSQLiteEngine):
        return engine.current_transaction.get() is None
    return False


UPDATE_KEY_INDEX = "processed_update_channel_key"
"""The unique index that makes a platform update count once."""

IDENTITY_WITH_STATE = """
SELECT i.*, d.id AS state_id, d.version AS state_version, d.state AS state_json
FROM messenger_identity i JOIN dialog_state d
    ON d.channel = i.channel AND d.platform_user_id = i.platform_user_id
WHERE i.channel = {channel} AND i.platform_user_id = {user}
"""

_PG_READ = f"""
SELECT EXISTS (SELECT 1 FROM processed_update WHERE channel = $1 AND update_key = $3) AS seen,
       x.*,
       (SELECT json_agg(f ORDER BY {FACTS_ORDER})
        FROM ({linked_facts_sql(identity="x.id", postgres=True)}) AS f) AS fact_rows
FROM (SELECT 1) AS one
LEFT JOIN ({IDENTITY_WITH_STATE.format(channel="$1", user="$2")}) AS x ON true
"""

_PG_COMMIT = """
WITH saved AS (
    UPDATE dialog_state SET state = $1, version = $2 + 1, updated_at = $3
    WHERE id = $4 AND version = $2
    RETURNING id
), seen AS (
    INSERT INTO processed_update (channel, update_key, received_at)
    SELECT $5, $6, $3 FROM saved WHERE $6::varchar IS NOT NULL
), queued AS (
    INSERT INTO outbox_message (channel, recipient, payload, status, attempts,
                                next_attempt_at, last_error, created_at, dedupe_key)
    SELECT q.channel, q.recipient, q.payload::json, 'pending', 0, $3, '', $3, q.dedupe_key
    FROM saved, unnest($7::varchar[], $8::varchar[], $9::text[], $10::varchar[])
        WITH ORDINALITY AS q(channel, recipient, payload, dedupe_key, n)
    ORDER BY q.n
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT count(*) AS saved FROM saved
"""

_PG_CREATE = """
WITH person AS (
    INSERT INTO messenger_identity (channel, platform_user_id, language, display_name,
                                    phone_digits, reminders, subscribed, created_at)
    VALUES ($1, $2, $3, $4, '', true, true, $5)
    ON CONFLICT DO NOTHING
    RETURNING *
), state AS (
    INSERT INTO dialog_state (channel, platform_user_id, state, version, updated_at)
    VALUES ($1, $2, '{}', 0, $5)
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT person.*, state.id AS state_id FROM person, state
"""

_SQLITE_SEEN = "SELECT 1 FROM processed_update WHERE channel = ? AND update_key = ?"
_SQLITE_FACTS = linked_facts_sql(identity="?", postgres=False) + " ORDER BY " + FACTS_ORDER
SQLITE_IDENTITY = IDENTITY_WITH_STATE.format(channel="?", user="?")
SQLITE_RECORD = (
    "INSERT INTO processed_update (channel, update_key, received_at) VALUES (?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
_SQLITE_SAVE = (
    "UPDATE dialog_state SET state = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?"
)


def queue_sql(rows: int, mark: str) -> str:
    """The insert of `rows` pending outbox rows, their values as `outbox_values` gives them
    behind the driver's placeholder `mark`; a row whose dedupe_key is queued already is left
    out."""
    row = f"({mark}, {mark}, {mark}, 'pending', 0, {mark}, '', {mark}, {mark})"
    return (
        "INSERT INTO outbox_message (channel, recipient, payload, status, attempts,"
        " next_attempt_at, last_error, created_at, dedupe_key) VALUES "
        + ", ".join([row] * rows)
        + " ON CONFLICT (dedupe_key) DO NOTHING"
    )


SQLITE_QUEUE = queue_sql(1, "?")
_SQLITE_CREATE = (
    "INSERT INTO messenger_identity (channel, platform_user_id, language, display_name,"
    " phone_digits, reminders, subscribed, created_at) VALUES (?, ?, ?, ?, '', 1, 1, ?)"
    " ON CONFLICT DO NOTHING RETURNING *",
    "INSERT INTO dialog_state (channel, platform_user_id, state, version, updated_at)"
    " VALUES (?, ?, '{}', 0, ?) ON CONFLICT DO NOTHING RETURNING id",
)


async def read_turn(channel: Channel, user: str, update_key: str | None) -> Snapshot:
    """Whether the update was seen, the identity, its state and the facts' rows, in one
    round trip and without a lock."""
    user = user[:80]
    key = update_key[:120] if update_key is not None else None
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        async with engine.pool.acquire() as connection:
            row = await connection.fetchrow(_PG_READ, channel.value, user, key)
        found = dict(row)
        facts = json.loads(found.pop("fact_rows") or "[]")
        return _snapshot(bool(found.pop("seen")), found, tuple(_typed(r) for r in facts))

    def read(connection: sqlite3.Connection) -> Snapshot:
        seen = key is not None and bool(
            connection.execute(_SQLITE_SEEN, (channel.value, key)).fetchone()
        )
        found = connection.execute(SQLITE_IDENTITY, (channel.value, user)).fetchone()
        rows: list[dict[str, Any]] = []
        if found is not None:
            rows = connection.execute(_SQLITE_FACTS, (found["id"],)).fetchall()
        return _snapshot(seen, dict(found) if found else {}, tuple(rows))

    assert isinstance(engine, PooledSQLiteEngine)
    return await engine.run_short_read(read)


def _snapshot(seen: bool, found: dict[str, Any], rows: tuple[dict[str, Any], ...]) -> Snapshot:
    if found.get("state_id") is None:
        return Snapshot(seen=seen, identity=None)
    raw = found.pop("state_json")
    data = json.loads(raw) if isinstance(raw, str) else raw
    return Snapshot(
        seen=seen,
        identity=found,
        state_id=int(found.pop("state_id")),
        version=int(found.pop("state_version")),
        state=DialogState.from_json(data),
        fact_rows=rows,
    )


_DATES = ("installed_on", "r_taken_on")


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """A facts row from PostgreSQL's JSON with the types the driver would have given."""
    for key in _DATES:
        if row.get(key) is not None:
            row[key] = date.fromisoformat(row[key])
    if row.get("r_received_at") is not None:
        row["r_received_at"] = datetime.fromisoformat(row["r_received_at"]).astimezone(UTC)
    return row


async def create_conversation(
    channel: Channel, user: str, *, display_name: str, language: str, now: datetime
) -> Snapshot | None:
    """The identity and the empty dialog state of a first contact, created together, as
    the snapshot of the new conversation; None when either existed already (a first
    message racing another one): then read the turn again."""
    values = (channel.value, user[:80], language, display_name[:150], now)
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        async with engine.pool.acquire() as connection:
            row = await connection.fetchrow(_PG_CREATE, *values)
        return _created(dict(row) if row is not None else None)

    def create(connection: sqlite3.Connection) -> Snapshot | None:
        person = connection.execute(_SQLITE_CREATE[0], values).fetchone()
        state = connection.execute(_SQLITE_CREATE[1], (channel.value, user[:80], now))
        state_row = state.fetchone()
        if person is None or state_row is None:
            return None
        return _created(dict(person) | {"state_id": state_row["id"]})

    assert isinstance(engine, PooledSQLiteEngine)
    return await engine.run_write(create)


def _created(found: dict[str, Any] | None) -> Snapshot | None:
    if found is None:
        return None
    return _snapshot(False, found | {"state_version": 0, "state_json": "{}"}, ())


async def commit_turn(
    snapshot: Snapshot,
    state_json: str,
    rows: Sequence[OutboxRow],
    *,
    channel: Channel,
    update_key: str | None,
    now: datetime,
) -> Committed:
    """Record the update, save the state under the next version and queue the rows, all
    or nothing; see the module docstring for CONFLICT and DUPLICATE."""
    key = update_key[:120] if update_key is not None else None
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        try:
            async with engine.pool.acquire() as connection:
                saved = await connection.fetchval(
                    _PG_COMMIT,
                    state_json,
                    snapshot.version,
                    now,
                    snapshot.state_id,
                    channel.value,
                    key,
                    [r.channel for r in rows],
                    [r.recipient[:80] for r in rows],
                    [json.dumps(r.payload, ensure_ascii=False) for r in rows],
                    [r.dedupe_key for r in rows],
                )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != UPDATE_KEY_INDEX:
                raise
            return Committed.DUPLICATE
        except asyncpg.DeadlockDetectedError:
            # A redelivery handled on the locked path at the same moment took the update
            # key first and waits for the state's row: one of the two gives way, and the
            # turn is read again (it will find the update seen).
            return Committed.CONFLICT
        return Committed.SAVED if saved else Committed.CONFLICT

    queued = outbox_values(rows, now)

    def commit(connection: sqlite3.Connection) -> None:
        record = (channel.value, key, now)
        if key is not None and not connection.execute(SQLITE_RECORD, record).rowcount:
            raise _Refused(Committed.DUPLICATE)
        saved = connection.execute(
            _SQLITE_SAVE,
            (state_json, snapshot.version + 1, now, snapshot.state_id, snapshot.version),
        )
        if saved.rowcount == 0:
            raise _Refused(Committed.CONFLICT)  # rolls back the update's record
        connection.executemany(SQLITE_QUEUE, queued)

    assert isinstance(engine, PooledSQLiteEngine)
    try:
        await engine.run_write(commit)
    except _Refused as refused:
        return refused.outcome
    return Committed.SAVED


class _Refused(Exception):  # noqa: N818 (a control-flow signal carrying the outcome)
    """Roll a SQLite turn write back and say why."""

    def __init__(self, outcome: Committed) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


def outbox_values(rows: Sequence[OutboxRow], now: datetime) -> list[tuple[Any, ...]]:
    """The rows' values for `SQLITE_QUEUE` (and the same columns on PostgreSQL)."""
    return [
        (
            r.channel,
            r.recipient[:80],
            json.dumps(r.payload, ensure_ascii=False),
            now,
            now,
            r.dedupe_key,
        )
        for r in rows
    ]
