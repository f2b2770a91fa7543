"""`pokaznyk accounts list` and `pokaznyk readings list`: for scripts and support staff."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from pokaznyk_core.cli.runner import fail, load_settings, with_database
from pokaznyk_core.domain.accounts import validate_account_number
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.listings import account_readings, iter_accounts
from pokaznyk_core.storage.engine import Database


@click.group()
def accounts() -> None:
    """Customer accounts."""


@accounts.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N accounts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array (the documented shape).")
def accounts_list(limit: int | None, as_json: bool) -> None:
    """List accounts in number order with their metering points, meters and last readings."""

    async def go(_db: Database, _context: ServiceContext) -> None:
        out = sys.stdout
        first = True
        if as_json:
            out.write("[")
        async for item in iter_accounts(limit):
            if as_json:
                out.write(("" if first else ",\n") + json.dumps(item, ensure_ascii=False))
            else:
                out.write(_account_line(item) + "\n")
            first = False
        if as_json:
            out.write("]\n")

    with_database(go)


def _account_line(item: dict[str, Any]) -> str:
    meters = sum(len(p["meters"]) for p in item["metering_points"])
    holder = f"{item['holder']['surname']} {item['holder']['name']}"
    return (
        f"{item['account']}  {item['status']:<6}  {holder:<30}  "
        f"{meters} meter(s)  {item['address']}"
    )


@click.group()
def readings() -> None:
    """Stored readings."""


@readings.command("list")
@click.option("--account", "number", required=True, help="The account number.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, oldest first.")
def readings_list(number: str, as_json: bool) -> None:
    """List every stored reading of one account, oldest first."""
    length = load_settings().account_number_length
    checked = validate_account_number(number, length)
    if isinstance(checked, Problem):
        fail(f"{number!r} is not an account number: it must be {length} digits")

    async def go(_db: Database, context: ServiceContext) -> list[dict[str, Any]]:
        return await account_readings(checked)

    items = with_database(go)
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False))
        return
    for r in items:
        values = " ".join(f"{z}={v}" for z, v in r["values"].items())
        window = "in window" if r["in_window"] else "off window"
        click.echo(
            f"{r['taken_on']}  {r['period']}  {r['receipt']}  {r['meter']:<16}  {values:<30}"
            f"  {r['channel']:<11}  {r['status']:<18}  {window}"
        )
