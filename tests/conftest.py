"""One `database` fixture for the whole suite: every storage test runs on SQLite and PostgreSQL.

PostgreSQL comes from POKAZNYK_TEST_POSTGRES_URL (a server URL; `.ci/run` sets it). Without
it the local default server is tried; when none answers, PostgreSQL runs are skipped and the
summary says so loudly. When the variable is set and the server does not answer, tests fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database, connect, upgrade
from pokaznyk_core.testing import FixedClock

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
_postgres_state: dict[str, str | None] = {}


async def postgres_server() -> str | None:
    """The PostgreSQL server URL for tests, or None when there is none to use."""
    if "url" in _postgres_state:
        return _postgres_state["url"]
    explicit = os.environ.get("POKAZNYK_TEST_POSTGRES_URL")
    url = explicit or DEFAULT_POSTGRES

    try:
        connection = await asyncpg.connect(f"{url}/postgres", timeout=3)
        await connection.close()
    except Exception as error:
        if explicit:
            raise RuntimeError(
                f"POKAZNYK_TEST_POSTGRES_URL={explicit} does not answer: {error}"
            ) from error
        _postgres_state["url"] = None
        _postgres_state["why"] = str(error)
        return None
    _postgres_state["url"] = url
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_state.get("url") is None and "why" in _postgres_state:
        terminalreporter.write_sep(
            "!",
            "PostgreSQL was SKIPPED: no server answered at "
            f"{DEFAULT_POSTGRES} ({_postgres_state['why']}); "
            "set POKAZNYK_TEST_POSTGRES_URL to run the PostgreSQL half of the suite",
            red=True,
            bold=True,
        )


async def create_postgres_database(server: str) -> str:
    """A fresh, empty PostgreSQL database; returns its URL."""
    name = f"pokaznyk_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{server}/{name}"


async def upgraded_postgres_database() -> str:
    """A fresh PostgreSQL database with the schema, closed again (for a test that opens it
    its own way); skips the test when there is no server. Drop it with
    `drop_postgres_database`."""
    server = await postgres_server()
    if server is None:
        pytest.skip("PostgreSQL server not available")
    url = await create_postgres_database(server)
    database = await connect(url, create=True)
    await upgrade(database)
    await database.close()
    return url


async def drop_postgres_database(url: str) -> None:
    """Drop a database made by `create_postgres_database`."""
    server, name = url.rsplit("/", 1)
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A fresh, upgraded database for one test module, once per engine."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "pokaznyk.sqlite"
        url = f"sqlite:///{path}"
    else:
        server = await postgres_server()
        if server is None:
            pytest.skip("PostgreSQL server not available")
        url = await create_postgres_database(server)
    db = await connect(url, create=True)
    await upgrade(db)
    try:
        yield db
    finally:
        await db.close()
        if request.param == "postgres":
            await drop_postgres_database(url)


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock: 30 October 2026, 09:00 UTC (inside the October window)."""
    return FixedClock()


@pytest.fixture
def context(clock: FixedClock, database: Database) -> ServiceContext:
    """The service context of a test: default settings on the test database, a fixed clock."""
    return ServiceContext(settings=Settings(database_url=database.url), clock=clock)
