"""Database URLs to Piccolo engines, with no other side effect."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from pokaznyk_core.storage.sqlite_pool import BUSY_TIMEOUT_MS, PooledSQLiteEngine


def sqlite_path(url: str) -> str:
    """The file path of a `sqlite:///path` URL (`sqlite:////abs/path` is absolute)."""
    return unquote(url.removeprefix("sqlite:///"))


def engine_from_url(
    url: str, *, pool: bool = True, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> Engine[Any]:
    """A Piccolo engine for `sqlite:///path` or `postgresql://…`; on SQLite a statement
    waits up to `busy_timeout_ms` for another process's writer."""
    if url.startswith("sqlite:///"):
        # timeout sets SQLite's busy timeout: writers wait for each other instead of failing.
        if not pool:
            return SQLiteEngine(path=sqlite_path(url), timeout=30, log_queries=False)
        return PooledSQLiteEngine(
            path=sqlite_path(url),
            busy_timeout_ms=busy_timeout_ms,
            timeout=busy_timeout_ms / 1000,
            log_queries=False,
        )
    parsed = urlparse(url)
    if parsed.scheme not in {"postgresql", "postgres"}:
        raise ValueError(f"unsupported database URL {url!r}")
    # extensions=() keeps Piccolo from trying to create uuid-ossp; we always supply UUIDs.
    return PostgresEngine(config={"dsn": url}, extensions=(), log_queries=False)
