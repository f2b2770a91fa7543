"""Running a command's coroutine with the database, turning known failures into exit 1."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import click

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.settings import Settings, SettingsError
from pokaznyk_core.storage.engine import Database, DatabaseError, open_database

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Say what is wrong in one line on stderr and exit with status 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def load_settings() -> Settings:
    """The settings from the environment, or exit 1 saying which one is wrong."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        fail(str(error))


def run(coroutine: Awaitable[T]) -> T:
    """Run a coroutine; known failures become one line on stderr and exit 1."""
    try:
        return asyncio.run(_guard(coroutine))
    except (DatabaseError, SettingsError) as error:
        fail(str(error))
    except ServiceError as error:
        fail(error.detail or error.problem.code.value)
    except KeyboardInterrupt:
        fail("interrupted")


async def _guard(coroutine: Awaitable[T]) -> T:
    return await coroutine


def with_database(
    body: Callable[[Database, ServiceContext], Awaitable[T]],
) -> T:
    """Open the upgraded database named by the settings, run `body`, close the database."""
    settings = load_settings()

    async def go() -> T:
        database = await open_database(settings.database_url)
        try:
            return await body(database, ServiceContext(settings=settings))
        finally:
            await database.close()

    return run(go())
