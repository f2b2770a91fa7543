"""`pokaznyk db …`: the schema."""

from __future__ import annotations

import click

from pokaznyk_core.cli.runner import load_settings, run
from pokaznyk_core.storage.engine import connect, upgrade


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database if needed and apply every pending migration."""
    settings = load_settings()

    async def go() -> list[str]:
        database = await connect(settings.database_url, create=True)
        try:
            return await upgrade(database)
        finally:
            await database.close()

    applied = run(go())
    if applied:
        click.echo(f"applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        click.echo("the database is up to date")
