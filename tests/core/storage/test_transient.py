"""Which failures a retry a little later can get past: webhooks answer them 429 (the platform
delivers again) and `telegram poll` polls the update again; anything else is passed over."""

from __future__ import annotations

import socket
import sqlite3

import asyncpg
import pytest

from pokaznyk_core.storage.transactions import is_transient


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database is locked"),
        socket.gaierror(-3, "Temporary failure in name resolution"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        OSError(113, "No route to host"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.CrashShutdownError("terminating connection: another server crashed"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.LockNotAvailableError("could not obtain lock"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        asyncpg.exceptions.DiskFullError("could not extend file"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_passing_failures_are_retried(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        KeyError("state"),
        ValueError("bad value"),
        TypeError("not a str"),
        sqlite3.IntegrityError("UNIQUE constraint failed"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.UndefinedColumnError("column does not exist"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_failures_that_would_come_again_are_not(error: BaseException) -> None:
    assert not is_transient(error)
