"""The `pokaznyk` command line: domain commands here, others added through entry points.

Exit status: 0 on success, 1 on a user error (one line on stderr saying what is wrong),
2 on wrong usage.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from pokaznyk_core.cli.accounts import accounts, readings
from pokaznyk_core.cli.billing import close_period_command, import_readings_command
from pokaznyk_core.cli.database import db
from pokaznyk_core.cli.demo import demo, demo_data
from pokaznyk_core.cli.platforms import COMMANDS as PLATFORM_COMMANDS
from pokaznyk_core.cli.staff import create_user

PLUGIN_GROUP = "pokaznyk.cli"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Pokaznyk: meter readings from every channel, on time."""


for command in (
    db,
    demo,
    demo_data,
    accounts,
    readings,
    create_user,
    close_period_command,
    import_readings_command,
    *PLATFORM_COMMANDS,
):
    cli.add_command(command)


def _add_plugins() -> None:
    """Commands of the other packages (`serve`, `tui`, …), found by entry point."""
    for entry in entry_points(group=PLUGIN_GROUP):
        if entry.name in cli.commands:
            continue
        try:
            command = entry.load()
        except ImportError as error:  # a broken optional package must not break the CLI
            click.echo(f"warning: command {entry.name!r} unavailable: {error}", err=True)
            continue
        cli.add_command(command, entry.name)


def main() -> None:
    """Entry point of the `pokaznyk` script."""
    _add_plugins()
    cli(prog_name="pokaznyk")
