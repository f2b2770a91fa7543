"""Importing readings from a CSV file (bulk files, smart meters) through the same service."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from pokaznyk_core.domain.eic import validate_eic
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.values import parse_value
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.readings import ReadingSubmission, load_meter, submit_reading
from pokaznyk_core.storage.tables import Meter, MeteringPoint

IMPORT_NAMESPACE = uuid.UUID("6f1d8f0c-2a51-4a4e-9d0e-7b1c3f2a9e10")
REQUIRED_COLUMNS = {"eic", "taken_on"}
ZONE_COLUMNS = {zone.value for zone in Zone}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (wrong header, not CSV)."""


@dataclass
class ImportReport:
    """What an import did, row by row."""

    stored: int = 0
    duplicates: int = 0
    flagged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


async def _meter_at(eic: str, taken_on: date) -> int | None:
    point = await MeteringPoint.select(MeteringPoint.id).where(MeteringPoint.eic == eic).first()
    if point is None:
        return None
    meters = await Meter.select(Meter.id, Meter.installed_on, Meter.removed_on).where(
        Meter.metering_point == point["id"]
    )
    for meter in sorted(meters, key=lambda m: m["installed_on"], reverse=True):
        if meter["installed_on"] <= taken_on and (
            meter["removed_on"] is None or taken_on <= meter["removed_on"]
        ):
            return int(meter["id"])
    return None


async def import_readings(
    context: ServiceContext, text: str, *, source: str, locale: str = "en"
) -> ImportReport:
    """Import every row of a CSV text: `eic,taken_on,<zone columns>[,id]`.

    Each row goes through `submit_reading` with channel `import`; its id is the row's `id`
    column or derived from the row's content, so importing a file twice stores nothing new.
    Values with more decimals than the meter shows are truncated, never rounded.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = {h.strip().lower() for h in (reader.fieldnames or [])}
    if not header >= REQUIRED_COLUMNS or not header & ZONE_COLUMNS:
        raise ImportFileError(
            "the first line must name the columns: eic, taken_on and the zones "
            "(total, or day and night, or peak, half_peak and night); id is optional"
        )
    report = ImportReport()
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        problem = await _import_row(context, row, source=source, report=report)
        if problem is not None:
            report.rejected.append(
                (number, problem if isinstance(problem, str) else render(problem, locale))
            )
    return report


async def _import_row(
    context: ServiceContext, row: dict[str, str], *, source: str, report: ImportReport
) -> Problem | str | None:
    eic = validate_eic(row["eic"])
    if isinstance(eic, Problem):
        return eic
    try:
        taken_on = date.fromisoformat(row["taken_on"])
    except ValueError:
        return f"taken_on {row['taken_on']!r} is not a date (YYYY-MM-DD)"
    meter_id = await _meter_at(eic, taken_on)
    if meter_id is None:
        return f"no meter in service at {eic} on {taken_on}"
    meter = await load_meter(meter_id)
    values: dict[Zone, Decimal] = {}
    for zone in meter.spec.zones:
        parsed = parse_value(row.get(zone.value, ""), meter.spec, truncate_extra_decimals=True)
        if isinstance(parsed, Problem):
            return Problem(parsed.code, parsed.params, zone.value)
        values[zone] = parsed
    try:
        reading_id = uuid.UUID(row["id"]) if row.get("id") else None
    except ValueError:
        return f"id {row['id']!r} is not a UUID"
    if reading_id is None:
        key = "|".join([eic, taken_on.isoformat(), *(str(values[z]) for z in meter.spec.zones)])
        reading_id = uuid.uuid5(IMPORT_NAMESPACE, key)
    try:
        outcome = await submit_reading(
            context,
            ReadingSubmission(
                reading_id=reading_id,
                meter_id=meter_id,
                values=values,
                channel=Channel.IMPORT,
                submitted_by=f"import:{source}"[:80],
                taken_on=taken_on,
                source=source,
            ),
        )
    except ServiceError as error:
        return error.problem
    if outcome.duplicate:
        report.duplicates += 1
    elif outcome.stored:
        report.stored += 1
        report.flagged += int(outcome.flagged)
    else:
        return outcome.verdict.problems[0] if outcome.verdict.problems else "rejected"
    return None
