"""Closing a billing period: every meter billed on its counting reading or an estimate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pokaznyk_core.domain.billing import (
    Basis,
    decide_bill,
    default_daily_consumption,
    in_service,
)
from pokaznyk_core.domain.estimates import EstimateReconciliation, daily_average, reconcile
from pokaznyk_core.domain.history import HISTORY_READINGS, is_baseline
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.window import Period, window_of
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.audit import record_audit
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.storage.tables import BillLine, Meter, PeriodClose, Reading
from pokaznyk_core.storage.transactions import write_transaction
from pokaznyk_core.storage.values import columns_from_values, spec_of, values_from_row

BATCH = 1000


@dataclass(frozen=True)
class PeriodCloseSummary:
    """How a period was billed."""

    period: Period
    actual: int
    estimated: int


def last_billed_on(earlier: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Of the readings before a period (oldest first), the one its bill counts from: the
    last taken in a window, else the last one."""
    in_window = [r for r in earlier if r["in_window"]]
    return in_window[-1] if in_window else (earlier[-1] if earlier else None)


def _counting(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The readings a bill may use, oldest first: the customer's own (`is_baseline`), so
    a phone caller's value that no reviewer has accepted is never billed."""
    return sorted(
        (r for r in rows if is_baseline(r["status"], r["flags"].split(","))),
        key=lambda r: (r["taken_on"], r["received_at"]),
    )


def _bill_meter(
    meter: Mapping[str, Any],
    period: Period,
    readings: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    spec = spec_of(meter)
    label = str(period)
    counting = _counting(readings)
    in_window = [r for r in counting if r["in_window"] and r["period"] == label]
    reading = in_window[-1] if in_window else None
    earlier = [r for r in counting if r["period"] < label]
    previous_actual = last_billed_on(earlier)
    last_actual = (
        values_from_row(previous_actual, spec)
        if previous_actual
        else values_from_row(meter, spec, prefix="initial_")
    )
    since = previous_actual["period"] if previous_actual else ""
    estimates = [
        values_from_row(line, spec, prefix="consumption_")
        for line in lines
        if line["basis"] == Basis.ESTIMATED.value and since < line["period"] < label
    ]
    history = daily_average(
        [(r["taken_on"], values_from_row(r, spec)) for r in earlier[-HISTORY_READINGS:]], spec
    )
    decision = decide_bill(
        spec,
        period.days,
        values_from_row(reading, spec) if reading else None,
        last_actual,
        estimates,
        history,
        default_daily_consumption(spec),
    )
    return {
        "basis": decision.basis.value,
        "reading": reading["id"] if reading else None,
        **columns_from_values(
            {z: spec.quantize(v) for z, v in decision.consumption.items()}, spec, "consumption_"
        ),
    }


async def close_period(
    context: ServiceContext, period: Period, *, actor: str
) -> PeriodCloseSummary:
    """Bill every meter in service for `period`, once; refuses while its window is open."""
    _, closes_on = window_of(period, context.window)
    if context.today() <= closes_on:
        raise ServiceError(
            Problem(
                Code.PERIOD_NOT_OVER, {"period": str(period), "closes_on": closes_on.isoformat()}
            ),
            f"period {period} cannot be closed before its window ends on {closes_on}",
        )
    now = context.now()
    counts = {Basis.ACTUAL.value: 0, Basis.ESTIMATED.value: 0}
    async with write_transaction():
        if await PeriodClose.exists().where(PeriodClose.period == str(period)):
            raise ServiceError(
                Problem(Code.PERIOD_ALREADY_CLOSED, {"period": str(period)}),
                f"period {period} is already closed",
            )
        await PeriodClose.insert(PeriodClose(period=str(period), closed_at=now, closed_by=actor))
        after_id = 0
        while True:
            meters = await (
                Meter.select()
                .where(Meter.id > after_id)
                .where(Meter.installed_on <= period.last_day)
                .order_by(Meter.id)
                .limit(BATCH)
            )
            if not meters:
                break
            after_id = meters[-1]["id"]
            meters = [
                m
                for m in meters
                if in_service(m["installed_on"], m["removed_on"], period.first_day, period.last_day)
            ]
            ids = [m["id"] for m in meters]
            if not ids:
                continue
            readings: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for r in await Reading.select().where(Reading.meter.is_in(ids)):
                readings[r["meter"]].append(r)
            lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for line in await BillLine.select().where(BillLine.meter.is_in(ids)):
                lines[line["meter"]].append(line)
            rows = []
            for meter in meters:
                bill = _bill_meter(meter, period, readings[meter["id"]], lines[meter["id"]])
                counts[bill["basis"]] += 1
                rows.append(BillLine(period=str(period), meter=meter["id"], created_at=now, **bill))
            await BillLine.insert(*rows)
        await record_audit(
            at=now,
            actor=actor,
            action="period.closed",
            entity="period",
            entity_id=str(period),
            details=counts,
        )
    return PeriodCloseSummary(
        period=period, actual=counts[Basis.ACTUAL.value], estimated=counts[Basis.ESTIMATED.value]
    )


def reconciliation_for(
    estimated_bills: Sequence[tuple[str, int | None, int | None, int | None]],
    spec: MeterSpec,
    earlier: Sequence[Mapping[str, Any]],
    initial: Mapping[Zone, Decimal],
    values: Mapping[Zone, Decimal],
) -> EstimateReconciliation | None:
    """What a new reading of `values` in a window tells of the estimates billed since the
    reading its period's bill will count from (`last_billed_on` of the `earlier` readings,
    oldest first; the meter's `initial` reading without one), as the bill will settle them:
    the estimated bills (read before the new reading's period: period and consumption per
    zone column) against what the meter counted since. None when nothing was estimated."""
    previous = last_billed_on(earlier)
    since_period = previous["period"] if previous else ""
    estimated_periods = [line for line in estimated_bills if line[0] > since_period]
    lines = [
        {"consumption_1": c1, "consumption_2": c2, "consumption_3": c3}
        for _period, c1, c2, c3 in estimated_periods
    ]
    if not lines:
        return None
    estimated = sum(
        (
            sum(values_from_row(line, spec, prefix="consumption_").values(), Decimal(0))
            for line in lines
        ),
        Decimal(0),
    )
    last = values_from_row(previous, spec) if previous else initial
    actual = sum((spec.advance(last[zone], values[zone]) for zone in spec.zones), Decimal(0))
    return reconcile(estimated, actual, [str(line[0]) for line in estimated_periods])
