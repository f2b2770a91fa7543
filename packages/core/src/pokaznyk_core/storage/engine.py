"""Connecting to the database named by `POKAZNYK_DATABASE_URL` and upgrading its schema."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from pokaznyk_core.storage import piccolo_conf
from pokaznyk_core.storage.sqlite_pool import BUSY_TIMEOUT_MS, PooledSQLiteEngine
from pokaznyk_core.storage.tables import TABLES
from pokaznyk_core.storage.urls import engine_from_url, sqlite_path

PICCOLO_CONF_MODULE = "pokaznyk_core.storage.piccolo_conf"
APP_NAME = "pokaznyk"


class DatabaseError(RuntimeError):
    """The database cannot be used: missing, unreachable or not upgraded. Says what to do."""


@dataclass
class Database:
    """An open database: the engine every table of the process uses."""

    url: str
    engine: Engine[Any]

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite engine."""
        return isinstance(self.engine, SQLiteEngine)

    @property
    def is_postgres(self) -> bool:
        """True for PostgreSQL."""
        return isinstance(self.engine, PostgresEngine)

    async def close(self) -> None:
        """Close the connection pool (PostgreSQL)."""
        if isinstance(self.engine, PostgresEngine):
            await self.engine.close_connection_pool()
        elif isinstance(self.engine, PooledSQLiteEngine):
            await self.engine.close_connections()


def _bind(engine: Engine[Any]) -> None:
    """Make every table, and Piccolo's migration runner, use `engine`."""
    os.environ["PICCOLO_CONF"] = PICCOLO_CONF_MODULE
    piccolo_conf.DB = engine
    for table in (*TABLES, Migration):
        table._meta.db = engine


async def _reset_connection(connection: Any) -> None:
    """What a connection needs before it serves the next request: only a rollback if a
    transaction was left open. asyncpg's default reset (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL) is a round trip on every release; the service uses none of them."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def connect(
    url: str, *, create: bool = False, pool_size: int = 10, statement_timeout: float = 0
) -> Database:
    """Open the database at `url` and bind the tables to it.

    A missing SQLite file is an error unless `create` is set (only `db upgrade` creates one),
    so a mistyped path never silently starts an empty database. A positive
    `statement_timeout` (seconds) bounds each statement's wait: on PostgreSQL a lock's or a
    lost connection's included (it fails with TimeoutError), on SQLite another process's
    writer's (it fails with "database is locked"); both are passing failures.
    """
    if url.startswith("sqlite:///"):
        path = Path(sqlite_path(url))
        if not create and not path.exists():  # noqa: ASYNC240 - one stat, at start-up
            raise DatabaseError(
                f"database file {path} does not exist: run `pokaznyk db upgrade` first"
            )
        if create and path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
    # On SQLite a writer may wait twice: for this process's writers, then for another
    # process's; each wait gets half, so that both together stay within the limit.
    waits = round(statement_timeout * 500) if statement_timeout > 0 else BUSY_TIMEOUT_MS
    engine = engine_from_url(url, busy_timeout_ms=waits)
    if isinstance(engine, PostgresEngine):
        try:
            await engine.start_connection_pool(
                min_size=1,
                max_size=pool_size,
                reset=_reset_connection,
                command_timeout=statement_timeout or None,
            )
        except Exception as error:  # asyncpg raises many kinds; all mean "cannot connect"
            raise DatabaseError(f"cannot connect to the database: {error}") from None
    _bind(engine)
    return Database(url=url, engine=engine)


async def upgrade(database: Database) -> list[str]:
    """Run every migration not yet applied; return the IDs applied now.

    On SQLite this also switches the file to WAL, which persists in the file.
    """
    from piccolo.apps.migrations.commands.forwards import run_forwards

    if database.is_sqlite:
        await database.engine.run_ddl("PRAGMA journal_mode=WAL")
    before = set(await _applied(database))
    with contextlib.redirect_stdout(io.StringIO()) as log:
        result = await run_forwards(app_name=APP_NAME, migration_id="all")
    if not result.success:
        raise DatabaseError(f"the schema upgrade failed: {result.message}\n{log.getvalue()}")
    return [m for m in await _applied(database) if m not in before]


async def _applied(database: Database) -> list[str]:
    if not await Migration.table_exists().run():
        return []
    return await Migration.get_migrations_which_ran(app_name=APP_NAME)


def known_migrations() -> list[str]:
    """IDs of the migrations shipped with this version."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.conf.apps import Finder

    app_config = Finder().get_app_config(APP_NAME)
    modules = BaseMigrationManager().get_migration_modules(
        app_config.resolved_migrations_folder_path
    )
    return sorted(modules)


async def ensure_upgraded(database: Database) -> None:
    """Refuse to work on a database whose schema is older than this version."""
    try:
        applied = set(await _applied(database))
    except Exception as error:
        raise DatabaseError(f"cannot read the database: {error}") from None
    missing = [m for m in known_migrations() if m not in applied]
    if missing:
        raise DatabaseError(
            f"the database is not upgraded ({len(missing)} migration(s) pending): "
            "run `pokaznyk db upgrade`"
        )


async def open_database(url: str, *, statement_timeout: float = 0) -> Database:
    """Connect and check the schema is current: what every command but `db upgrade` uses
    (`statement_timeout` as in `connect`)."""
    database = await connect(url, statement_timeout=statement_timeout)
    try:
        await ensure_upgraded(database)
    except DatabaseError:
        await database.close()
        raise
    return database
