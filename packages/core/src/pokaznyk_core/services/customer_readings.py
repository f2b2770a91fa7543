"""What a customer sees of an account on the web: its meters, the instant checks of typed
values, the reading history and the consumption by month.

The web form, the cabinet and their instant checks all use these; the checks themselves
are the domain's (`check_typed_reading`), run against the same baseline and history that
`submit_reading` uses, so what the page says while typing is what the service decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pokaznyk_core.domain.billing import Basis, default_daily_consumption
from pokaznyk_core.domain.checks import (
    ConsumptionHistory,
    PlausibilityLimits,
    PreviousReading,
    ReadingVerdict,
    check_typed_reading,
)
from pokaznyk_core.domain.estimates import daily_average, estimate_consumption
from pokaznyk_core.domain.history import PastReading, previous_and_history
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.window import Period, Placement, place_reading
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.listings import format_address
from pokaznyk_core.services.reading_store import baseline_sql
from pokaznyk_core.storage.tables import Account, BillLine, Meter, Reading
from pokaznyk_core.storage.values import spec_of, values_from_row


@dataclass(frozen=True)
class MeterFacts:
    """A meter in service as the form shows it and its checks need it."""

    meter_id: int
    serial: str
    eic: str
    spec: MeterSpec
    installed_on: date
    last_taken_on: date | None
    last_values: Mapping[Zone, Decimal]
    """The latest counting reading (or the initial one): shown, and "no consumption"."""
    baseline: PreviousReading
    """What a new reading today is compared with (earlier in-window ones excluded)."""
    history: ConsumptionHistory | None

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The meter's zones in display order."""
        return self.spec.zones

    def last_text(self, zone: Zone) -> str:
        """The last value of ``zone`` in storage form (``1234.5``)."""
        return self.spec.format(self.last_values[zone])


@dataclass(frozen=True)
class AccountMeters:
    """An active account with its metering points and the meters in service."""

    account_id: int
    number: str
    address: str
    meters: tuple[MeterFacts, ...]

    def meter(self, meter_id: int) -> MeterFacts | None:
        """One of the account's meters in service, or None."""
        return next((m for m in self.meters if m.meter_id == meter_id), None)


def _baseline(
    readings: Sequence[Mapping[str, Any]],
    spec: MeterSpec,
    installed_on: date,
    initial: Mapping[Zone, Decimal],
    current: Period | None,
) -> tuple[PreviousReading, ConsumptionHistory | None]:
    """The previous reading and the history, leaving out this window's own readings."""
    past = [
        PastReading(r["taken_on"], values_from_row(r, spec), r["period"], bool(r["in_window"]))
        for r in readings
    ]
    placement = Placement(period=current, in_window=True) if current is not None else None
    return previous_and_history(
        past, placement, meter=spec, installed_on=installed_on, initial=dict(initial)
    )


async def _counting(meter_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The meters' readings that count as the customer's (`domain.history.is_baseline`),
    newest first."""
    by_meter: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not meter_ids:
        return by_meter
    meters = ", ".join(str(int(m)) for m in meter_ids)
    rows = await Reading.raw(
        f"SELECT * FROM reading WHERE meter IN ({meters}) AND {baseline_sql()}"
        " ORDER BY taken_on DESC, received_at DESC"
    )
    for row in rows:
        by_meter[row["meter"]].append(row)
    return by_meter


async def load_account_meters(context: ServiceContext, account_id: int) -> AccountMeters | None:
    """The account's meters in service with their last readings, or None when the account
    does not exist or is closed."""
    account = await Account.select().where(Account.id == account_id).first()
    if account is None or account["status"] != "active":
        return None
    today = context.today()
    placement = place_reading(today, context.window)
    current = placement.period if placement.in_window else None
    meters = await (
        Meter.select(Meter.all_columns(), Meter.metering_point.eic.as_alias("eic"))
        .where(Meter.metering_point.account == account_id)
        .where(Meter.removed_on.is_null())
        .order_by(Meter.metering_point)
        .order_by(Meter.id)
    )
    readings = await _counting([m["id"] for m in meters])
    facts = []
    for m in meters:
        spec = spec_of(m)
        initial = values_from_row(m, spec, prefix="initial_")
        own = readings.get(m["id"], [])
        baseline, history = _baseline(own, spec, m["installed_on"], initial, current)
        facts.append(
            MeterFacts(
                meter_id=m["id"],
                serial=m["serial"],
                eic=m["eic"],
                spec=spec,
                installed_on=m["installed_on"],
                last_taken_on=own[0]["taken_on"] if own else None,
                last_values=values_from_row(own[0], spec) if own else initial,
                baseline=baseline,
                history=history,
            )
        )
    return AccountMeters(
        account_id=account["id"],
        number=account["number"],
        address=format_address(account),
        meters=tuple(facts),
    )


def check_meter_texts(
    meter: MeterFacts,
    texts: Mapping[Zone, str],
    today: date,
    limits: PlausibilityLimits,
) -> tuple[dict[Zone, Decimal], ReadingVerdict]:
    """Parse and check what was typed for every zone of ``meter``, taken today."""
    return check_typed_reading(
        meter.spec,
        texts,
        today,
        today,
        meter.baseline,
        meter.history,
        limits,
        installed_on=meter.installed_on,
    )


def check_zone_text(
    meter: MeterFacts, zone: Zone, text: str, today: date, limits: PlausibilityLimits
) -> Problem | None:
    """The problem with the value typed for one zone, or None.

    The other zones are taken as unchanged, so only this zone's own faults show (not a
    number, too many digits, lower than its previous value…).
    """
    texts = {
        z: text if z == zone else meter.spec.format(meter.baseline.values[z]) for z in meter.zones
    }
    _, verdict = check_meter_texts(meter, texts, today, limits)
    return next((p for p in verdict.problems if p.field in (zone.value, None)), None)


@dataclass(frozen=True)
class HistoryEntry:
    """One stored reading as the customer's history lists it."""

    receipt: str
    serial: str
    values: tuple[tuple[Zone, str], ...]
    taken_on: date
    received_at: datetime
    channel: str
    status: str
    period: str
    in_window: bool


async def reading_history(account_id: int, limit: int = 60) -> list[HistoryEntry]:
    """The account's stored readings, newest first."""
    rows = await (
        Reading.select(
            Reading.all_columns(),
            Reading.meter.serial.as_alias("serial"),
            Reading.meter.digits.as_alias("m_digits"),
            Reading.meter.decimals.as_alias("m_decimals"),
            Reading.meter.zone_count.as_alias("m_zone_count"),
        )
        .where(Reading.account == account_id)
        .order_by(Reading.taken_on, ascending=False)
        .order_by(Reading.received_at, ascending=False)
        .limit(limit)
    )
    entries = []
    for r in rows:
        spec = spec_of(r, prefix="m_")
        values = values_from_row(r, spec)
        entries.append(
            HistoryEntry(
                receipt=r["receipt"],
                serial=r["serial"],
                values=tuple((z, spec.format(values[z])) for z in spec.zones),
                taken_on=r["taken_on"],
                received_at=r["received_at"],
                channel=r["channel"],
                status=r["status"],
                period=r["period"],
                in_window=bool(r["in_window"]),
            )
        )
    return entries


@dataclass(frozen=True)
class MonthConsumption:
    """kWh per zone in one period, measured (``actual``) or estimated."""

    period: Period
    actual: bool
    kwh: Mapping[Zone, Decimal]

    @property
    def total(self) -> Decimal:
        """kWh over all zones."""
        return sum(self.kwh.values(), Decimal(0))


@dataclass(frozen=True)
class MeterConsumption:
    """The consumption of one meter over recent months."""

    meter_id: int
    serial: str
    zones: tuple[Zone, ...]
    months: tuple[MonthConsumption, ...]


def _month_readings(
    readings: Sequence[Mapping[str, Any]], spec: MeterSpec
) -> dict[Period, tuple[date, dict[Zone, Decimal]]]:
    """The reading that counts for each period: the latest one of that period."""
    chosen: dict[Period, tuple[date, dict[Zone, Decimal]]] = {}
    for r in sorted(readings, key=lambda r: (r["taken_on"], r["received_at"])):
        period = Period.parse(r["period"])
        if isinstance(period, Period):
            chosen[period] = (r["taken_on"], values_from_row(r, spec))
    return chosen


def meter_months(
    spec: MeterSpec,
    installed_on: date,
    initial: Mapping[Zone, Decimal],
    readings: Sequence[Mapping[str, Any]],
    last_period: Period,
    months: int,
) -> list[MonthConsumption]:
    """Consumption per period up to ``last_period``: measured where the period has a
    reading, otherwise estimated from the history before it (as billing estimates it).

    A measured month after estimated ones gets what the reading shows since the previous
    actual reading, less what those months were estimated at (never below zero).
    """
    by_period = _month_readings(readings, spec)
    default = default_daily_consumption(spec)  # the same default billing uses
    start = Period.of(installed_on)
    periods: list[Period] = []
    cursor = last_period
    while len(periods) < months and cursor >= start:
        periods.append(cursor)
        cursor = cursor.previous()
    periods.reverse()
    actual_points: list[tuple[date, Mapping[Zone, Decimal]]] = [(installed_on, dict(initial))]
    actual_points += [
        by_period[p] for p in sorted(by_period) if p < (periods[0] if periods else start)
    ]
    estimated_since: dict[Zone, Decimal] = dict.fromkeys(spec.zones, Decimal(0))
    result = []
    for period in periods:
        if period in by_period:
            taken_on, values = by_period[period]
            before = actual_points[-1][1]
            kwh = {
                z: max(Decimal(0), spec.advance(before[z], values[z]) - estimated_since[z])
                if z in before
                else Decimal(0)
                for z in spec.zones
            }
            actual_points.append((taken_on, values))
            estimated_since = dict.fromkeys(spec.zones, Decimal(0))
            result.append(MonthConsumption(period, True, kwh))
            continue
        history = daily_average(actual_points, spec)
        estimate = estimate_consumption(history, period.days, default)
        for z in spec.zones:
            estimated_since[z] += estimate.get(z, Decimal(0))
        result.append(MonthConsumption(period, False, estimate))
    return result


async def _bill_lines(meter_ids: Sequence[int]) -> dict[int, dict[str, dict[str, Any]]]:
    lines: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    if meter_ids:
        for row in await BillLine.select().where(BillLine.meter.is_in(list(meter_ids))):
            lines[row["meter"]][row["period"]] = row
    return lines


def _billed_month(
    month: MonthConsumption, line: Mapping[str, Any] | None, spec: MeterSpec
) -> MonthConsumption:
    """The month as billed when its period was closed, else as computed."""
    if line is None:
        return month
    kwh = {
        zone: spec.from_units(int(line[f"consumption_{index}"] or 0))
        for index, zone in enumerate(spec.zones, start=1)
    }
    return MonthConsumption(month.period, line["basis"] == Basis.ACTUAL.value, kwh)


async def monthly_consumption(
    context: ServiceContext, account_id: int, months: int = 12
) -> list[MeterConsumption]:
    """Consumption by month per zone of each meter in service, the last ``months`` periods.

    The current period is included only once it has a reading. A closed period shows
    what was billed (its bill line, actual or estimated); an open one what the readings
    show, months without one estimated as billing would.
    """
    meters = await (
        Meter.select()
        .where(Meter.metering_point.account == account_id)
        .where(Meter.removed_on.is_null())
        .order_by(Meter.id)
    )
    readings = await _counting([m["id"] for m in meters])
    billed = await _bill_lines([m["id"] for m in meters])
    current = place_reading(context.today(), context.window).period
    result = []
    for m in meters:
        spec = spec_of(m)
        own = readings.get(m["id"], [])
        has_current = any(r["period"] == str(current) for r in own)
        last = current if has_current else current.previous()
        months_list = meter_months(
            spec,
            m["installed_on"],
            values_from_row(m, spec, prefix="initial_"),
            own,
            last,
            months,
        )
        lines = billed.get(m["id"], {})
        months_list = [
            _billed_month(month, lines.get(str(month.period)), spec) for month in months_list
        ]
        result.append(MeterConsumption(m["id"], m["serial"], spec.zones, tuple(months_list)))
    return result
