"""`pokaznyk demo` and `pokaznyk demo-data`: a service with realistic data in one command."""

from __future__ import annotations

from dataclasses import dataclass

import click

from pokaznyk_core.cli.runner import fail, load_settings, run, with_database
from pokaznyk_core.demo import DEMO_STAFF, DemoSummary, load_demo_data
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import register_customer
from pokaznyk_core.services.listings import iter_accounts
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database, connect, open_database, upgrade
from pokaznyk_core.storage.tables import Account, StaffUser

DEFAULT_DEMO_ACCOUNTS = 2000
DEMO_CUSTOMER_PASSWORD = "demo-customer-2026"


@dataclass(frozen=True)
class DemoCustomer:
    """A demo account holder to try the web form and the cabinet with."""

    account: str
    surname: str
    phone: str


async def _demo_customer(settings: Settings) -> DemoCustomer | None:
    """The first active demo account with a phone and a meter, with a cabinet opened for
    it (once) so the demo can be tried without registering."""
    database = await open_database(settings.database_url)
    try:
        async for item in iter_accounts(50):
            meters = [m for p in item["metering_points"] for m in p["meters"]]
            if item["status"] != "active" or not item["phones"] or not meters:
                continue
            customer = DemoCustomer(item["account"], item["holder"]["surname"], item["phones"][0])
            await register_customer(
                ServiceContext(settings=settings),
                user_key="demo",
                account_number=customer.account,
                surname=customer.surname,
                phone=customer.phone,
                password=DEMO_CUSTOMER_PASSWORD,
            )  # a second run finds it registered already: nothing changes
            return customer
        return None
    finally:
        await database.close()


async def _is_empty() -> bool:
    return not (await Account.exists() or await StaffUser.exists())


def _summary_line(summary: DemoSummary) -> str:
    return (
        f"demo data: {summary.accounts} accounts, {summary.metering_points} metering points, "
        f"{summary.meters} meters, {summary.readings} readings, {summary.staff} staff users "
        f"in {summary.seconds:.1f} s"
    )


@click.command("demo-data")
@click.option(
    "--accounts", type=click.IntRange(min=1, max=5_000_000), default=DEFAULT_DEMO_ACCOUNTS
)
@click.option("--seed", type=int, default=1, help="The same seed gives the same data.")
def demo_data(accounts: int, seed: int) -> None:
    """Fill an empty, upgraded database with realistic demo data."""

    async def go(database: Database, context: ServiceContext) -> DemoSummary:
        if not await _is_empty():
            fail("the database already has data: demo data goes into an empty database only")
        return await load_demo_data(database, accounts=accounts, seed=seed, today=context.today())

    click.echo(_summary_line(with_database(go)))


def print_sign_ins() -> None:
    """The demo staff sign-ins, for the person trying the service."""
    click.echo("staff sign-ins (demo only):")
    for staff in DEMO_STAFF:
        click.echo(f"  {staff.role:<8} {staff.username:<10} password {staff.password}")


@click.command("demo")
@click.option(
    "--accounts", type=click.IntRange(min=1, max=5_000_000), default=DEFAULT_DEMO_ACCOUNTS
)
@click.option("--seed", type=int, default=1)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
@click.pass_context
def demo(
    ctx: click.Context, accounts: int, seed: int, host: str, port: int, no_serve: bool
) -> None:
    """Upgrade the database, add demo data if it is empty, then serve."""
    settings = load_settings()

    async def go() -> DemoSummary | None:
        database = await connect(settings.database_url, create=True)
        try:
            await upgrade(database)
            if not await _is_empty():
                return None
            context = ServiceContext(settings=settings)
            return await load_demo_data(
                database, accounts=accounts, seed=seed, today=context.today()
            )
        finally:
            await database.close()

    summary = run(go())
    click.echo(_summary_line(summary) if summary else "database already has data: kept as it is")
    print_sign_ins()
    customer = run(_demo_customer(settings))
    if customer is not None:
        click.echo(
            "customer (demo): web form /submit with account "
            f"{customer.account} and surname {customer.surname}; cabinet /cabinet with phone "
            f"{customer.phone} and password {DEMO_CUSTOMER_PASSWORD}"
        )
    if not no_serve:
        base = f"http://{host}:{port}"
        click.echo(
            f"open {base}/submit (reading without registration), {base}/cabinet (customer "
            f"account); webhooks at {base}/webhooks/telegram|viber|messenger and {base}/ivr/voice; "
            f"API schema {base}/schema/openapi.json"
        )
    group = ctx.parent.command if ctx.parent else None
    serve = group.get_command(ctx, "serve") if isinstance(group, click.Group) else None
    if no_serve or serve is None:
        if serve is None and not no_serve:
            click.echo("the web package is not installed: nothing to serve")
        return
    ctx.invoke(serve, host=host, port=port, demo=True)
