"""`pokaznyk close-period` and `pokaznyk import-readings`."""

from __future__ import annotations

from pathlib import Path

import click

from pokaznyk_core.cli.runner import fail, with_database
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.window import Period
from pokaznyk_core.services.billing import PeriodCloseSummary, close_period
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.imports import ImportFileError, ImportReport, import_readings
from pokaznyk_core.storage.engine import Database


@click.command("close-period")
@click.argument("period")
def close_period_command(period: str) -> None:
    """Close billing period YYYY-MM: bill each meter on its reading or an estimate."""
    parsed = Period.parse(period)
    if isinstance(parsed, Problem):
        fail(f"{period!r} is not a period: write it as YYYY-MM, e.g. 2026-10")

    async def go(_db: Database, context: ServiceContext) -> PeriodCloseSummary:
        return await close_period(context, parsed, actor="cli")

    summary = with_database(go)
    click.echo(
        f"closed {summary.period}: {summary.actual} meter(s) billed on actual readings, "
        f"{summary.estimated} estimated"
    )


@click.command("import-readings")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_readings_command(file: Path) -> None:
    """Import readings from a CSV file: eic,taken_on,<zones>[,id] (header line first)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"{file} does not exist")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {error}")

    async def go(_db: Database, context: ServiceContext) -> ImportReport:
        try:
            return await import_readings(context, text, source=file.name)
        except ImportFileError as error:
            fail(f"{file}: {error}")

    report = with_database(go)
    for row, reason in report.rejected:
        click.echo(f"row {row}: {reason}")
    click.echo(
        f"stored {report.stored} (flagged {report.flagged}), already imported "
        f"{report.duplicates}, rejected {len(report.rejected)}"
    )
    if report.rejected:
        fail(f"{len(report.rejected)} row(s) rejected: see the lines above")
